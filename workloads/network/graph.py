"""A general network: a DAG of named nodes over the ops of :mod:`workloads.network.ops`.

``Network(nodes, input_shape)`` checks the graph (unique names, inputs defined before use, one output) and
runs one zero sample through it, so a shape mismatch is reported at construction with the node's name. On
construction it also

- drops pass-through nodes (``Identity``, inference-time Dropout), rewiring their consumers;
- folds every BatchNorm (:class:`ChannelAffine`) whose only producer is a Linear or Conv with no other
  consumer into that layer's weights and bias (W' = diag(s) W, b' = s b + t); others stay digital.

``forward(x)`` is the float32 numpy reference; ``on(hardware)`` binds the network to crossbar tiles
(:class:`workloads.network.hardware.HardwareNetwork`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from aimc_sim.errors import DataError
from workloads.network.ops import ANALOG_OPS, ChannelAffine, Linear, ShapeError
from workloads.network.sequence_ops import ARRAY_OPS

if TYPE_CHECKING:
    from workloads.network.hardware import HardwareNetwork

INPUT = "input"


class Identity:
    """A pass-through (Dropout at inference, Identity); removed when the network is built."""

    kind = "Identity"


@dataclass(frozen=True)
class Node:
    """One layer: ``op`` applied to the outputs of the nodes named in ``inputs`` (or ``"input"``)."""

    name: str
    op: Any
    inputs: tuple[str, ...]


def node_error(node: Node, message: str) -> DataError:
    """An error that names the layer and its kind."""
    return DataError(f"layer {node.name!r} ({node.op.kind})", message)


class Network:
    """A DAG of :class:`Node` with one input of per-sample shape ``input_shape`` and one output (the last
    node unless ``output`` names another); ``integer_input`` for index inputs (embedding lookups)."""

    def __init__(
        self,
        nodes: Iterable[Node],
        input_shape: tuple[int, ...],
        output: str | None = None,
        integer_input: bool = False,
        metadata: dict[str, Any] | None = None,
    ):
        self.input_shape = tuple(int(s) for s in input_shape)
        self.integer_input = integer_input
        self.metadata = dict(metadata or {})
        nodes = list(nodes)
        if not nodes:
            raise DataError("network", "has no layers")
        self.output = output or nodes[-1].name
        self.nodes = _drop_identities(_check_order(nodes), self)
        self.shapes = self._infer_shapes()
        self.nodes, self.output = _fold_batchnorm(self.nodes, self.shapes, self.output)
        self.shapes = self._infer_shapes()

    # ------------------------------------------------------------------ structure
    def consumers(self, name: str) -> list[Node]:
        """Nodes that read the output of ``name``."""
        return [n for n in self.nodes if name in n.inputs]

    @property
    def analog_nodes(self) -> list[Node]:
        """The nodes mapped onto crossbar arrays (Linear, Conv)."""
        return [n for n in self.nodes if isinstance(n.op, ANALOG_OPS)]

    def n_weights(self) -> int:
        """Weights held on arrays (biases excluded)."""
        held = sum(n.op.n_weights() for n in self.nodes if isinstance(n.op, ARRAY_OPS))
        return int(sum(n.op.weight.size for n in self.analog_nodes) + held)

    def summary(self) -> str:
        """One line per layer: name, kind, inputs and per-sample output shape."""
        lines = [f"{INPUT}: {self.input_shape}"]
        for n in self.nodes:
            lines.append(f"{n.name}: {n.op.kind} <- {', '.join(n.inputs)} -> {self.shapes[n.name]}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ execution
    def check_input(self, x: Any, name: str = "x") -> np.ndarray:
        """``x`` as a batch (n, *input_shape): float32, or int64 for index inputs; finite."""
        a = np.asarray(x)
        if a.ndim < 1 or a.shape[1:] != self.input_shape:
            raise DataError(name, f"must have shape (n, {', '.join(map(str, self.input_shape))}), got {a.shape}")
        if a.dtype.kind not in "biuf" or (a.dtype.kind == "f" and not np.all(np.isfinite(a))):
            raise DataError(name, "must be a finite real array")
        return a.astype(np.int64 if self.integer_input else np.float32, copy=False)

    def run(self, x: np.ndarray, apply: Callable[[Node, list[np.ndarray]], np.ndarray]) -> np.ndarray:
        """Walk the graph on a checked batch ``x`` with ``apply(node, inputs) -> output``; intermediate
        outputs are released after their last use."""
        last_use = {INPUT: -1}
        for i, n in enumerate(self.nodes):
            for src in n.inputs:
                last_use[src] = i
        values = {INPUT: x}
        for i, node in enumerate(self.nodes):
            try:
                values[node.name] = apply(node, [values[s] for s in node.inputs])
            except ShapeError as e:
                raise node_error(node, e.message) from None
            for src in node.inputs:
                if last_use[src] == i and src != self.output:
                    values.pop(src, None)
        return values[self.output]

    def forward(self, x: Any, batch: int = 256) -> np.ndarray:
        """Float32 numpy forward pass of a batch (n, *input_shape), ``batch`` samples at a time (bounds the
        size of the im2col patches)."""
        x = self.check_input(x)
        outs = [self.run(x[j : j + batch], lambda node, xs: node.op.forward(*xs)) for j in range(0, len(x), batch)]
        return np.concatenate(outs)

    def _infer_shapes(self) -> dict[str, tuple[int, ...]]:
        shapes: dict[str, tuple[int, ...]] = {INPUT: self.input_shape}

        def apply(node: Node, xs: list[np.ndarray]) -> np.ndarray:
            y = node.op.forward(*xs)
            shapes[node.name] = tuple(y.shape[1:])
            return y

        zero = np.zeros((1, *self.input_shape), dtype=np.int64 if self.integer_input else np.float32)
        with np.errstate(all="ignore"):
            self.run(zero, apply)
        return shapes

    def on(self, hardware: Any = None) -> HardwareNetwork:
        """This network bound to a hardware config (object, dict of fields or YAML path)."""
        from workloads.network.hardware import HardwareNetwork

        return HardwareNetwork(self, hardware)


def _check_order(nodes: list[Node]) -> list[Node]:
    seen = {INPUT}
    for n in nodes:
        if n.name in seen:
            raise node_error(n, "duplicate layer name" if n.name != INPUT else f"{INPUT!r} is reserved")
        missing = [s for s in n.inputs if s not in seen]
        if missing:
            raise node_error(n, f"reads {missing[0]!r}, which is not defined before it")
        if not n.inputs:
            raise node_error(n, "has no inputs")
        seen.add(n.name)
    return nodes


def _drop_identities(nodes: list[Node], net: Network) -> list[Node]:
    alias: dict[str, str] = {}
    kept = []
    for n in nodes:
        inputs = tuple(alias.get(s, s) for s in n.inputs)
        if isinstance(n.op, Identity):
            if len(inputs) != 1:
                raise node_error(n, f"a pass-through takes one input, got {len(inputs)}")
            alias[n.name] = inputs[0]
            continue
        kept.append(Node(n.name, n.op, inputs))
    net.output = alias.get(net.output, net.output)
    if net.output == INPUT or net.output not in {n.name for n in kept}:
        raise DataError("network.output", f"{net.output!r} is not a layer of the network")
    return kept


def _fold_batchnorm(nodes: list[Node], shapes: dict[str, tuple[int, ...]], output: str) -> tuple[list[Node], str]:
    by_name = {n.name: n for n in nodes}
    readers: dict[str, int] = {}
    for n in nodes:
        for s in n.inputs:
            readers[s] = readers.get(s, 0) + 1
    folded: dict[str, str] = {}  # BatchNorm node -> the layer it was folded into
    for n in nodes:
        if not isinstance(n.op, ChannelAffine):
            continue
        prev = by_name.get(n.inputs[0])
        if prev is None or readers[prev.name] != 1 or not isinstance(prev.op, ANALOG_OPS):
            continue
        if isinstance(prev.op, Linear) and len(shapes[prev.name]) != 1:
            continue  # BatchNorm channels (axis 1) are not the Linear's output features
        by_name[prev.name] = Node(prev.name, prev.op.with_affine(n.op.scale, n.op.shift), prev.inputs)
        folded[n.name] = prev.name
    out = []
    for n in nodes:
        if n.name in folded:
            continue
        out.append(Node(n.name, by_name[n.name].op, tuple(folded.get(s, s) for s in n.inputs)))
    return out, folded.get(output, output)
