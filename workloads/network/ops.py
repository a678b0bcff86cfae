"""The layer set of a general network: float numpy forward of each op and the digital work it costs.

Tensors are batched and laid out as in PyTorch / ONNX: images (N, C, H, W), sequences (N, C, L) for
convolutions, features (N, ..., F) for linear layers; axes given to ops count the batch axis. Every op is a
frozen dataclass with ``forward(*inputs)``; the two *analog* ops (:class:`Linear`, :class:`Conv`) are also
matrices, ``rows(x) @ matrix`` then ``unrows``, so the hardware path runs exactly the products of the float
path on tiles (a convolution is im2col: one MVM per output position). ``work(inputs, out)`` gives the digital
operations per call as ``(adds, muls, sram_reads_per_element)``, priced at the hardware's digital precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy.special import erf

from aimc_sim.errors import DataError

NONLINEAR_OPS = 5
"""Multiplies and adds charged per transcendental evaluation (exp, erf, tanh, rsqrt), a degree-5 polynomial or
rational approximation [proposal]; the same rule as the S4D blocks (``workloads/s4d/hardware.py``)."""

Work = tuple[float, float, float]


class ShapeError(DataError):
    """An op got an input of the wrong shape; the network re-raises it with the node's name."""

    def __init__(self, message: str):
        super().__init__("input", message)


def _need(ok: bool, message: str) -> None:
    if not ok:
        raise ShapeError(message)


def windows(x: np.ndarray, kernel: tuple[int, ...], stride, padding, dilation, fill: float = 0.0) -> np.ndarray:
    """Sliding windows over the trailing ``len(kernel)`` axes of (N, C, *spatial): (N, C, *out, *kernel)."""
    nd = len(kernel)
    _need(x.ndim == 2 + nd, f"expects (N, C{', L' if nd == 1 else ', H, W'}) input, got shape {x.shape}")
    if any(padding):
        x = np.pad(x, [(0, 0), (0, 0)] + [(p, p) for p in padding], constant_values=fill)
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))
    _need(all(s <= n for s, n in zip(span, x.shape[2:])), f"kernel {kernel} larger than padded input {x.shape[2:]}")
    w = sliding_window_view(x, span, axis=tuple(range(2, 2 + nd)))
    idx = (slice(None), slice(None)) + tuple(slice(None, None, s) for s in stride)
    idx += tuple(slice(None, None, d) for d in dilation)
    return w[idx]


