"""Image intake: decode untrusted bytes into an 8-bit BGR array, or fail with a typed error.

Handles JPEG, PNG, WebP and JPEG 2000 (chip portraits), applies EXIF orientation and converts
grayscale, palette, RGBA, CMYK and 16-bit images. A pixel limit is checked from the header before
any pixel is decoded, so a decompression bomb costs nothing; so is a side limit (MAX_SIDE), so no image
reaches a step that cannot handle its width (cv2.warpAffine refuses sides beyond 32767).
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from facekyc.errors import ImageTooLarge, ImageUnreadable

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "JPEG2000", "MPO"})
DEFAULT_MAX_PIXELS = 40_000_000
MAX_SIDE = 16_384  # OpenCV's warps stop at 32767 px (SHRT_MAX); nothing a camera or scanner sends is this wide
MIN_SIDE = 32


@dataclass(frozen=True)
class DecodedImage:
    """A decoded image: BGR uint8 pixels plus what the container said about it."""

    bgr: np.ndarray
    format: str
    original_size: tuple[int, int]
    exif_rotated: bool

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) after orientation."""
        return int(self.bgr.shape[1]), int(self.bgr.shape[0])


def decode_image(data: bytes, *, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int = MAX_SIDE,
                 draft_side: int = 0) -> DecodedImage:
    """Decode image bytes; raises ImageUnreadable or ImageTooLarge, never anything else. With
    `draft_side`, a JPEG at least twice that size is decoded at 1/2..1/8 scale in the DCT (Pillow's
    draft mode: far less work), its longer side staying >= draft_side."""
    if not data:
        raise ImageUnreadable("the image is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data))
            fmt = str(img.format or "")
            if fmt not in ACCEPTED_FORMATS:
                raise ImageUnreadable(f"unsupported image format {fmt or 'unknown'}; use JPEG, PNG, WebP or JPEG 2000")
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(f"image has {width}x{height} pixels; the limit is {max_pixels} pixels")
            if max(width, height) > max_side:
                raise ImageTooLarge(f"image is {width}x{height} pixels; at most {max_side} px per side")
            if min(width, height) < MIN_SIDE:
                raise ImageUnreadable(f"image is only {width}x{height} pixels; at least {MIN_SIDE} px per side")
            if draft_side and fmt == "JPEG" and max(width, height) >= 2 * draft_side:
                scale = draft_side / max(width, height)
                img.draft("RGB", (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
            img.load()
            rotated = ImageOps.exif_transpose(img)
            exif_rotated = _has_orientation(img)
            rgb = _to_rgb8(rotated)
            rotated.close()  # drop Pillow's pixels before the BGR copy is made: a lower peak per upload
            img.close()
    except (ImageUnreadable, ImageTooLarge):
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageTooLarge("image exceeds the decompression limit") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError) as exc:
        raise ImageUnreadable("the bytes are not a readable image") from exc
    except Exception as exc:  # Pillow plugins raise assorted errors on hostile input
        raise ImageUnreadable("the image could not be decoded") from exc
    bgr = np.ascontiguousarray(rgb[:, :, ::-1])
    return DecodedImage(bgr=bgr, format=fmt, original_size=(width, height), exif_rotated=exif_rotated)


def _has_orientation(img: Image.Image) -> bool:
    """True when EXIF says the stored pixels are not upright."""
    try:
        return int(img.getexif().get(0x0112, 1)) not in (0, 1)
    except Exception:
        return False


def _to_rgb8(img: Image.Image) -> np.ndarray:
    """Any Pillow mode to an RGB uint8 array; 16-bit data is scaled, not clipped."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") or arr.max() > 255 else 255.0
        gray = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        gray = np.zeros(arr.shape, np.uint8) if hi <= lo else ((arr - lo) / (hi - lo) * 255).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    arr = np.asarray(img if img.mode == "RGB" else img.convert("RGB"), dtype=np.uint8)  # RGB: no extra copy
    return arr


def encode_jpeg(bgr: np.ndarray, quality: int = 92) -> bytes:
    """BGR array to JPEG bytes (for retained images and test fixtures)."""
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(bgr[:, :, ::-1])).save(buf, format="JPEG", quality=quality)
    return buf.getvalue()
