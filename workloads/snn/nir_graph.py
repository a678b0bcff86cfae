"""NIR import into a native, time-stepped numpy graph executor (docs/snn.md#nir-import).

:func:`import_nir` turns a ``nir.NIRGraph`` (any nir version) or an ``.nir`` HDF5 file (nir 1.0.4 or
1.0.8 layout, read by :mod:`workloads.snn.nir_file`) into a :class:`NIRNetwork`. Every continuous-time
primitive is discretised with the step ``dt`` (s); NIR times (``tau``, ``delay``) are multiplied by
``time_unit`` (s per NIR unit; the NIR docs say ms, exporters differ). Every semantic choice is a switch,
recorded in :attr:`NIRNetwork.choices`; ``convention`` names a preset of them (:data:`CONVENTIONS`):

* ``discretisation``: ``exact`` (zero-order hold) or ``euler`` (docs/snn.md#nir-import); Euler with dt > tau is an
  error;
* ``reset_mode``: ``to_value`` (NIR's v_reset, default), ``subtract`` (v -= theta) or ``none``;
* ``threshold_comparison``: spike when ``v >= theta`` (default) or ``v > theta``;
* ``reset_delay``: a subtractive reset is applied immediately, before the next decay (default), or at
  the next step after the decay (snnTorch's ``reset_delay=True``: ``v[t+1] = beta v[t] + I - theta s[t]``);
* ``recurrent_start``: what a recurrent (back) edge carries at the first step. ``bias`` (default): a
  stateless affine source (Affine, Linear, Scale, Conv, pooling, Flatten) applied to zero input, so a recurrent
  Affine contributes its bias from t = 0, as when its input spikes start at 0 (snnTorch RLeaky);
  ``zero``: nothing at t = 0. Stateful sources (neurons, delays) start at rest (no spikes) either way;
* scalar parameters are broadcast to the shape inferred from upstream nodes (ambiguous -> error);
* recurrent edges carry the source's output of the previous step.

Outputs at step ``k`` (0-based) are the states at time ``(k + 1) dt``; neurons start at rest
(``v = v_leak``), synaptic currents and delay lines at 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.snn.discretise import DISCRETISATIONS
from workloads.snn.nir_file import SCHEMA, load_graph
from workloads.snn.nir_ops import Op, Semantics, make_op

SUPPORTED = tuple(SCHEMA)
RESET_MODES = ("to_value", "subtract", "none")
COMPARISONS = (">=", ">")
RECURRENT_STARTS = ("bias", "zero")


@dataclass(frozen=True)
class Convention:
    """A named set of import switches (and the dt / time_unit an exporter implies, when it fixes them)."""

    discretisation: str = "exact"
    reset_mode: str = "to_value"
    threshold_comparison: str = ">="
    reset_delay: bool = False
    recurrent_start: str = "bias"
    dt: float | None = None
    time_unit: float | None = None


# Exporter presets, each checked against the exporter's own simulation in tests/test_snn_acceptance.py.
CONVENTIONS: dict[str, Convention] = {
    "nir": Convention(),
    # snnTorch 1.0 writes tau = dt/(1-beta), r = tau/dt with dt = 1e-4 s (export_nir.py); Leaky is
    # mem = beta mem + I - theta reset[t-1], spikes on mem > theta.
    "snntorch": Convention("euler", "subtract", ">", True, "bias", dt=1e-4, time_unit=1.0),
    # Norse 1.1 writes tau = dt / tau_inv with dt = 1e-3 (i.e. dt * tau in s), so one step is dt**2 NIR units;
    # LIFBox/LIBox are Euler steps, spikes on v > v_th, reset to v_reset.
    "norse": Convention("euler", "to_value", ">", False, "bias", dt=1e-3, time_unit=1e3),
    # Sinabs 3.1 writes tau in steps (LIF: alpha = exp(-1/tau), input scaled by 1 - alpha) and IF with r = 1;
    # spikes on v >= theta, MembraneSubtract reset (exact with single spikes per step).
    "sinabs": Convention("exact", "subtract", ">=", False, "bias", dt=1.0, time_unit=1.0),
}


@dataclass
class NIRRun:
    """Result of :meth:`NIRNetwork.run`: outputs ``(T, B, ...)`` per Output node and spike statistics."""

    outputs: dict[str, np.ndarray]
    spike_counts: dict[str, float]
    neurons: dict[str, int]
    steps: int
    batch: int

    def sparsity(self) -> dict[str, float]:
        """Fraction of (neuron, step, sample) slots without a spike, per spiking node."""
        return {k: 1.0 - c / (self.neurons[k] * self.steps * self.batch) for k, c in self.spike_counts.items()}


@dataclass
class NIRNetwork:
    """An imported NIR graph, executable step by step with numpy."""

    ops: dict[str, Op]
    order: list[str]
    inputs: dict[str, list[str]]  # node -> forward predecessors
    back_inputs: dict[str, list[str]]  # node -> recurrent predecessors (previous step)
    input_nodes: list[str]
    output_nodes: list[str]
    choices: dict[str, Any] = field(default_factory=dict)

    def initial_back_values(self, batch: int) -> dict[str, np.ndarray]:
        """What each recurrent edge carries at the first step (see ``recurrent_start``)."""
        sources = {p for preds in self.back_inputs.values() for p in preds}
        prev = {}
        for n in sources:
            op = self.ops[n]
            if op.affine and self.choices["recurrent_start"] == "bias":
                prev[n] = op.step(np.zeros((batch,) + op.in_shape), None)
            else:
                prev[n] = np.zeros((batch,) + op.out_shape)
        return prev

    def run(self, x: np.ndarray | dict[str, np.ndarray]) -> NIRRun:
        """Run on time-major input ``(T, B, *input_shape)`` (or a dict per Input node)."""
        xs = x if isinstance(x, dict) else {self.input_nodes[0]: x}
        missing = [n for n in self.input_nodes if n not in xs]
        if missing:
            raise ConfigError("inputs", f"missing data for Input node(s) {missing}")
        arrays = {k: np.asarray(v, dtype=float) for k, v in xs.items()}
        steps, batch = next(iter(arrays.values())).shape[:2]
        for k, v in arrays.items():
            want = (steps, batch) + self.ops[k].out_shape
            if v.shape != want:
                raise ConfigError(f"inputs.{k}", f"must have shape (T, B, *input_shape) = {want}, got {v.shape}")
        states = {n: op.init(batch) for n, op in self.ops.items()}
        prev = self.initial_back_values(batch)
        outs = {n: np.empty((steps, batch) + self.ops[n].out_shape) for n in self.output_nodes}
        counts = {n: 0.0 for n, op in self.ops.items() if op.spiking}
        for t in range(steps):
            cur: dict[str, np.ndarray] = {}
            for n in self.order:
                op = self.ops[n]
                if n in arrays:
                    xin = arrays[n][t]
                else:
                    terms = [cur[p] for p in self.inputs[n]] + [prev[p] for p in self.back_inputs[n]]
                    xin = terms[0] if len(terms) == 1 else np.sum(terms, axis=0)
                y = op.step(xin, states[n])
                cur[n] = y
                if op.spiking:
                    counts[n] += float(y.sum())
            for n in self.output_nodes:
                outs[n][t] = cur[n]
            prev = {p: cur[p] for p in prev}
        neurons = {n: int(np.prod(self.ops[n].out_shape)) for n in counts}
        return NIRRun(outs, counts, neurons, steps, batch)


def _graph_order(nodes: dict, edges: list) -> tuple[list[str], set]:
    """Topological order of forward edges and the set of back (recurrent) edges, via DFS from Inputs."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    back: set = set()
    post: list[str] = []
    roots = [n for n in nodes if nodes[n].kind == "Input"] + list(nodes)
    for root in roots:
        if root in state:
            continue
        stack = [(root, iter(succ[root]))]
        state[root] = 1
        while stack:
            n, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[n] = 2
                post.append(n)
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((n, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ[nxt])))
    return post[::-1], back


