"""Convert MiniVision's released MiniFASNet state dicts (Apache-2.0) to the ONNX files facekyc ships.

Needs torch (the CPU wheel) and `onnx` (the exporter writes through it), nothing of facekyc: the networks
are rebuilt from `minifasnet_net.py` beside this script, the state dicts loaded strictly, and each exported with a fixed
1x3x80x80 float input named `input` (raw 0-255 BGR) and a softmax over the 3 classes as output `prob`
(class 1 = real), so the runtime needs no post-processing but the mean over the two models.

    python tools/minifasnet/to_onnx.py ../shared/models/minifasnet facekyc/vision/liveness/models/minifasnet

Then update the SHA-256 rows of the README's liveness section (tests/liveness/test_minifasnet_onnx.py
checks them).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
import minifasnet_net

# (released state dict, architecture, shipped ONNX file): the ONNX names are facekyc's MODELS table
CONVERSIONS = (("2.7_80x80_MiniFASNetV2.pth", "v2", "minifasnet_v2_2.7.onnx"),
               ("4_0_0_80x80_MiniFASNetV1SE.pth", "v1se", "minifasnet_v1se_4.0.onnx"))
OPSET = 17


class WithSoftmax(nn.Module):  # type: ignore[misc, unused-ignore]
    """The released network followed by a softmax, so the ONNX output is the class probabilities."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(x), dim=1)


def export(src: Path, kind: str, dst: Path) -> None:
    """Rebuild, load strictly, export with a fixed batch of one (the runtime scores one crop at a time)."""
    model = WithSoftmax(minifasnet_net.load(kind, str(src))).eval()
    torch.onnx.export(model, (torch.zeros(1, 3, 80, 80),), str(dst), input_names=["input"], output_names=["prob"],
                      opset_version=OPSET, dynamo=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("weights", type=Path, help="folder holding the two released .pth files")
    parser.add_argument("out", type=Path, help="folder for the .onnx files")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for pth, kind, onnx_name in CONVERSIONS:
        dst = args.out / onnx_name
        export(args.weights / pth, kind, dst)
        print(f"{dst}  sha256 {hashlib.sha256(dst.read_bytes()).hexdigest()}  ({dst.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
