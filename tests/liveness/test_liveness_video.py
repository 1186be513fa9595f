"""decode_upload: webm/mp4 bytes to timestamped frames under hard limits, typed errors otherwise."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from facekyc.errors import InputError, UnsupportedMediaType, VideoTooLarge, VideoTooLong, VideoUnreadable
from facekyc.vision.liveness.video import VideoLimits, decode_upload, media_type


def _write_video(path: Path, fourcc: str, n: int = 20, fps: float = 20.0) -> bool:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (160, 120))
    if not writer.isOpened():
        return False
    for i in range(n):
        img = np.full((120, 160, 3), 40, np.uint8)
        cv2.circle(img, (20 + 6 * i, 60), 15, (0, 200, 255), -1)
        writer.write(img)
    writer.release()
    return path.stat().st_size > 0


def test_real_mp4_decodes_thinned_with_timestamps(liveness_dir: Path) -> None:
    data = (liveness_dir / "real_mouth_open_blink.mp4").read_bytes()
    frames = decode_upload(data, "video/mp4")
    t = np.array([f.t_ms for f in frames])
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    assert 60 <= len(frames) <= 80  # 7.2 s thinned from 30 to 10 fps
    assert np.allclose(np.diff(t), 100.0, atol=1.0)
    assert max(frames[0].bgr.shape[:2]) <= 640


def test_synthetic_mp4_and_webm(tmp_path: Path) -> None:
    mp4 = tmp_path / "a.mp4"
    if not _write_video(mp4, "mp4v"):
        pytest.skip("OpenCV cannot write mp4 here")
    frames = decode_upload(mp4.read_bytes(), "video/mp4; codecs=mp4v", VideoLimits(target_fps=30))
    assert len(frames) == 20
    assert frames[1].t_ms == pytest.approx(50.0, abs=1.0)
    webm = tmp_path / "a.webm"
    if not _write_video(webm, "VP80"):
        pytest.skip("OpenCV cannot write VP8 webm here")
    frames = decode_upload(webm.read_bytes(), "video/webm;codecs=vp8", VideoLimits(target_fps=30))
    assert len(frames) == 20


def test_errors_are_typed(tmp_path: Path) -> None:
    assert media_type("Video/WebM; codecs=vp9") == "video/webm"
    with pytest.raises(UnsupportedMediaType) as exc:
        decode_upload(b"x", "image/gif")
    assert exc.value.status == 415
    with pytest.raises(VideoUnreadable):
        decode_upload(b"", "video/mp4")
    with pytest.raises(VideoUnreadable):
        decode_upload(b"not a video at all, just text padding", "video/webm")
    with pytest.raises(VideoUnreadable):  # right magic, garbage body
        decode_upload(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200, "video/mp4")
    with pytest.raises(VideoTooLarge):
        decode_upload(b"\x1a\x45\xdf\xa3" + b"\x00" * 100, "video/webm", VideoLimits(max_bytes=50))
    mp4 = tmp_path / "b.mp4"
    if not _write_video(mp4, "mp4v", n=40, fps=20):
        pytest.skip("OpenCV cannot write mp4 here")
    with pytest.raises(VideoTooLong):
        decode_upload(mp4.read_bytes(), "video/mp4", VideoLimits(max_duration_s=1.0))
    with pytest.raises(VideoTooLong):
        decode_upload(mp4.read_bytes(), "video/mp4", VideoLimits(max_frames=5, target_fps=30))
    assert issubclass(VideoUnreadable, InputError)
