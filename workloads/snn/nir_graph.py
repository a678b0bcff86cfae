"""NIR import into a native, time-stepped numpy graph executor (spec snn.md §6).

:func:`import_nir` turns a ``nir.NIRGraph`` (or an ``.nir`` HDF5 file) into a :class:`NIRNetwork`.
Every continuous-time primitive is discretised with the step ``dt`` (s); NIR times (``tau``,
``delay``) are multiplied by ``time_unit`` (s per NIR unit; the NIR docs say ms, exporters differ).
All semantic choices are explicit arguments and are recorded in :attr:`NIRNetwork.choices`:

* ``discretisation``: ``exact`` (zero-order hold) or ``euler`` (§6.2);
* ``reset_mode``: ``to_value`` (NIR's v_reset, default), ``subtract`` (v -= theta) or ``none``;
* threshold comparison ``v >= theta`` (§6.3 proposal);
* scalar parameters broadcast to the shape inferred from upstream nodes (ambiguous -> error);
* recurrent (back) edges carry the source's output of the previous step.

Outputs at step ``k`` (0-based) are the states at time ``(k + 1) dt``; neurons start at rest
(``v = v_leak``), synaptic currents and delay lines at 0.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError, DataError
from workloads.snn.discretise import DISCRETISATIONS, li_coefficients

SUPPORTED = (
    "Input",
    "Output",
    "Affine",
    "Linear",
    "Scale",
    "Flatten",
    "Conv1d",
    "Delay",
    "Threshold",
    "I",
    "IF",
    "LI",
    "LIF",
    "CubaLIF",
)
RESET_MODES = ("to_value", "subtract", "none")


# --------------------------------------------------------------------------- ops
class _Op:
    """One executable node: ``step(x, state) -> y``; ``init(batch)`` gives its state."""

    spiking = False

    def __init__(self, name: str, out_shape: tuple[int, ...]):
        self.name = name
        self.out_shape = out_shape

    def init(self, batch: int) -> Any:
        return None

    def step(self, x: np.ndarray, state: Any) -> np.ndarray:
        return x


class _Affine(_Op):
    def __init__(self, name, out_shape, weight, bias):
        super().__init__(name, out_shape)
        self.wt = np.ascontiguousarray(weight.T)
        self.bias = bias

    def step(self, x, state):
        y = x @ self.wt
        return y if self.bias is None else y + self.bias


class _Scale(_Op):
    def __init__(self, name, out_shape, scale):
        super().__init__(name, out_shape)
        self.scale = scale

    def step(self, x, state):
        return x * self.scale


class _Flatten(_Op):
    def step(self, x, state):
        return x.reshape((x.shape[0],) + self.out_shape)


class _Conv1d(_Op):
    def __init__(self, name, out_shape, weight, bias, stride, pad, dilation, groups):
        super().__init__(name, out_shape)
        self.w, self.bias, self.stride, self.pad, self.dil, self.groups = weight, bias, stride, pad, dilation, groups

    def step(self, x, state):
        b, c_in, _ = x.shape
        c_out, c_g, k = self.w.shape
        xp = np.pad(x, ((0, 0), (0, 0), self.pad))
        length = self.out_shape[1]
        idx = np.arange(length)[:, None] * self.stride + np.arange(k)[None, :] * self.dil  # (L_out, K)
        cols = xp[:, :, idx]  # (B, C_in, L_out, K)
        og = c_out // self.groups
        out = np.empty((b, c_out, length))
        for g in range(self.groups):
            cg = cols[:, g * c_g : (g + 1) * c_g]  # (B, c_g, L, K)
            out[:, g * og : (g + 1) * og] = np.einsum("bclk,ock->bol", cg, self.w[g * og : (g + 1) * og])
        return out + self.bias[None, :, None]


class _Delay(_Op):
    """Per-element delay of ``steps`` (integers >= 0) with a ring buffer of depth max(steps)+1."""

    def __init__(self, name, out_shape, steps):
        super().__init__(name, out_shape)
        self.steps = steps
        self.depth = int(steps.max()) + 1 if steps.size else 1
        self.flat = np.arange(int(np.prod(out_shape)))

    def init(self, batch):
        return {"buf": np.zeros((self.depth, batch, int(np.prod(self.out_shape)))), "t": 0}

    def step(self, x, state):
        buf, t = state["buf"], state["t"]
        buf[t % self.depth] = x.reshape(x.shape[0], -1)
        y = buf[(t - self.steps.ravel()) % self.depth, :, self.flat].T
        state["t"] = t + 1
        return y.reshape(x.shape)


class _Threshold(_Op):
    spiking = True

    def __init__(self, name, out_shape, theta):
        super().__init__(name, out_shape)
        self.theta = theta

    def step(self, x, state):
        return (x >= self.theta).astype(float)


class _Neuron(_Op):
    """Leaky (or pure) integrator, optionally with a synaptic LI stage and a spiking threshold.

    ``v = alpha v + leak + gamma I_in``, with ``I_in`` either the input or the synaptic current
    ``i = alpha_s i + gamma_s x``; then spike ``v >= theta`` and reset per ``reset_mode``.
    """

    def __init__(self, name, out_shape, alpha, gamma, leak, v0, theta=None, v_reset=None, reset="none", syn=None):
        super().__init__(name, out_shape)
        self.alpha, self.gamma, self.leak, self.v0 = alpha, gamma, leak, v0
        self.theta, self.v_reset, self.reset, self.syn = theta, v_reset, reset, syn
        self.spiking = theta is not None

    def init(self, batch):
        st = {"v": np.broadcast_to(self.v0, (batch,) + self.out_shape).copy()}
        if self.syn is not None:
            st["i"] = np.zeros((batch,) + self.out_shape)
        return st

    def step(self, x, state):
        if self.syn is not None:
            a_s, g_s = self.syn
            state["i"] = a_s * state["i"] + g_s * x
            x = state["i"]
        v = self.alpha * state["v"] + self.leak + self.gamma * x
        if not self.spiking:
            state["v"] = v
            return v
        s = v >= self.theta
        if self.reset == "to_value":
            v = np.where(s, self.v_reset, v)
        elif self.reset == "subtract":
            v = v - self.theta * s
        state["v"] = v
        return s.astype(float)


# --------------------------------------------------------------------------- import
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

    ops: dict[str, _Op]
    order: list[str]
    inputs: dict[str, list[str]]  # node -> forward predecessors
    back_inputs: dict[str, list[str]]  # node -> recurrent predecessors (previous step)
    input_nodes: list[str]
    output_nodes: list[str]
    choices: dict[str, Any] = field(default_factory=dict)

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
        prev = {n: np.zeros((batch,) + op.out_shape) for n, op in self.ops.items()}
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
            prev = cur
        neurons = {n: int(np.prod(self.ops[n].out_shape)) for n in counts}
        return NIRRun(outs, counts, neurons, steps, batch)


def _arr(node: Any, attr: str, name: str) -> np.ndarray:
    value = getattr(node, attr)
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ConfigError(f"nodes.{name}.{attr}", "must be finite")
    return a


def _param(node: Any, attr: str, name: str, shape: tuple | None, choices: dict) -> np.ndarray:
    """A neuron parameter broadcast to ``shape`` (the shape inferred upstream); records broadcasts."""
    a = _arr(node, attr, name)
    if shape is None:
        if a.ndim == 0 or a.size == 1:
            raise ConfigError(
                f"nodes.{name}.{attr}",
                "scalar parameter with ambiguous layer shape (nothing upstream to broadcast to)",
            )
        return a
    try:
        out = np.broadcast_to(a, shape)
    except ValueError:
        raise ConfigError(
            f"nodes.{name}.{attr}", f"inconsistent shapes: parameter shape {a.shape} vs upstream shape {shape}"
        ) from None
    if a.shape != tuple(shape):
        choices["broadcast"].append(f"{name}.{attr}: {a.shape} -> {tuple(shape)}")
    return np.array(out, dtype=float)


def _positive(a: np.ndarray, path: str) -> None:
    if np.any(a <= 0):
        raise ConfigError(path, f"must be > 0 (a time constant), got min {a.min():g}")


def _graph_order(nodes: dict, edges: list) -> tuple[list[str], set]:
    """Topological order of forward edges and the set of back (recurrent) edges, via DFS from Inputs."""
    succ: dict[str, list[str]] = {n: [] for n in nodes}
    for a, b in edges:
        succ[a].append(b)
    state: dict[str, int] = {}
    back: set = set()
    post: list[str] = []
    roots = [n for n in nodes if type(nodes[n]).__name__ == "Input"] + list(nodes)
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


def _shape_of(type_dict: Any) -> tuple[int, ...] | None:
    if not type_dict:
        return None
    v = next(iter(type_dict.values()))
    if v is None:
        return None
    v = np.asarray(v).ravel()
    return tuple(int(i) for i in v) if v.size else None


def _node_types() -> set[str]:
    import nir

    found, todo = set(), [nir.NIRNode]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub.__name__)
            todo.append(sub)
    return found


def read_nir(path: str | Path) -> Any:
    """Read an ``.nir`` (HDF5) file; a missing, empty, truncated or non-NIR file, or a node of an unknown
    type, is a :class:`DataError` naming the file (and the node)."""
    import h5py
    import nir

    path = Path(path)
    if not path.is_file():
        raise DataError(str(path), "NIR file not found")
    known = _node_types()
    try:
        with h5py.File(path, "r") as f:
            if "node" not in f or not isinstance(f["node"], h5py.Group):
                raise DataError(str(path), "not a NIR file (no 'node' group)")
            todo = [("", f["node"])]
            while todo:
                where, group = todo.pop()
                for name, child in group["nodes"].items() if "nodes" in group else []:
                    if not isinstance(child, h5py.Group) or "type" not in child:
                        raise DataError(f"{path}: node {where}{name}", "has no 'type'")
                    kind = child["type"][()]
                    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
                    if kind not in known:
                        msg = f"unknown NIR node type {kind!r}; nir {nir.version} knows {', '.join(sorted(known))}"
                        raise DataError(f"{path}: node {where}{name}", msg)
                    todo.append((f"{where}{name}.", child))
        return nir.read(str(path))
    except DataError:
        raise
    except (OSError, KeyError, ValueError, TypeError, AssertionError, AttributeError) as e:
        raise DataError(str(path), f"not a readable NIR file: {type(e).__name__}: {e}") from None


def import_nir(
    graph: Any,
    dt: float,
    time_unit: float,
    discretisation: str = "exact",
    reset_mode: str = "to_value",
) -> NIRNetwork:
    """Import a NIR graph (object or path to an ``.nir`` file) for time-stepped execution.

    ``dt``: simulation step in s; ``time_unit``: seconds per NIR time unit (1e-3 for ms).
    Raises :class:`ConfigError` naming the node for unsupported types, shape mismatches and
    non-positive time constants or negative delays.
    """
    if isinstance(graph, (str, Path)):
        graph = read_nir(graph)
    if not (np.isfinite(dt) and dt > 0):
        raise ConfigError("dt", f"must be a finite number > 0 (s), got {dt!r}")
    if not (np.isfinite(time_unit) and time_unit > 0):
        raise ConfigError("time_unit", f"must be a finite number > 0 (s per NIR time unit), got {time_unit!r}")
    if discretisation not in DISCRETISATIONS:
        raise ConfigError("discretisation", f"must be one of {DISCRETISATIONS}, got {discretisation!r}")
    if reset_mode not in RESET_MODES:
        raise ConfigError("reset_mode", f"must be one of {RESET_MODES}, got {reset_mode!r}")
    nodes, edges = dict(graph.nodes), [tuple(e) for e in graph.edges]
    for n, node in nodes.items():
        kind = type(node).__name__
        if kind not in SUPPORTED:
            raise ConfigError(f"nodes.{n}", f"unsupported NIR node type {kind}; supported: {', '.join(SUPPORTED)}")
    for a, b in edges:
        for end in (a, b):
            if end not in nodes:
                raise ConfigError("edges", f"edge ({a!r}, {b!r}) refers to unknown node {end!r}")
    inputs_ = [n for n, node in nodes.items() if type(node).__name__ == "Input"]
    if not inputs_:
        raise ConfigError("nodes", "graph has no Input node")
    order, back = _graph_order(nodes, edges)
    fwd_in = {n: [a for a, b in edges if b == n and (a, b) not in back] for n in nodes}
    back_in = {n: [a for a, b in edges if b == n and (a, b) in back] for n in nodes}

    dt_n = dt / time_unit  # the step in NIR time units
    choices: dict[str, Any] = {
        "dt_s": dt,
        "time_unit_s": time_unit,
        "discretisation": discretisation,
        "reset_mode": reset_mode,
        "threshold_comparison": "v >= theta",
        "recurrent_edges": sorted(f"{a}->{b}" for a, b in back),
        "broadcast": [],
        "delay_steps": {},
    }
    ops: dict[str, _Op] = {}
    for n in order:
        node = nodes[n]
        kind = type(node).__name__
        ups = [ops[p].out_shape for p in fwd_in[n]]
        if kind != "Input" and not ups:
            raise ConfigError(f"nodes.{n}", "has no forward input edge (unreachable from an Input node)")
        if len(set(ups)) > 1:
            raise ConfigError(f"nodes.{n}", f"inconsistent shapes: incoming edges have shapes {ups}")
        shp = ups[0] if ups else None
        op = _make_op(n, kind, node, shp, dt_n, discretisation, reset_mode, choices)
        ops[n] = op
        for q in fwd_in[n]:  # an Input without a declared shape takes the shape its consumer needs
            if ops[q].out_shape is None:
                ops[q].out_shape = getattr(op, "in_shape", op.out_shape)
    for n, op in ops.items():
        if op.out_shape is None:
            raise ConfigError(f"nodes.{n}", "shape could not be inferred (declare the Input shape)")
    for n in nodes:
        for p in back_in[n]:
            exp = ops[n].in_shape if hasattr(ops[n], "in_shape") else ops[n].out_shape
            if ops[p].out_shape != exp:
                raise ConfigError(
                    f"nodes.{n}", f"inconsistent shapes: recurrent input from {p} has {ops[p].out_shape}, needs {exp}"
                )
    outputs = [n for n, node in nodes.items() if type(node).__name__ == "Output"]
    return NIRNetwork(ops, order, fwd_in, back_in, inputs_, outputs, choices)


def _make_op(n, kind, node, shp, dt_n, disc, reset_mode, choices) -> _Op:
    p = f"nodes.{n}"
    if kind == "Input":
        return _Op(n, _shape_of(node.input_type))
    if kind == "Output":
        return _Op(n, shp)
    if kind in ("Affine", "Linear"):
        w = _arr(node, "weight", n)
        if w.ndim != 2:
            raise ConfigError(f"{p}.weight", f"must be a 2-D (out, in) matrix, got shape {w.shape}")
        shp = (w.shape[1],) if shp is None else shp
        if shp[-1] != w.shape[1]:
            raise ConfigError(
                f"{p}.weight", f"inconsistent shapes: weight expects {w.shape[1]} inputs, upstream gives {shp}"
            )
        bias = _arr(node, "bias", n) if kind == "Affine" else None
        if bias is not None and bias.shape not in ((), (1,), (w.shape[0],)):
            raise ConfigError(f"{p}.bias", f"inconsistent shapes: bias {bias.shape} vs {w.shape[0]} outputs")
        op = _Affine(n, shp[:-1] + (w.shape[0],), w, bias)
        op.in_shape = shp
        return op
    if kind == "Scale":
        scale = _param(node, "scale", n, shp, choices)
        return _Scale(n, scale.shape, scale)
    if kind == "Flatten":
        s = _shape_of(node.input_type)
        shp = s if shp is None else shp
        if shp is None:
            raise ConfigError(f"{p}.input_type", "Flatten needs a concrete input shape")
        if s is not None and s != shp:
            raise ConfigError(f"{p}.input_type", f"inconsistent shapes: declares {s}, upstream gives {shp}")
        nd = len(shp)
        start, end = node.start_dim % nd, node.end_dim % nd
        out = shp[:start] + (int(np.prod(shp[start : end + 1])),) + shp[end + 1 :]
        return _Flatten(n, out)
    if kind == "Conv1d":
        w = _arr(node, "weight", n)
        if shp is None and node.input_shape is not None:
            shp = (w.shape[1] * node.groups, int(np.asarray(node.input_shape).ravel()[0]))
        if (
            shp is None
            or len(shp) != 2
            or w.ndim != 3
            or shp[0] != w.shape[1] * node.groups
            or w.shape[0] % node.groups
        ):
            raise ConfigError(
                f"{p}.weight", f"inconsistent shapes: weight {w.shape}, groups {node.groups}, input {shp}"
            )
        k, dil, stride = w.shape[2], int(node.dilation), int(node.stride)
        span = dil * (k - 1)
        if node.padding == "same":
            pad = (span // 2, span - span // 2)
        elif node.padding == "valid":
            pad = (0, 0)
        else:
            pad = (int(node.padding), int(node.padding))
        length = (shp[1] + sum(pad) - span - 1) // stride + 1
        bias = np.broadcast_to(_arr(node, "bias", n), (w.shape[0],))
        return _Conv1d(n, (w.shape[0], length), w, bias, stride, pad, dil, int(node.groups))
    if kind == "Delay":
        d = _param(node, "delay", n, shp, choices)
        if np.any(d < 0):
            raise ConfigError(f"{p}.delay", f"must be >= 0, got min {d.min():g}")
        exact = d / dt_n
        steps = np.rint(exact).astype(int)
        off = np.abs(exact - steps) > 1e-6 * np.maximum(steps, 1)
        choices["delay_steps"][n] = {"max": int(steps.max()), "rounded": int(off.sum())}
        if off.any():
            warnings.warn(f"{p}.delay: {int(off.sum())} delays are not multiples of dt; rounded to steps", stacklevel=3)
        return _Delay(n, steps.shape, steps)
    if kind == "Threshold":
        theta = _param(node, "threshold", n, shp, choices)
        return _Threshold(n, theta.shape, theta)
    # neurons
    shape = shp
    r = _param(node, "r", n, shape, choices)
    shape = r.shape
    if kind in ("I", "IF"):
        alpha, gamma, leak, v0 = np.ones(shape), r * dt_n, 0.0, np.zeros(shape)
    else:
        tau_name = "tau_mem" if kind == "CubaLIF" else "tau"
        tau = _param(node, tau_name, n, shape, choices)
        _positive(tau, f"{p}.{tau_name}")
        v_leak = _param(node, "v_leak", n, shape, choices)
        alpha, gamma = li_coefficients(tau, r, dt_n, disc)
        leak = (1.0 - alpha) * v_leak if disc == "exact" else dt_n / tau * v_leak
        v0 = v_leak
    syn = None
    if kind == "CubaLIF":
        tau_syn = _param(node, "tau_syn", n, shape, choices)
        _positive(tau_syn, f"{p}.tau_syn")
        w_in = _param(node, "w_in", n, shape, choices)
        a_s, g_s = li_coefficients(tau_syn, np.ones(shape), dt_n, disc)
        syn = (a_s, g_s * w_in)
    if kind in ("I", "LI"):
        return _Neuron(n, shape, alpha, gamma, leak, v0)
    theta = _param(node, "v_threshold", n, shape, choices)
    v_reset = _param(node, "v_reset", n, shape, choices) if node.v_reset is not None else np.zeros(shape)
    return _Neuron(n, shape, alpha, gamma, leak, v0, theta, v_reset, reset_mode, syn)