def _number(value: Any, name: str, allowed: str) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(name, f"must be {allowed}, got {value!r}") from None
    if not (math.isfinite(v) and v > 0):
        raise ConfigError(name, f"must be {allowed}, got {value!r}")
    return v


def _choice(value: Any, name: str, allowed: tuple) -> Any:
    if value not in allowed:
        raise ConfigError(name, f"must be one of {allowed}, got {value!r}")
    return value


def resolve_convention(convention: str | Convention, **switches: Any) -> Convention:
    """The preset ``convention`` with every switch that is not None replaced (all checked)."""
    if isinstance(convention, str):
        base = CONVENTIONS.get(convention)
        if base is None:
            raise ConfigError("convention", f"must be one of {tuple(CONVENTIONS)}, got {convention!r}")
    else:
        base = convention
    c = replace(base, **{k: v for k, v in switches.items() if v is not None})
    _choice(c.discretisation, "discretisation", DISCRETISATIONS)
    _choice(c.reset_mode, "reset_mode", RESET_MODES)
    _choice(c.threshold_comparison, "threshold_comparison", COMPARISONS)
    _choice(c.reset_delay, "reset_delay", (True, False))
    _choice(c.recurrent_start, "recurrent_start", RECURRENT_STARTS)
    for key, unit in (("dt", "s"), ("time_unit", "s per NIR time unit")):
        if getattr(c, key) is None:
            raise ConfigError(key, f"required: a finite number > 0 ({unit}); convention {convention!r} sets none")
        _number(getattr(c, key), key, f"a finite number > 0 ({unit})")
    return replace(c, dt=float(c.dt), time_unit=float(c.time_unit))