@dataclass(frozen=True, eq=False)
class Linear:
    """y = x W^T + b over the last axis; ``weight`` in torch layout (out, in). Analog."""

    weight: np.ndarray
    bias: np.ndarray | None = None
    kind: ClassVar[str] = "Linear"

    @property
    def matrix(self) -> np.ndarray:
        return self.weight.T

    def rows(self, x: np.ndarray) -> np.ndarray:
        _need(x.shape[-1] == self.weight.shape[1], f"expects {self.weight.shape[1]} input features, got {x.shape}")
        return x.reshape(-1, x.shape[-1])

    def unrows(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        y = y.reshape(*x.shape[:-1], -1)
        return y if self.bias is None else y + self.bias.astype(y.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return self.unrows(self.rows(x) @ self.matrix.astype(x.dtype), x)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return (out.size if self.bias is not None else 0.0), 0.0, 0.0

    def with_affine(self, scale: np.ndarray, shift: np.ndarray) -> Linear:
        b = np.zeros(len(scale)) if self.bias is None else self.bias
        return Linear(self.weight * scale[:, None], b * scale + shift)


@dataclass(frozen=True, eq=False)
class Conv:
    """N-d convolution (1-d or 2-d), ``weight`` (O, C / groups, *kernel); im2col rows times a (C k, O) matrix
    (block-diagonal over groups). Analog."""

    weight: np.ndarray
    bias: np.ndarray | None
    stride: tuple[int, ...]
    padding: tuple[int, ...]
    dilation: tuple[int, ...]
    groups: int = 1
    kind: ClassVar[str] = "Conv"
    matrix: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        out_ch, cg = self.weight.shape[:2]
        k = int(np.prod(self.weight.shape[2:]))
        mat = np.zeros((cg * self.groups * k, out_ch), dtype=self.weight.dtype)
        per = out_ch // self.groups
        for g in range(self.groups):  # rows of group g's channels feed only group g's outputs
            w = self.weight[g * per : (g + 1) * per].reshape(per, cg * k).T
            mat[g * cg * k : (g + 1) * cg * k, g * per : (g + 1) * per] = w
        object.__setattr__(self, "matrix", mat)

    @property
    def kernel(self) -> tuple[int, ...]:
        return tuple(self.weight.shape[2:])

    def rows(self, x: np.ndarray) -> np.ndarray:
        c_in = self.weight.shape[1] * self.groups
        _need(x.ndim == 2 + len(self.kernel) and x.shape[1] == c_in, f"expects (N, {c_in}, ...) input, got {x.shape}")
        w = windows(x, self.kernel, self.stride, self.padding, self.dilation)
        nd = len(self.kernel)
        # (N, C, *out, *k) -> (N, *out, C, *k) -> (N prod(out), C prod(k))
        order = (0, *range(2, 2 + nd), 1, *range(2 + nd, 2 + 2 * nd))
        return np.ascontiguousarray(w.transpose(order)).reshape(-1, self.matrix.shape[0])

    def out_spatial(self, x: np.ndarray) -> tuple[int, ...]:
        return tuple(
            (n + 2 * p - (k - 1) * d - 1) // s + 1
            for n, k, s, p, d in zip(x.shape[2:], self.kernel, self.stride, self.padding, self.dilation)
        )

    def unrows(self, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        sp = self.out_spatial(x)
        y = y.reshape(x.shape[0], *sp, -1)
        y = np.moveaxis(y, -1, 1)
        return y if self.bias is None else y + self.bias.reshape(-1, *([1] * len(sp))).astype(y.dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(self.unrows(self.rows(x) @ self.matrix.astype(x.dtype), x))

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return (out.size if self.bias is not None else 0.0), 0.0, 0.0

    def with_affine(self, scale: np.ndarray, shift: np.ndarray) -> Conv:
        b = np.zeros(len(scale)) if self.bias is None else self.bias
        w = self.weight * scale.reshape(-1, *([1] * (self.weight.ndim - 1)))
        return Conv(w, b * scale + shift, self.stride, self.padding, self.dilation, self.groups)


@dataclass(frozen=True, eq=False)
class ChannelAffine:
    """Per-channel y = x scale + shift on axis 1 (an inference BatchNorm that could not be folded)."""

    scale: np.ndarray
    shift: np.ndarray
    kind: ClassVar[str] = "BatchNorm"

    def forward(self, x: np.ndarray) -> np.ndarray:
        _need(x.ndim >= 2 and x.shape[1] == len(self.scale), f"expects {len(self.scale)} channels, got {x.shape}")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        return x * self.scale.reshape(shape).astype(x.dtype) + self.shift.reshape(shape).astype(x.dtype)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return out.size, out.size, 0.0


def _gelu(x: np.ndarray) -> np.ndarray:
    return (0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))).astype(x.dtype)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(x.dtype)


_ACTIVATIONS = {
    # name: (function, adds per element, multiplies per element)
    "relu": (lambda x: np.maximum(x, 0), 1, 0),
    "gelu": (_gelu, NONLINEAR_OPS + 1, NONLINEAR_OPS + 2),
    "silu": (lambda x: x * _sigmoid(x), NONLINEAR_OPS + 1, NONLINEAR_OPS + 2),
    "tanh": (np.tanh, NONLINEAR_OPS, NONLINEAR_OPS),
    "sigmoid": (_sigmoid, NONLINEAR_OPS + 1, NONLINEAR_OPS + 1),
    "erf": (lambda x: erf(x).astype(x.dtype), NONLINEAR_OPS, NONLINEAR_OPS),
}
ACTIVATIONS = tuple(_ACTIVATIONS)


@dataclass(frozen=True)
class Activation:
    """Elementwise nonlinearity: relu, gelu (exact, erf), silu, tanh, sigmoid or erf."""

    name: str
    kind: ClassVar[str] = "Activation"

    def __post_init__(self) -> None:
        if self.name not in _ACTIVATIONS:
            raise DataError("activation", f"must be one of {', '.join(ACTIVATIONS)}, got {self.name!r}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        return _ACTIVATIONS[self.name][0](x)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return out.size * _ACTIVATIONS[self.name][1], out.size * _ACTIVATIONS[self.name][2], 0.0


@dataclass(frozen=True)
class Softmax:
    """Softmax along ``axis`` (max-subtracted); ``log`` for log-softmax."""

    axis: int = -1
    log: bool = False
    kind: ClassVar[str] = "Softmax"

    def forward(self, x: np.ndarray) -> np.ndarray:
        _need(-x.ndim <= self.axis < x.ndim, f"axis {self.axis} out of range for shape {x.shape}")
        z = x - x.max(axis=self.axis, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=self.axis, keepdims=True)
        return (z - np.log(s) if self.log else e / s).astype(x.dtype)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return out.size * (NONLINEAR_OPS + 3), out.size * (NONLINEAR_OPS + 1), 0.0


@dataclass(frozen=True)
class Pool:
    """max / avg / sum pooling over the trailing ``len(kernel)`` axes; ``kernel=None`` pools globally (keeps
    size-1 axes, as GlobalAveragePool and AdaptiveAvgPool(1))."""

    mode: str
    kernel: tuple[int, ...] | None
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    count_include_pad: bool = True
    n_dims: int = 2
    kind: ClassVar[str] = "Pool"

    def __post_init__(self) -> None:
        if self.mode not in ("max", "avg", "sum"):
            raise DataError("pool.mode", f"must be one of 'max', 'avg', 'sum', got {self.mode!r}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        _need(x.ndim == 2 + self.n_dims, f"expects {2 + self.n_dims}-D input (N, C, ...), got {x.shape}")
        if self.kernel is None:
            axes = tuple(range(2, x.ndim))
            reduce = {"max": np.max, "avg": np.mean, "sum": np.sum}[self.mode]
            return reduce(x, axis=axes, keepdims=True).astype(x.dtype)
        nd = len(self.kernel)
        pad, ones = self.padding or (0,) * nd, (1,) * nd
        fill = -np.inf if self.mode == "max" else 0.0
        w = windows(x, self.kernel, self.stride or self.kernel, pad, ones, fill)
        axes = tuple(range(w.ndim - nd, w.ndim))
        if self.mode == "max":
            return w.max(axis=axes)
        s = w.sum(axis=axes)
        if self.mode == "sum":
            return s
        if self.count_include_pad or not any(pad):
            return (s / np.prod(self.kernel)).astype(x.dtype)
        counts = windows(np.ones((1, 1, *x.shape[2:]), x.dtype), self.kernel, self.stride or self.kernel, pad, ones)
        return (s / counts.sum(axis=axes)).astype(x.dtype)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        k = ins[0].size / out.size if self.kernel is None else float(np.prod(self.kernel))
        return out.size * (k - 1), (out.size if self.mode == "avg" else 0.0), 0.0


_REDUCE = {"max": np.max, "avg": np.mean, "sum": np.sum}


@dataclass(frozen=True)
class Reduce:
    """max / avg (mean) / sum over ``axes`` (batch axis counted, never reduced), keeping them as size 1 if
    ``keepdims`` (``x.mean(dim=(2, 3))``, ReduceMean)."""

    mode: str
    axes: tuple[int, ...]
    keepdims: bool = True
    kind: ClassVar[str] = "Reduce"

    def __post_init__(self) -> None:
        if self.mode not in _REDUCE:
            raise DataError("reduce.mode", f"must be one of {', '.join(_REDUCE)}, got {self.mode!r}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        axes = tuple(a % x.ndim for a in self.axes) if x.ndim else ()
        _need(all(-x.ndim <= a < x.ndim for a in self.axes), f"axes {self.axes} out of range for shape {x.shape}")
        _need(0 not in axes, "cannot reduce over the batch axis")
        return _REDUCE[self.mode](x, axis=axes, keepdims=self.keepdims).astype(x.dtype)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return ins[0].size - out.size, (out.size if self.mode == "avg" else 0.0), 0.0


@dataclass(frozen=True)
class Reshape:
    """Reshape each sample to ``shape`` (may hold one -1); flatten is ``Reshape((-1,))``."""

    shape: tuple[int, ...]
    kind: ClassVar[str] = "Reshape"

    def forward(self, x: np.ndarray) -> np.ndarray:
        n = int(np.prod(x.shape[1:]))
        known = int(np.prod([s for s in self.shape if s != -1]))
        fits = n % max(known, 1) == 0 and (-1 in self.shape or known == n)
        _need(fits, f"cannot reshape {x.shape[1:]} to {self.shape}")
        return x.reshape(x.shape[0], *self.shape)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return 0.0, 0.0, 0.0


_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide}


@dataclass(frozen=True, eq=False)
class Elementwise:
    """add / sub / mul / div of two tensors (residual add, gates), or of a tensor and a ``constant``
    (``constant_first`` for c - x, c / x), with numpy broadcasting."""

    op: str
    constant: np.ndarray | None = None
    constant_first: bool = False
    kind: ClassVar[str] = "Elementwise"

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        args = list(xs)
        if self.constant is not None:
            c = self.constant.astype(xs[0].dtype)
            args = [c, xs[0]] if self.constant_first else [xs[0], c]
        try:
            shape = np.broadcast_shapes(*(a.shape for a in args))
        except ValueError:
            shapes = " and ".join(str(a.shape) for a in args)
            raise ShapeError(f"{self.op} of shapes {shapes} does not broadcast") from None
        _need(shape[0] == xs[0].shape[0], f"{self.op} changes the batch size to {shape[0]}")
        return _BINARY[self.op](*args)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return (0.0, out.size, 0.0) if self.op in ("mul", "div") else (out.size, 0.0, 0.0)


@dataclass(frozen=True)
class Concat:
    """Concatenation along ``axis`` (batch axis counted)."""

    axis: int = 1
    kind: ClassVar[str] = "Concat"

    def forward(self, *xs: np.ndarray) -> np.ndarray:
        try:
            return np.concatenate(xs, axis=self.axis)
        except (ValueError, np.exceptions.AxisError) as e:
            raise ShapeError(f"cannot concatenate shapes {[x.shape for x in xs]} on axis {self.axis}: {e}") from None

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return 0.0, 0.0, 0.0


@dataclass(frozen=True, eq=False)
class LayerNorm:
    """Normalise over the last ``weight.ndim`` axes, then scale and shift. Digital."""

    weight: np.ndarray
    bias: np.ndarray
    eps: float = 1e-5
    kind: ClassVar[str] = "LayerNorm"

    def forward(self, x: np.ndarray) -> np.ndarray:
        k = self.weight.ndim
        _need(x.shape[-k:] == self.weight.shape, f"expects trailing shape {self.weight.shape}, got {x.shape}")
        axes = tuple(range(x.ndim - k, x.ndim))
        mu = x.mean(axis=axes, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mu) / np.sqrt(var + self.eps)
        return (y * self.weight + self.bias).astype(x.dtype)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        groups = out.size / self.weight.size
        return 4.0 * out.size + NONLINEAR_OPS * groups, 3.0 * out.size + NONLINEAR_OPS * groups, 0.0


@dataclass(frozen=True, eq=False)
class Embedding:
    """Table lookup: integer indices (N, ...) -> (N, ..., D) rows of ``table`` (V, D). Digital (memory reads)."""

    table: np.ndarray
    kind: ClassVar[str] = "Embedding"

    def forward(self, idx: np.ndarray) -> np.ndarray:
        if idx.dtype.kind == "f":
            _need(bool(np.all(idx == np.round(idx))), "expects integer indices, got non-integer values")
        i = idx.astype(np.int64)
        v = self.table.shape[0]
        _need(bool(np.all((i >= 0) & (i < v))), f"indices must lie in 0..{v - 1}, got {i.min()}..{i.max()}")
        return self.table[i]

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return 0.0, 0.0, float(out.size)


ANALOG_OPS = (Linear, Conv)
