"""MiniFASNetV2 and MiniFASNetV1SE networks, written from the released state dicts' names and shapes.

Used only by `tools/minifasnet/to_onnx.py` (needs torch); the facekyc package runs the converted ONNX files.
Layout (80x80 input, every conv without bias, BatchNorm after each, PReLU except on projections):
conv1 3x3/2 -> conv2_dw 3x3 depthwise -> [expand 1x1, depthwise 3x3, project 1x1] blocks, strided ones
(conv_23, conv_34, conv_45: 40 -> 20 -> 10 -> 5 px) between residual stages (conv_3, conv_4, conv_5),
squeeze-excitation on the last block of each stage in V1SE -> conv_6_sep 1x1 to 512 -> conv_6_dw 5x5
depthwise to 1x1 -> linear 512->128 -> BatchNorm1d -> prob 128->3 logits (class 1 = real).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import torch
from torch import nn

# expansion widths of each block, read off the state dicts (conv.conv.weight out-channels)
STEM_WIDTH = {"conv_23": 103, "conv_34": 231, "conv_45": 308}
STAGE_WIDTHS: dict[str, dict[str, list[int]]] = {
    "v2": {"conv_3": [13, 13, 13, 13], "conv_4": [231, 52, 26, 77, 26, 26], "conv_5": [26, 26]},
    "v1se": {"conv_3": [13, 26, 13, 52], "conv_4": [154, 52, 26, 52, 26, 26], "conv_5": [26, 26]},
}
STAGE_CHANNELS = {"conv_3": 64, "conv_4": 128, "conv_5": 128}
SE_REDUCTION = 4  # 64 -> 16 and 128 -> 32 in the V1SE state dict
EMBEDDING = 128
CLASSES = 3


def conv_unit(c_in: int, c_out: int, kernel: int = 1, stride: int = 1, padding: int = 0, groups: int = 1,
              act: bool = True) -> nn.Sequential:
    """conv (no bias) + BatchNorm (+ PReLU): the `x.conv`, `x.bn`, `x.prelu` keys of the state dict."""
    parts: OrderedDict[str, nn.Module] = OrderedDict(
        conv=nn.Conv2d(c_in, c_out, kernel, stride, padding, groups=groups, bias=False),
        bn=nn.BatchNorm2d(c_out))
    if act:
        parts["prelu"] = nn.PReLU(c_out)
    return nn.Sequential(parts)


def separable(c_in: int, width: int, c_out: int, stride: int) -> OrderedDict[str, nn.Module]:
    """Inverted-bottleneck body: 1x1 expand, 3x3 depthwise (strided or not), linear 1x1 projection."""
    return OrderedDict(conv=conv_unit(c_in, width), conv_dw=conv_unit(width, width, 3, stride, 1, groups=width),
                       project=conv_unit(width, c_out, act=False))


def squeeze_excite(channels: int) -> nn.Sequential:
    """Channel gate in (0, 1): global pool, 1x1 reduce, BN, ReLU, 1x1 expand, BN, sigmoid."""
    reduced = channels // SE_REDUCTION
    return nn.Sequential(OrderedDict(
        pool=nn.AdaptiveAvgPool2d(1), fc1=nn.Conv2d(channels, reduced, 1, bias=False), bn1=nn.BatchNorm2d(reduced),
        relu=nn.ReLU(inplace=True), fc2=nn.Conv2d(reduced, channels, 1, bias=False), bn2=nn.BatchNorm2d(channels),
        gate=nn.Sigmoid()))


# torch is Any to mypy where it is not installed; the ignore keeps --strict clean both ways
class Residual(nn.Module):  # type: ignore[misc, unused-ignore]
    """Stride-1 separable block with an identity shortcut, optionally gated by squeeze-excitation."""

    def __init__(self, channels: int, width: int, se: bool) -> None:
        super().__init__()
        body = separable(channels, width, channels, 1)
        self.conv, self.conv_dw, self.project = body["conv"], body["conv_dw"], body["project"]
        self.se_module = squeeze_excite(channels) if se else None

    def forward(self, x: Any) -> Any:
        y = self.project(self.conv_dw(self.conv(x)))
        if self.se_module is not None:
            y = y * self.se_module(y)
        return x + y


def stage(channels: int, widths: list[int], se_last: bool) -> nn.Sequential:
    """A run of residual blocks under the `model` key, as in the state dict (`conv_3.model.0...`)."""
    blocks = [Residual(channels, w, se_last and i == len(widths) - 1) for i, w in enumerate(widths)]
    return nn.Sequential(OrderedDict(model=nn.Sequential(*blocks)))


def build(kind: str) -> nn.Sequential:
    """MiniFASNetV2 (`v2`) or MiniFASNetV1SE (`v1se`), in eval mode, for 80x80 BGR input."""
    widths = STAGE_WIDTHS[kind]
    se = kind == "v1se"
    layers: OrderedDict[str, nn.Module] = OrderedDict(
        conv1=conv_unit(3, 32, 3, 2, 1),
        conv2_dw=conv_unit(32, 32, 3, 1, 1, groups=32),
        conv_23=nn.Sequential(separable(32, STEM_WIDTH["conv_23"], 64, 2)),
        conv_3=stage(64, widths["conv_3"], se),
        conv_34=nn.Sequential(separable(64, STEM_WIDTH["conv_34"], 128, 2)),
        conv_4=stage(128, widths["conv_4"], se),
        conv_45=nn.Sequential(separable(128, STEM_WIDTH["conv_45"], 128, 2)),
        conv_5=stage(128, widths["conv_5"], se),
        conv_6_sep=conv_unit(128, 512),
        conv_6_dw=conv_unit(512, 512, 5, groups=512, act=False),
        flatten=nn.Flatten(),
        linear=nn.Linear(512, EMBEDDING, bias=False),
        bn=nn.BatchNorm1d(EMBEDDING),
        prob=nn.Linear(EMBEDDING, CLASSES, bias=False),
    )
    return nn.Sequential(layers).eval()


def load(kind: str, path: str) -> nn.Sequential:
    """Build the network and load a released state dict strictly (names and shapes must all match)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k.removeprefix("module."): v for k, v in state.items()}  # saved from DataParallel
    net = build(kind)
    net.load_state_dict(state, strict=True)
    return net