def import_nir(
    graph: Any,
    dt: float | None = None,
    time_unit: float | None = None,
    discretisation: str | None = None,
    reset_mode: str | None = None,
    *,
    threshold_comparison: str | None = None,
    reset_delay: bool | None = None,
    recurrent_start: str | None = None,
    convention: str | Convention = "nir",
) -> NIRNetwork:
    """Import a NIR graph (object, :class:`GraphSpec` or path to an ``.nir`` file) for time-stepped execution.

    ``dt``: simulation step in s; ``time_unit``: seconds per NIR time unit (1e-3 for ms); the other
    switches are described in the module docstring. Arguments left at None take the value of the named
    ``convention`` (``nir`` fixes no dt / time_unit). File problems raise :class:`DataError` naming the
    file; unsupported or inconsistent nodes raise :class:`ConfigError` naming the node and field.
    """
    conv = resolve_convention(
        convention,
        dt=dt,
        time_unit=time_unit,
        discretisation=discretisation,
        reset_mode=reset_mode,
        threshold_comparison=threshold_comparison,
        reset_delay=reset_delay,
        recurrent_start=recurrent_start,
    )
    spec = load_graph(graph)
    nodes, edges = spec.nodes, spec.edges
    inputs_ = [n for n, node in nodes.items() if node.kind == "Input"]
    if not inputs_:
        raise ConfigError("nodes", "graph has no Input node")
    order, back = _graph_order(nodes, edges)
    fwd_in = {n: [a for a, b in edges if b == n and (a, b) not in back] for n in nodes}
    back_in = {n: [a for a, b in edges if b == n and (a, b) in back] for n in nodes}
    rules = (conv.discretisation, conv.reset_mode, conv.threshold_comparison, conv.reset_delay)
    sem = Semantics(conv.dt / conv.time_unit, *rules)
    choices: dict[str, Any] = {
        "convention": convention if isinstance(convention, str) else "custom",
        "dt_s": conv.dt,
        "time_unit_s": conv.time_unit,
        "discretisation": conv.discretisation,
        "reset_mode": conv.reset_mode,
        "threshold_comparison": f"v {conv.threshold_comparison} theta",
        "reset_delay": conv.reset_delay,
        "recurrent_start": conv.recurrent_start,
        "recurrent_edges": sorted(f"{a}->{b}" for a, b in back),
        "broadcast": [],
        "delay_steps": {},
        "source": spec.source,
    }
    ops: dict[str, Op] = {}
    for n in order:
        ups = [ops[p].out_shape for p in fwd_in[n]]
        if nodes[n].kind != "Input" and not ups:
            raise ConfigError(f"nodes.{n}", "has no forward input edge (unreachable from an Input node)")
        if len(set(ups)) > 1:
            raise ConfigError(f"nodes.{n}", f"inconsistent shapes: incoming edges have shapes {ups}")
        op = make_op(n, nodes[n], ups[0] if ups else None, sem, choices)
        ops[n] = op
        for q in fwd_in[n]:  # an Input without a declared shape takes the shape its consumer needs
            if ops[q].out_shape is None:
                ops[q].out_shape = ops[q].in_shape = op.in_shape
    for n, op in ops.items():
        if op.out_shape is None:
            raise ConfigError(f"nodes.{n}", "shape could not be inferred (declare the Input shape)")
    for n in nodes:
        for p in back_in[n]:
            if ops[p].out_shape != ops[n].in_shape:
                raise ConfigError(
                    f"nodes.{n}",
                    f"inconsistent shapes: recurrent input from {p} has {ops[p].out_shape}, needs {ops[n].in_shape}",
                )
    outputs = [n for n, node in nodes.items() if node.kind == "Output"]
    return NIRNetwork(ops, order, fwd_in, back_in, inputs_, outputs, choices)
