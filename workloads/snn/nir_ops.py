"""Executable numpy operations for the NIR node types (built by :func:`make_op` from a :class:`NodeSpec`).

Each op has ``step(x, state) -> y`` on a batch ``(B, *in_shape)`` and ``init(batch)`` for its state.
``affine`` ops (stateless affine maps: Affine, Linear, Scale, convolutions, pooling, Flatten) are also
evaluated on a zero input to give the value a recurrent edge leaving them carries at the first step
(convention ``recurrent_start="bias"``, see :mod:`workloads.snn.nir_graph`), and :func:`affine_matrix`
unrolls them into one matrix for the layered (hardware) model.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from aimc_sim.errors import ConfigError
from workloads.snn.discretise import li_coefficients
from workloads.snn.nir_file import NodeSpec

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Semantics:
    """How continuous NIR neurons become discrete steps (each field is a switch of :func:`import_nir`)."""

    dt_n: float  # the step in NIR time units (dt / time_unit)
    discretisation: str = "exact"
    reset_mode: str = "to_value"
    threshold_comparison: str = ">="
    reset_delay: bool = False


class Op:
    """One executable node (identity by default: Input, Output and a subgraph's inner Input/Output)."""

    spiking = False
    affine = True

    def __init__(self, name: str, out_shape: Shape | None, in_shape: Shape | None = None):
        self.name = name
        self.out_shape = out_shape
        self.in_shape = in_shape if in_shape is not None else out_shape

    def init(self, batch: int) -> Any:
        return None

    def step(self, x: np.ndarray, state: Any) -> np.ndarray:
        return x


class Affine(Op):
    def __init__(self, name, out_shape, in_shape, weight, bias):
        super().__init__(name, out_shape, in_shape)
        self.wt = np.ascontiguousarray(weight.T)
        self.bias = bias

    def step(self, x, state):
        y = x @ self.wt
        return y if self.bias is None else y + self.bias


class Scale(Op):
    def __init__(self, name, shape, scale):
        super().__init__(name, shape)
        self.scale = scale

    def step(self, x, state):
        return x * self.scale


class Flatten(Op):
    def step(self, x, state):
        return x.reshape((x.shape[0],) + self.out_shape)


def _windows(x: np.ndarray, pad: tuple, window: Shape, stride: Shape, dilation: Shape, out: Shape) -> np.ndarray:
    """``(B, C, *out, *kernel)`` view of the padded input under each output position."""
    nd = len(window)
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple(pad))
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, window))
    v = sliding_window_view(xp, span, axis=tuple(range(2, 2 + nd)))
    spatial = tuple(slice(0, o * s, s) for o, s in zip(out, stride))
    kernel = tuple(slice(None, None, d) for d in dilation)
    return v[(slice(None), slice(None)) + spatial + kernel]


class Conv(Op):
    """N-d convolution (NIR Conv1d / Conv2d; PyTorch semantics: cross-correlation, symmetric padding)."""

    def __init__(self, name, out_shape, in_shape, weight, bias, stride, pad, dilation, groups):
        super().__init__(name, out_shape, in_shape)
        self.w, self.bias, self.stride, self.pad, self.dil, self.groups = weight, bias, stride, pad, dilation, groups

    def step(self, x, state):
        nd = len(self.stride)
        c_out, c_g = self.w.shape[:2]
        v = _windows(x, self.pad, self.w.shape[2:], self.stride, self.dil, self.out_shape[1:])
        og = c_out // self.groups
        axes_v = [1] + list(range(2 + nd, 2 + 2 * nd))
        axes_w = [1] + list(range(2, 2 + nd))
        parts = [
            np.tensordot(v[:, g * c_g : (g + 1) * c_g], self.w[g * og : (g + 1) * og], axes=(axes_v, axes_w))
            for g in range(self.groups)
        ]
        y = np.moveaxis(np.concatenate(parts, axis=-1), -1, 1)
        return y + self.bias.reshape((1, c_out) + (1,) * nd)


class Pool(Op):
    """SumPool2d (``mean=False``) or AvgPool2d (sum / kernel area; zero padding counted, as PyTorch)."""

    def __init__(self, name, out_shape, in_shape, kernel, stride, pad, mean):
        super().__init__(name, out_shape, in_shape)
        self.kernel, self.stride, self.pad, self.mean = kernel, stride, pad, mean

    def step(self, x, state):
        v = _windows(x, self.pad, self.kernel, self.stride, (1,) * len(self.kernel), self.out_shape[1:])
        y = v.sum(axis=tuple(range(-len(self.kernel), 0)))
        return y / float(np.prod(self.kernel)) if self.mean else y


class Delay(Op):
    """Per-element delay of ``steps`` (integers >= 0) with a ring buffer of depth max(steps)+1."""

    affine = False

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


