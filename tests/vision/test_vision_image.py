"""Image intake: every format decodes, every bad input gets its typed code, nothing crashes."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from facekyc.errors import ImageTooLarge, ImageUnreadable
from facekyc.vision.image import decode_image


def _encode(img: Image.Image, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="module")
def face_rgb(lfw_images: Path) -> Image.Image:
    return Image.open(lfw_images / "Colin_Powell" / "Colin_Powell_0038.jpg").convert("RGB")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "JPEG2000"])
def test_formats_decode_to_the_same_picture(face_rgb: Image.Image, fmt: str) -> None:
    decoded = decode_image(_encode(face_rgb, fmt, quality=95) if fmt != "JPEG2000" else _encode(face_rgb, fmt))
    assert decoded.size == face_rgb.size
    original = np.asarray(face_rgb, np.float64)[:, :, ::-1]
    assert np.abs(decoded.bgr.astype(np.float64) - original).mean() < 6.0  # lossy codecs differ a little
    assert decoded.bgr.dtype == np.uint8 and decoded.bgr.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("mode", ["L", "RGBA", "CMYK", "P", "I;16", "LA"])
def test_modes_are_converted_to_bgr8(face_rgb: Image.Image, mode: str) -> None:
    if mode == "I;16":
        gray16 = (np.asarray(face_rgb.convert("L"), np.uint16) * 257).astype(np.uint16)
        img = Image.fromarray(gray16)
        assert img.mode.startswith("I;16")
        fmt = "PNG"
    else:
        img = face_rgb.convert(mode)
        fmt = "JPEG" if mode in ("L", "CMYK") else "PNG"
    decoded = decode_image(_encode(img, fmt))
    assert decoded.bgr.shape == (face_rgb.size[1], face_rgb.size[0], 3)
    gray = np.asarray(face_rgb.convert("L"), np.float64)
    assert abs(decoded.bgr.mean() - gray.mean()) < 25  # content kept, not blanked or clipped


def test_transparent_pixels_become_white() -> None:
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    decoded = decode_image(_encode(img, "PNG"))
    assert decoded.bgr.min() == 255


def test_exif_orientation_is_applied(face_rgb: Image.Image) -> None:
    rotated = face_rgb.transpose(Image.Transpose.ROTATE_90)  # stored sideways...
    exif = Image.Exif()
    exif[0x0112] = 6  # ...and EXIF says: rotate 90 degrees clockwise to display
    decoded = decode_image(_encode(rotated, "JPEG", quality=95, exif=exif.tobytes()))
    assert decoded.exif_rotated
    assert decoded.size == face_rgb.size
    original = np.asarray(face_rgb, np.float64)[:, :, ::-1]
    assert np.abs(decoded.bgr.astype(np.float64) - original).mean() < 6.0


@pytest.mark.parametrize("data", [b"", b"hello, not an image", b"\xff\xd8\xff\xe0" + b"\x00" * 40,
                                  b"GIF89a" + b"\x00" * 100, bytes(range(256)) * 8])
def test_garbage_is_unreadable(data: bytes) -> None:
    with pytest.raises(ImageUnreadable) as info:
        decode_image(data)
    assert info.value.code == "image_unreadable"


def test_truncated_jpeg_is_unreadable(face_rgb: Image.Image) -> None:
    data = _encode(face_rgb, "JPEG")
    with pytest.raises(ImageUnreadable):
        decode_image(data[: len(data) // 3])


def test_unsupported_format_is_refused(face_rgb: Image.Image) -> None:
    with pytest.raises(ImageUnreadable, match="unsupported image format"):
        decode_image(_encode(face_rgb, "BMP"))


def test_tiny_image_is_refused() -> None:
    with pytest.raises(ImageUnreadable, match="at least"):
        decode_image(_encode(Image.new("RGB", (16, 16)), "PNG"))


def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _encode(Image.new("L", (12_000, 12_000)), "PNG")  # 144 Mpx of zeros: a few hundred KB
    assert len(bomb) < 1_000_000
    with pytest.raises(ImageTooLarge) as info:
        decode_image(bomb, max_pixels=40_000_000)
    assert info.value.code == "image_too_large" and info.value.status == 413


def test_pixel_limit_is_configurable(face_rgb: Image.Image) -> None:
    with pytest.raises(ImageTooLarge):
        decode_image(_encode(face_rgb, "PNG"), max_pixels=100 * 100)
