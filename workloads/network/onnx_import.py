"""ONNX file (opset >= 13) -> :class:`workloads.network.graph.Network`, read with the ``onnx`` package.

Supported operators (default domain): Gemm, MatMul (constant right operand; a following Add of a constant
becomes its bias), Conv (1-d and 2-d, symmetric pads, groups), BatchNormalization, Relu, Gelu (exact),
Erf, Sigmoid, Tanh, Softmax, LogSoftmax, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool,
ReduceMean / ReduceMax / ReduceSum (explicit axes, not the batch), Flatten (axis 1), Reshape, Add / Sub /
Mul / Div (two tensors or a tensor and a constant: GELU exported as its erf formula and SiLU as
x * sigmoid(x) come in this way), Concat, Dropout, Identity, LayerNormalization, Gather of
a constant table (embedding). Constant, Shape and every op that only combines constants or shapes are
evaluated statically (their values only feed Reshape, whose target shape is then taken from ONNX shape
inference). The first graph input is the network input; its first axis is the batch.

A file that is not ONNX, truncated, fails the ONNX checker, has an older opset, or uses another operator
raises :class:`DataError` naming the file or the node (``node 'name' (OpType)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import DataError
from workloads.network import ops
from workloads.network.graph import INPUT, Identity, Network, Node

MIN_OPSET = 13
_UNARY = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Erf": "erf"}
_REDUCE = {"ReduceMean": "avg", "ReduceMax": "max", "ReduceSum": "sum"}
_BINARY = {"Add": "add", "Sub": "sub", "Mul": "mul", "Div": "div"}
_STATIC = {"Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Slice", "Mul", "Div", "Add", "Sub"}


def read_model(path: str | Path) -> Any:
    """Parse and check an ONNX file; any problem is a :class:`DataError` naming the file."""
    import onnx

    path = Path(path)
    try:
        model = onnx.load(str(path))
    except Exception as e:  # protobuf raises several types for corrupted or truncated files
        raise DataError(str(path), f"is not a readable ONNX model ({type(e).__name__}: {e})") from None
    if not model.graph.node:
        raise DataError(str(path), "holds no ONNX graph nodes (empty, truncated or not an ONNX file)")
    try:
        onnx.checker.check_model(model)
    except Exception as e:
        raise DataError(str(path), f"fails the ONNX checker: {e}") from None
    opset = max((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), default=0)
    if opset < MIN_OPSET:
        raise DataError(f"{path}: opset", f"must be >= {MIN_OPSET}, got {opset}; re-export with a newer opset")
    return model


def from_onnx(path: str | Path) -> Network:
    """The network of an ONNX file."""
    import onnx

    model = read_model(path)
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception as e:
        raise DataError(str(path), f"ONNX shape inference fails: {e}") from None
    net = _Converter(model.graph, inferred.graph).convert()
    net.metadata |= {"source": "onnx", "file": Path(path).name, "producer": model.producer_name}
    return net


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _dims(value_info: Any) -> tuple[Any, ...]:
    return tuple(d.dim_value if d.HasField("dim_value") else None for d in value_info.type.tensor_type.shape.dim)


class _Converter:
    def __init__(self, graph: Any, inferred: Any):
        from onnx import numpy_helper

        self.graph = graph
        self.consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.shapes = {v.name: _dims(v) for v in list(inferred.value_info) + list(inferred.output)}
        self.static: set[str] = set(self.consts)
        self.names: dict[str, str] = {}  # tensor -> producing layer
        self.nodes: list[Node] = []
        self.uses: dict[str, int] = {}
        for n in graph.node:
            for t in n.input:
                self.uses[t] = self.uses.get(t, 0) + 1

    def convert(self) -> Network:
        inputs = [i for i in self.graph.input if i.name not in self.consts]
        if len(inputs) != 1:
            raise DataError("graph.input", f"only networks with one input are supported, got {len(inputs)}")
        inp = inputs[0]
        shape = _dims(inp)
        if len(shape) < 1 or any(d is None for d in shape[1:]):
            raise DataError(f"input {inp.name!r}", f"needs fixed sizes after the batch axis, got {shape}")
        self.names[inp.name] = INPUT
        integer = inp.type.tensor_type.elem_type not in (1, 10, 11, 16)  # FLOAT, FLOAT16, DOUBLE, BFLOAT16
        for i, node in enumerate(self.graph.node):
            self._node(node, node.name or f"{node.op_type}_{i}")
        out = self.graph.output[0].name
        if out not in self.names:
            raise DataError(f"output {out!r}", "is not computed from the network input")
        return Network(self.nodes, tuple(shape[1:]), self.names[out], integer_input=integer)

    def _err(self, name: str, node: Any, message: str) -> DataError:
        return DataError(f"node {name!r} ({node.op_type})", message)

    def _const(self, name: str, node: Any, tensor: str, what: str) -> np.ndarray:
        if tensor not in self.consts:
            raise self._err(name, node, f"{what} ({tensor!r}) must be a constant initializer")
        return self.consts[tensor]

    def _add(self, name: str, op: Any, inputs: list[str], output: str) -> None:
        self.nodes.append(Node(name, op, tuple(self.names[t] for t in inputs)))
        self.names[output] = name

    def _node(self, node: Any, name: str) -> None:
        from onnx import numpy_helper

        op_type, a = node.op_type, _attrs(node)
        if node.domain not in ("", "ai.onnx"):
            raise self._err(name, node, f"operator domain {node.domain!r} is not supported")
        if op_type == "Constant":
            value = a.get("value")
            self.consts[node.output[0]] = (
                numpy_helper.to_array(value) if value is not None else np.asarray(next(iter(a.values())))
            )
            self.static.add(node.output[0])
            return
        tensors = [t for t in node.input if t and t not in self.static]
        if op_type == "Shape" or (not tensors and op_type in _STATIC):
            self.static.update(node.output)  # shape arithmetic: only feeds Reshape targets
            return
        missing = [t for t in tensors if t not in self.names]
        if missing:
            raise self._err(name, node, f"reads {missing[0]!r}, which is not computed from the network input")
        op, ins = self._op(node, name, op_type, a, tensors)
        if op is None:
            return
        self._add(name, op, ins, node.output[0])

    def _op(self, node: Any, name: str, op_type: str, a: dict[str, Any], tensors: list[str]) -> tuple[Any, list]:
        x = node.input[0]
        if op_type == "Gemm":
            if a.get("transA", 0):
                raise self._err(name, node, "transA=1 is not supported")
            B = self._const(name, node, node.input[1], "B") * a.get("alpha", 1.0)
            W = B if a.get("transB", 0) else B.T
            bias = None
            if len(node.input) > 2 and node.input[2]:
                bias = np.broadcast_to(self._const(name, node, node.input[2], "C") * a.get("beta", 1.0), W.shape[:1])
            return ops.Linear(W.astype(np.float32), None if bias is None else bias.astype(np.float32)), [x]
        if op_type == "MatMul":
            B = self._const(name, node, node.input[1], "B")
            if B.ndim != 2:
                raise self._err(name, node, f"B must be a 2-D weight matrix, got shape {B.shape}")
            return ops.Linear(np.ascontiguousarray(B.T)), [x]
        if op_type == "Conv":
            return self._conv(node, name, a), [x]
        if op_type == "BatchNormalization":
            scale, shift, mean, var = (self._const(name, node, t, "statistics") for t in node.input[1:5])
            inv = scale.astype(np.float64) / np.sqrt(var.astype(np.float64) + a.get("epsilon", 1e-5))
            return ops.ChannelAffine(inv, shift - mean * inv), [x]
        if op_type in _UNARY:
            return ops.Activation(_UNARY[op_type]), [x]
        if op_type == "Gelu":
            if a.get("approximate", b"none") not in (b"none", "none"):
                raise self._err(name, node, "only the exact (erf) GELU is supported")
            return ops.Activation("gelu"), [x]
        if op_type in ("Softmax", "LogSoftmax"):
            return ops.Softmax(int(a.get("axis", -1)), op_type == "LogSoftmax"), [x]
        if op_type in ("MaxPool", "AveragePool"):
            return self._pool(node, name, a), [x]
        if op_type in ("GlobalAveragePool", "GlobalMaxPool"):
            nd = len(self.shapes.get(x, (0, 0, 0, 0))) - 2 if x in self.shapes else 2
            return ops.Pool("avg" if "Average" in op_type else "max", None, n_dims=nd), [x]
        if op_type in _REDUCE:
            return self._reduce(node, name, a), [x]
        if op_type == "Flatten":
            if a.get("axis", 1) != 1:
                raise self._err(name, node, f"only axis=1 is supported, got {a['axis']}")
            return ops.Reshape((-1,)), [x]
        if op_type == "Reshape":
            return ops.Reshape(self._reshape_target(node, name)), [x]
        if op_type in _BINARY:
            return self._binary(node, name, _BINARY[op_type], tensors)
        if op_type == "Concat":
            return ops.Concat(int(a["axis"])), tensors
        if op_type in ("Dropout", "Identity"):
            return Identity(), [x]
        if op_type == "LayerNormalization":
            w = self._const(name, node, node.input[1], "Scale")
            b = self._const(name, node, node.input[2], "B") if len(node.input) > 2 and node.input[2] else 0 * w
            if a.get("axis", -1) not in (-w.ndim, len(self.shapes.get(x, ())) - w.ndim):
                raise self._err(name, node, f"axis {a.get('axis', -1)} does not match the scale of shape {w.shape}")
            return ops.LayerNorm(w, np.broadcast_to(b, w.shape), float(a.get("epsilon", 1e-5))), [x]
        if op_type == "Gather":
            table = self._const(name, node, node.input[0], "the embedding table (data)")
            if a.get("axis", 0) != 0 or table.ndim != 2:
                raise self._err(name, node, "only embedding lookups (axis 0 of a 2-D table) are supported")
            return ops.Embedding(table.astype(np.float32)), [node.input[1]]
        raise self._err(name, node, "operator is not supported")

    def _conv(self, node: Any, name: str, a: dict[str, Any]) -> ops.Conv:
        W = self._const(name, node, node.input[1], "W")
        b = self._const(name, node, node.input[2], "B") if len(node.input) > 2 and node.input[2] else None
        nd = W.ndim - 2
        if nd not in (1, 2):
            raise self._err(name, node, f"only 1-d and 2-d convolutions are supported, got {nd}-d")
        if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", b"VALID", "NOTSET", "VALID"):
            raise self._err(name, node, f"auto_pad={a['auto_pad']!r} is not supported; export with explicit pads")
        pads = self._pads(node, name, a, nd)
        return ops.Conv(
            W, b, tuple(a.get("strides", (1,) * nd)), pads, tuple(a.get("dilations", (1,) * nd)), a.get("group", 1)
        )

    def _pads(self, node: Any, name: str, a: dict[str, Any], nd: int) -> tuple[int, ...]:
        pads = tuple(a.get("pads", (0,) * 2 * nd))
        if pads[:nd] != pads[nd:]:
            raise self._err(name, node, f"asymmetric pads {pads} are not supported")
        return pads[:nd]

    def _pool(self, node: Any, name: str, a: dict[str, Any]) -> ops.Pool:
        k = tuple(a["kernel_shape"])
        if a.get("ceil_mode", 0) or any(d != 1 for d in a.get("dilations", ())):
            raise self._err(name, node, "ceil_mode and dilations are not supported")
        if len(node.output) > 1 and node.output[1]:
            raise self._err(name, node, "the Indices output is not supported")
        mode = "max" if node.op_type == "MaxPool" else "avg"
        stride = tuple(a.get("strides", (1,) * len(k)))
        return ops.Pool(mode, k, stride, self._pads(node, name, a, len(k)), bool(a.get("count_include_pad", 0)), len(k))

    def _reduce(self, node: Any, name: str, a: dict[str, Any]) -> ops.Reduce:
        axes = a.get("axes")  # an attribute up to opset 17 (ReduceSum: 12), an input from opset 18
        if len(node.input) > 1 and node.input[1]:
            axes = self._const(name, node, node.input[1], "axes")
        if axes is None or len(axes) == 0:
            raise self._err(name, node, "needs explicit axes (reducing over the batch axis is not supported)")
        return ops.Reduce(_REDUCE[node.op_type], tuple(int(v) for v in np.ravel(axes)), bool(a.get("keepdims", 1)))

    def _reshape_target(self, node: Any, name: str) -> tuple[int, ...]:
        target = self.consts.get(node.input[1])
        if target is not None and target.ndim == 1 and len(target) >= 1 and target[0] in (0, -1):
            rest = tuple(int(v) for v in target[1:])
            if 0 not in rest and rest.count(-1) <= 1:
                return rest
        inferred = self.shapes.get(node.output[0])
        if inferred and all(d is not None for d in inferred[1:]):
            return tuple(int(d) for d in inferred[1:])
        raise self._err(name, node, "the target shape is neither a constant (batch, ...) nor inferable")

    def _binary(self, node: Any, name: str, op: str, tensors: list[str]) -> tuple[Any, list]:
        if len(tensors) == 2:
            return ops.Elementwise(op), tensors
        const_first = node.input[0] not in tensors
        c = self.consts.get(node.input[0 if const_first else 1])
        if c is None:
            raise self._err(name, node, "an operand is neither a tensor of the network nor a constant")
        if op == "add" and self._fold_bias(tensors[0], c, node.output[0]):
            return None, []
        return ops.Elementwise(op, c.astype(np.float32), const_first), tensors

    def _fold_bias(self, tensor: str, c: np.ndarray, output: str) -> bool:
        """MatMul + Add(constant) -> one Linear with bias, if the MatMul has no other reader."""
        prev = self.nodes[-1] if self.nodes else None
        if prev is None or self.names.get(tensor) != prev.name or self.uses.get(tensor, 0) != 1:
            return False
        if not isinstance(prev.op, ops.Linear) or prev.op.bias is not None:
            return False
        out = prev.op.weight.shape[0]
        if c.size not in (1, out) or (c.ndim and c.shape[-1] not in (1, out)):
            return False
        bias = np.broadcast_to(c.reshape(-1), (out,))
        self.nodes[-1] = Node(prev.name, ops.Linear(prev.op.weight, bias), prev.inputs)
        self.names[output] = prev.name
        return True