class Threshold(Op):
    spiking = True
    affine = False

    def __init__(self, name, out_shape, theta):
        super().__init__(name, out_shape)
        self.theta = theta

    def step(self, x, state):
        return (x >= self.theta).astype(float)


class Neuron(Op):
    """Leaky (or pure) integrator, optionally with a synaptic LI stage and a spiking threshold.

    ``v = alpha v + leak + gamma I_in``, with ``I_in`` either the input or the synaptic current
    ``i = alpha_s i + gamma_s x``; then spike ``v >= theta_cmp`` and reset per ``reset``. With
    ``reset_delay`` a subtractive reset is applied at the next step after the decay (snnTorch).
    ``theta_cmp`` is ``theta`` for ``>=`` and the next float above it for ``>``.
    """

    affine = False

    def __init__(self, name, shape, alpha, gamma, leak, v0, theta=None, v_reset=None, sem=None, syn=None):
        super().__init__(name, shape)
        self.alpha, self.gamma, self.leak, self.v0 = alpha, gamma, leak, v0
        self.theta, self.v_reset, self.syn = theta, v_reset, syn
        self.spiking = theta is not None
        self.reset = sem.reset_mode if self.spiking else "none"
        self.reset_delay = bool(sem and sem.reset_delay)
        strict = sem is not None and sem.threshold_comparison == ">"
        self.theta_cmp = None if theta is None else (np.nextafter(theta, np.inf) if strict else theta)

    def init(self, batch):
        st = {"v": np.broadcast_to(self.v0, (batch,) + self.out_shape).copy()}
        if self.syn is not None:
            st["i"] = np.zeros((batch,) + self.out_shape)
        if self.reset_delay:
            st["pending"] = np.zeros((batch,) + self.out_shape)
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
        if self.reset_delay:
            v = v - state["pending"]
        s = v >= self.theta_cmp
        if self.reset == "to_value":
            v = np.where(s, self.v_reset, v)
        elif self.reset == "subtract" and self.reset_delay:
            state["pending"] = self.theta * s
        elif self.reset == "subtract":
            v = v - self.theta * s
        state["v"] = v
        return s.astype(float)


def affine_matrix(op: Op) -> tuple[np.ndarray, np.ndarray]:
    """``(M, c)`` with ``op(x) = x_flat M + c`` for an affine op: its response to each unit input."""
    n = int(np.prod(op.in_shape))
    c = op.step(np.zeros((1,) + op.in_shape), None).reshape(-1)
    m = op.step(np.eye(n).reshape((n,) + op.in_shape), None).reshape(n, -1) - c
    return m, c


