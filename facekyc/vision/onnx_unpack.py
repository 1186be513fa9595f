"""Unpack a block-quantised ONNX model's weights to plain float32, in memory, at load time.

OpenCV zoo's `*_int8bq.onnx` files store each weight as int8 blocks plus per-block scales and
zero points, dequantised at run time by `DequantizeLinear(block_size=...)` (+ a `Reshape`). The
arithmetic of the network is float32 either way; doing the dequantisation once here gives the same
weights, lets onnxruntime fold and fuse the graph, and avoids shipping a second, 4x larger file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper


def dequantize_blocks(quantized: np.ndarray, scales: np.ndarray, zero_points: np.ndarray | None,
                      axis: int, block_size: int) -> np.ndarray:
    """float32 (q - zero_point) * scale, with one scale per `block_size` run along `axis`
    (the ONNX DequantizeLinear-21 definition; block_size 0 means per-axis or per-tensor)."""
    q = quantized.astype(np.float32)
    zp = np.zeros_like(scales, np.float32) if zero_points is None else zero_points.astype(np.float32)
    if block_size > 0:
        axis = axis % q.ndim
        scales = np.repeat(scales, block_size, axis=axis)
        zp = np.repeat(zp, block_size, axis=axis)
        index = [slice(None)] * q.ndim
        index[axis] = slice(0, q.shape[axis])  # the last block may be partial
        scales, zp = scales[tuple(index)], zp[tuple(index)]
    elif scales.ndim == 1 and scales.size > 1:
        shape = [1] * q.ndim
        shape[axis % q.ndim] = scales.size
        scales, zp = scales.reshape(shape), zp.reshape(shape)
    result: np.ndarray = ((q - zp) * scales).astype(np.float32)
    return result


def unpack_block_quantized(path: Path) -> onnx.ModelProto:
    """The model at `path` with every constant DequantizeLinear (and a Reshape of its output)
    replaced by a float32 initializer; the other nodes are unchanged."""
    model = onnx.load(str(path))
    graph = model.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    produced: dict[str, np.ndarray] = {}
    keep = []
    for node in graph.node:
        inputs = [produced.get(n, consts.get(n)) for n in node.input]
        if node.op_type == "DequantizeLinear" and all(v is not None for v in inputs[:2]):
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
            zero = inputs[2] if len(inputs) > 2 else None
            produced[node.output[0]] = dequantize_blocks(inputs[0], inputs[1], zero,  # type: ignore[arg-type]
                                                         int(attrs.get("axis", 1)), int(attrs.get("block_size", 0)))
        elif node.op_type == "Reshape" and node.input[0] in produced and inputs[1] is not None:
            produced[node.output[0]] = produced[node.input[0]].reshape(inputs[1].astype(np.int64))
        else:
            keep.append(node)
    used = {name for node in keep for name in node.input} | {o.name for o in graph.output}
    initializers = [t for t in graph.initializer if t.name in used and t.name not in produced]
    initializers += [numpy_helper.from_array(v, name) for name, v in produced.items() if name in used]
    del graph.node[:]
    graph.node.extend(keep)
    del graph.initializer[:]
    graph.initializer.extend(initializers)
    names = {t.name for t in initializers}
    real_inputs = [i for i in graph.input if i.name not in names and i.name in used]
    del graph.input[:]
    graph.input.extend(real_inputs)  # weights listed as inputs would block constant folding
    return model
