"""Review-evidence cost: what keeping a reviewer's face crop adds to a capture upload and to a case sent
to review, measured beside the face analysis each one already runs on the same image.

    python bench/bench_evidence.py --data ../shared/data [--runs 30]

Per image (LFW, upscaled to 640x480 like a webcam frame): the aligned 200x240 crop as JPEG, its
AES-256-GCM sealing under a fresh data key (wrapped by a local key ring), and for comparison
`FaceEngine.analyse` of the same frame (detect, quality, both recognisers). Prints medians in ms and
the crop's share of the analysis.
"""

from __future__ import annotations

import argparse
import base64
import secrets
import statistics
from functools import partial
from pathlib import Path

import cv2
from bench_engine import _median_ms as median_ms  # the same timing loop as the engine benchmark

from facekyc.crypto import LocalKeyring
from facekyc.registry.vault import Vault
from facekyc.vision.engine import FaceEngine
from facekyc.vision.evidence_crop import face_crop_jpeg
from facekyc.vision.image import decode_image, encode_jpeg

PEOPLE = ("Colin_Powell_0038", "Tony_Blair_0006", "Donald_Rumsfeld_0022", "Laura_Bush_0004")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="../shared/data")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    engine = FaceEngine()
    vault = Vault(LocalKeyring.from_base64(base64.b64encode(secrets.token_bytes(32)).decode()))
    crop_ms, seal_ms, analyse_ms, sizes = [], [], [], []
    for key in PEOPLE:
        path = args.data / "lfw-view1" / "images" / key.rsplit("_", 1)[0] / f"{key}.jpg"
        frame = cv2.resize(decode_image(path.read_bytes()).bgr, (640, 480), interpolation=cv2.INTER_CUBIC)
        face = engine.analyse(encode_jpeg(frame), policy="primary").face
        crop = face_crop_jpeg(frame, face)
        assert crop is not None
        sizes.append(len(crop))

        def seal(data: bytes = crop) -> bytes:
            data_key, _wrapped = vault.new_key("evidence:bench")
            return vault.seal(data_key, data, "evidence:bench", "live")

        crop_ms.append(median_ms(partial(face_crop_jpeg, frame, face), args.runs))
        seal_ms.append(median_ms(seal, args.runs))
        analyse_ms.append(median_ms(partial(engine.analyse, frame, policy="primary"), args.runs))
    crop, sealed, analysed = statistics.median(crop_ms), statistics.median(seal_ms), statistics.median(analyse_ms)
    print(f"images: {len(PEOPLE)}, runs each: {args.runs}")
    print(f"face crop (align + JPEG)      {crop:7.2f} ms   crop size {statistics.median(sizes) / 1024:.1f} KiB")
    print(f"seal (new data key + AES-GCM) {sealed:7.2f} ms")
    print(f"analyse the same frame (peer) {analysed:7.2f} ms")
    print(f"evidence / analysis           {(crop + sealed) / analysed:7.1%}")


if __name__ == "__main__":
    main()