# --------------------------------------------------------------------------- construction
def _finite(a: Any, path: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if not np.all(np.isfinite(a)):
        raise ConfigError(path, "must be finite")
    return a


def broadcast_param(spec: NodeSpec, key: str, name: str, shape: Shape | None, choices: dict) -> np.ndarray:
    """A parameter broadcast to ``shape`` (the shape inferred upstream); records each broadcast."""
    a = _finite(spec.params[key], f"nodes.{name}.{key}")
    if shape is None:
        if a.ndim == 0 or a.size == 1:
            raise ConfigError(
                f"nodes.{name}.{key}", "scalar parameter with ambiguous layer shape (nothing upstream to broadcast to)"
            )
        return a
    try:
        out = np.broadcast_to(a, shape)
    except ValueError:
        raise ConfigError(
            f"nodes.{name}.{key}", f"inconsistent shapes: parameter shape {a.shape} vs upstream shape {shape}"
        ) from None
    if a.shape != tuple(shape):
        choices["broadcast"].append(f"{name}.{key}: {a.shape} -> {tuple(shape)}")
    return np.array(out, dtype=float)


def _ints(value: Any, nd: int, path: str, minimum: int) -> Shape:
    """An int, 1-element or nd-element sequence/array as an nd-tuple of ints >= minimum."""
    a = np.asarray(value).ravel()
    if a.size == 1:
        a = np.repeat(a, nd)
    if a.size != nd or np.any(a != np.rint(a)) or np.any(a < minimum):
        raise ConfigError(path, f"must be an integer >= {minimum} or {nd} of them, got {value!r}")
    return tuple(int(i) for i in a)


def _padding(value: Any, span: Shape, path: str) -> tuple:
    if isinstance(value, str):
        if value == "same":
            return tuple((s // 2, s - 1 - s // 2) for s in span)
        if value == "valid":
            return tuple((0, 0) for _ in span)
        raise ConfigError(path, f"must be 'same', 'valid' or integers, got {value!r}")
    return tuple((p, p) for p in _ints(value, len(span), path, 0))


def shape_of(value: Any) -> Shape | None:
    if value is None:
        return None
    v = np.asarray(value).ravel()
    return tuple(int(i) for i in v) if v.size else None


def _spatial(name: str, kind: str, shp: Shape | None, spec: NodeSpec, nd: int, channels: int | None) -> Shape:
    if shp is None and spec.params.get("input_shape") is not None and channels is not None:
        shp = (channels,) + _ints(spec.params["input_shape"], nd, f"nodes.{name}.input_shape", 1)
    if shp is None or len(shp) != nd + 1:
        raise ConfigError(f"nodes.{name}", f"{kind} needs a (channels, {nd} spatial) input, upstream gives {shp}")
    return shp


def _conv(name: str, kind: str, spec: NodeSpec, shp: Shape | None) -> Conv:
    p = f"nodes.{name}"
    nd = 1 if kind == "Conv1d" else 2
    w = _finite(spec.params["weight"], f"{p}.weight")
    groups = _ints(spec.params["groups"], 1, f"{p}.groups", 1)[0]
    if w.ndim != nd + 2 or w.shape[0] % groups:
        raise ConfigError(f"{p}.weight", f"must be (C_out, C_in/groups, {nd} kernel dims), got {w.shape}")
    shp = _spatial(name, kind, shp, spec, nd, w.shape[1] * groups)
    if shp[0] != w.shape[1] * groups:
        raise ConfigError(f"{p}.weight", f"inconsistent shapes: weight {w.shape}, groups {groups}, input {shp}")
    stride = _ints(spec.params["stride"], nd, f"{p}.stride", 1)
    dil = _ints(spec.params["dilation"], nd, f"{p}.dilation", 1)
    span = tuple(d * (k - 1) + 1 for d, k in zip(dil, w.shape[2:]))
    pad = _padding(spec.params["padding"], span, f"{p}.padding")
    out = tuple((n + sum(pd) - s) // st + 1 for n, pd, s, st in zip(shp[1:], pad, span, stride))
    if min(out) < 1:
        raise ConfigError(f"{p}.weight", f"kernel span {span} larger than the padded input {shp[1:]}")
    bias = np.zeros(w.shape[0]) if spec.params["bias"] is None else _finite(spec.params["bias"], f"{p}.bias")
    bias = np.broadcast_to(bias.ravel(), (w.shape[0],))
    return Conv(name, (w.shape[0],) + out, shp, w, bias, stride, pad, dil, groups)


def _pool(name: str, kind: str, spec: NodeSpec, shp: Shape | None) -> Pool:
    p = f"nodes.{name}"
    shp = _spatial(name, kind, shp, spec, 2, None)
    kernel = _ints(spec.params["kernel_size"], 2, f"{p}.kernel_size", 1)
    stride = kernel if spec.params["stride"] is None else _ints(spec.params["stride"], 2, f"{p}.stride", 1)
    pad = _padding(spec.params["padding"], kernel, f"{p}.padding")
    out = tuple((n + sum(pd) - k) // s + 1 for n, pd, k, s in zip(shp[1:], pad, kernel, stride))
    if min(out) < 1:
        raise ConfigError(f"{p}.kernel_size", f"kernel {kernel} larger than the padded input {shp[1:]}")
    return Pool(name, (shp[0],) + out, shp, kernel, stride, pad, kind == "AvgPool2d")


def _affine(name: str, kind: str, spec: NodeSpec, shp: Shape | None) -> Affine:
    p = f"nodes.{name}"
    w = _finite(spec.params["weight"], f"{p}.weight")
    if w.ndim != 2:
        raise ConfigError(f"{p}.weight", f"must be a 2-D (out, in) matrix, got shape {w.shape}")
    shp = (w.shape[1],) if shp is None else shp
    if shp[-1] != w.shape[1]:
        msg = f"inconsistent shapes: weight expects {w.shape[1]} inputs, upstream gives {shp}"
        raise ConfigError(f"{p}.weight", msg)
    bias = _finite(spec.params["bias"], f"{p}.bias") if kind == "Affine" else None
    if bias is not None and bias.shape not in ((), (1,), (w.shape[0],)):
        raise ConfigError(f"{p}.bias", f"inconsistent shapes: bias {bias.shape} vs {w.shape[0]} outputs")
    return Affine(name, shp[:-1] + (w.shape[0],), shp, w, bias)


def _flatten(name: str, spec: NodeSpec, shp: Shape | None) -> Flatten:
    p = f"nodes.{name}"
    s = shape_of(spec.params.get("input_type"))
    shp = s if shp is None else shp
    if shp is None:
        raise ConfigError(f"{p}.input_type", "Flatten needs a concrete input shape")
    if s is not None and int(np.prod(s)) != int(np.prod(shp)):
        raise ConfigError(f"{p}.input_type", f"inconsistent shapes: declares {s}, upstream gives {shp}")
    nd = len(shp)
    start, end = int(spec.params["start_dim"]) % nd, int(spec.params["end_dim"]) % nd
    out = shp[:start] + (int(np.prod(shp[start : end + 1])),) + shp[end + 1 :]
    return Flatten(name, out, shp)


def _delay(name: str, spec: NodeSpec, shp: Shape | None, sem: Semantics, choices: dict) -> Delay:
    p = f"nodes.{name}"
    d = broadcast_param(spec, "delay", name, shp, choices)
    if np.any(d < 0):
        raise ConfigError(f"{p}.delay", f"must be >= 0, got min {d.min():g}")
    exact = d / sem.dt_n
    steps = np.rint(exact).astype(int)
    off = np.abs(exact - steps) > 1e-6 * np.maximum(steps, 1)
    choices["delay_steps"][name] = {"max": int(steps.max()), "rounded": int(off.sum())}
    if off.any():
        warnings.warn(f"{p}.delay: {int(off.sum())} delays are not multiples of dt; rounded to steps", stacklevel=4)
    return Delay(name, steps.shape, steps)


def _stage(spec: NodeSpec, key: str, name: str, shape: Shape, r: np.ndarray, sem: Semantics, choices: dict) -> tuple:
    """``(alpha, gamma, tau)`` of one leaky stage; Euler with dt > tau (negative decay) is an error."""
    tau = broadcast_param(spec, key, name, shape, choices)
    if np.any(tau <= 0):
        raise ConfigError(f"nodes.{name}.{key}", f"must be > 0 (a time constant), got min {tau.min():g}")
    if sem.discretisation == "euler" and np.any(sem.dt_n > tau):
        raise ConfigError(
            f"nodes.{name}.{key}",
            f"forward Euler with dt = {sem.dt_n:g} > tau = {tau.min():g} (NIR time units) gives a negative decay "
            "factor; use discretisation='exact', a smaller dt or check time_unit",
        )
    alpha, gamma = li_coefficients(tau, r, sem.dt_n, sem.discretisation)
    return alpha, gamma, tau


def _neuron(name: str, kind: str, spec: NodeSpec, shp: Shape | None, sem: Semantics, choices: dict) -> Neuron:
    r = broadcast_param(spec, "r", name, shp, choices)
    shape = r.shape
    if kind in ("I", "IF"):
        alpha, gamma, leak, v0 = np.ones(shape), r * sem.dt_n, 0.0, np.zeros(shape)
    else:
        alpha, gamma, tau = _stage(spec, "tau_mem" if kind.startswith("Cuba") else "tau", name, shape, r, sem, choices)
        v_leak = broadcast_param(spec, "v_leak", name, shape, choices)
        leak = (1.0 - alpha) * v_leak if sem.discretisation == "exact" else sem.dt_n / tau * v_leak
        v0 = v_leak
    syn = None
    if kind.startswith("Cuba"):
        a_s, g_s, _ = _stage(spec, "tau_syn", name, shape, np.ones(shape), sem, choices)
        syn = (a_s, g_s * broadcast_param(spec, "w_in", name, shape, choices))
    if kind in ("I", "LI", "CubaLI"):
        return Neuron(name, shape, alpha, gamma, leak, v0, syn=syn)
    theta = broadcast_param(spec, "v_threshold", name, shape, choices)
    has_reset = spec.params.get("v_reset") is not None
    v_reset = broadcast_param(spec, "v_reset", name, shape, choices) if has_reset else np.zeros(shape)
    return Neuron(name, shape, alpha, gamma, leak, v0, theta, v_reset, sem, syn)


def make_op(name: str, spec: NodeSpec, shp: Shape | None, sem: Semantics, choices: dict) -> Op:
    """The executable op of node ``name`` given the shape ``shp`` its forward inputs deliver."""
    kind = spec.kind
    if kind == "Input":
        return Op(name, shape_of(spec.params["shape"]))
    if kind in ("Output", "Identity"):
        return Op(name, shp if shp is not None else shape_of(spec.params.get("shape")))
    if kind in ("Affine", "Linear"):
        return _affine(name, kind, spec, shp)
    if kind == "Scale":
        scale = broadcast_param(spec, "scale", name, shp, choices)
        return Scale(name, scale.shape, scale)
    if kind == "Flatten":
        return _flatten(name, spec, shp)
    if kind in ("Conv1d", "Conv2d"):
        return _conv(name, kind, spec, shp)
    if kind in ("SumPool2d", "AvgPool2d"):
        return _pool(name, kind, spec, shp)
    if kind == "Delay":
        return _delay(name, spec, shp, sem, choices)
    if kind == "Threshold":
        theta = broadcast_param(spec, "threshold", name, shp, choices)
        return Threshold(name, theta.shape, theta)
    return _neuron(name, kind, spec, shp, sem, choices)
