"""Layers that run over a time axis inside a general network: S4D / Binary S4D / GSU blocks and spiking layers.

Both take batched sequences (N, L, D) or spike rasters (N, T, D) and step along axis 1.

- :class:`S4DBlock` is one layer of a :class:`workloads.s4d.model.S4DModel`: SSM, activation, GLU or GSU mixing,
  residual, LayerNorm. Its float forward and its hardware mapping are the S4D workload's own
  (:meth:`S4DModel.block`, :mod:`workloads.s4d.hardware`). The mixing matrices go on tiles through the network's
  matrix path, like a Linear. The fused SSM matrices are packed block-diagonally and fed back through ADC -> DAC
  every step (``recurrence: analog``), or run in near-memory digital logic (``recurrence: digital``).
- :class:`SpikingLayer` holds neurons of :mod:`workloads.snn.dynamics` (LIF, IF, AdLIF, CubaLIF, or a
  non-spiking LI readout) and an optional recurrent matrix. Per step, current = input[t] + s[t-1] W_rec + b_rec,
  then the neuron update. The recurrent bias follows the ``recurrent_start`` convention of docs/snn.md. The input
  weights are the preceding Linear or Conv node, so they map onto tiles as any Linear. The recurrent matrix is
  programmed through the same network matrix path. The neurons are near-memory digital neurons that run the
  dynamics exactly, booked at the network's digital precision.

Besides ``forward`` and ``work`` these ops implement :class:`ArrayOp`, the interface through which
:class:`workloads.network.hardware.HardwareNetwork` programs, calibrates and runs an op with arrays of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from aimc_sim.cost import Ledger
from aimc_sim.cost.events import NEURON_SPIKE, DigitalOp, MemoryAccess
from aimc_sim.errors import ConfigError
from workloads.network.ops import ShapeError, Work
from workloads.s4d.model import S4DModel
from workloads.snn.dynamics import NeuronDynamics

CALIBRATED = ("calibrated", "per_column")


@dataclass(frozen=True)
class ArrayContext:
    """What an :class:`ArrayOp` needs from the hardware network: the tile (None for ``backend: float``), read
    time, ledger, random generator, the digital precision's events, the S4D hardware options,
    ``program_matrix(name, matrix (n_in, n_out))``, the network's matrix path (one ``AnalogMatrix`` per matrix,
    its events booked to the ledger layer ``name``), and the op's node name ``layer``."""

    tile: Any
    t: float
    ledger: Ledger
    rng: np.random.Generator | None
    add: DigitalOp
    mul: DigitalOp
    read: MemoryAccess
    s4d: Any  # workloads.s4d.hardware.S4DHardwareConfig
    program_matrix: Callable[[str, np.ndarray], Any]
    layer: str = ""

    def matrix(self, part: str, matrix: np.ndarray) -> Any:
        """Program ``matrix`` for the ledger layer ``<layer>.<part>`` (``<layer>`` if ``part`` is empty)."""
        return self.program_matrix(f"{self.layer}.{part}" if part else self.layer, matrix)

    def macs(self, count: float) -> None:
        """Book ``count`` digital multiply-accumulates with one weight read each (the float baseline)."""
        for event in (self.add, self.mul, self.read):
            self.ledger.add(event, count)


@runtime_checkable
class ArrayOp(Protocol):
    """An op with arrays of its own, run step by step on hardware."""

    kind: str

    def forward(self, x: np.ndarray) -> np.ndarray: ...

    def program(self, ctx: ArrayContext) -> Any:
        """Program the op's arrays; the returned state goes to :meth:`run` (``ctx.tile`` None: nothing)."""
        ...

    def arrays(self, state: Any) -> list[Any]:
        """The programmed arrays in ``state`` (for tile counts and ADC calibration)."""
        ...

    def products(self, state: Any, x: np.ndarray) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        """(array, its float inputs, its matrix) of each array product on the float run of ``x``: the inputs
        ADC ranges are calibrated on. Inputs are (rows, n_in) with a matrix (n_in, n_out), or (rows, k, S)
        with k blocks (k, S, S)."""
        ...

    def run(self, state: Any, x: np.ndarray, ctx: ArrayContext) -> np.ndarray:
        """The hardware forward; books its digital work in ``ctx.ledger``."""
        ...

    def n_weights(self) -> int:
        """Weights held on arrays."""
        ...

    def complexity(self, in_shape: tuple[int, ...]) -> tuple[float, float]:
        """(analog MACs, MVMs) per sample for a per-sample input shape."""
        ...


def _need_sequence(x: np.ndarray, width: int, what: str) -> None:
    if x.ndim != 3 or x.shape[2] != width:
        raise ShapeError(f"expects {what} (N, L, {width}), got shape {x.shape}")


def _float_linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    del name
    return (a @ W.T.astype(a.dtype, copy=False) + b).astype(a.dtype, copy=False)


_VARIANT_KIND = {"s4d": "S4D", "binary": "BinaryS4D", "gsu": "GSU"}


@dataclass(frozen=True, eq=False)
class S4DBlock:
    """Layer ``index`` of ``model`` (an :class:`S4DModel`) on sequences (N, L, d_model)."""

    model: S4DModel
    index: int

    @property
    def kind(self) -> str:
        return _VARIANT_KIND[self.model.config.variant]

    @property
    def layer(self) -> Any:
        return self.model.layers[self.index]

    def _mix(self) -> dict[str, np.ndarray]:
        from workloads.s4d.hardware import mix_matrices

        return mix_matrices(self.model.config, self.index, self.layer)

    def forward(self, h: np.ndarray) -> np.ndarray:
        _need_sequence(h, self.model.config.d_model, "sequences")
        m = self.model
        return m.block(self.index, h, lambda i, u: m.ssm_forward(i, u, "recurrent"), _float_linear)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return 0.0, 0.0, 0.0  # booked by run()

    def program(self, ctx: ArrayContext) -> Any:
        from workloads.s4d.hardware import program_ssm

        if ctx.tile is None:
            return None
        # ledger layers as in the S4D workload: the mixing matrices (GSU: both, in parallel) in <node>.mix, the
        # SSM arrays in <node>.ssm, so that the latency model runs them one after the other
        mats = {name: ctx.matrix("mix", np.ascontiguousarray(W.T)) for name, W in self._mix().items()}
        ssm_tile = ctx.s4d.ssm_tile_config()
        with ctx.ledger.scope(f"{ctx.layer}.ssm"):
            groups = program_ssm(ctx.s4d, self.layer, ssm_tile, ctx.s4d.block_sim(ctx.tile), ctx.rng, ctx.ledger)
        return mats, groups, ctx.s4d

    def arrays(self, state: Any) -> list[Any]:
        return [] if state is None else [*state[0].values(), *(g for _, g in state[1])]

    def products(self, state: Any, h: np.ndarray) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        from workloads.s4d.hardware import ssm_inputs

        mats, groups, hw = state
        m, seen = self.model, {}

        def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            seen[name] = a
            return _float_linear(name, a, W, b)

        def ssm(i: int, u: np.ndarray) -> np.ndarray:
            seen["ssm"] = list(ssm_inputs(hw, m, i, groups, u))
            return m.ssm_forward(i, u, "fused")

        m.block(self.index, h, ssm, linear)
        for mat, v in seen["ssm"]:
            ch = next(c for c, g in groups if g is mat)
            yield mat, v, np.swapaxes(self.layer.M[ch], 1, 2)
        for name, W in self._mix().items():
            yield mats[name], seen[name], W.T

    def run(self, state: Any, h: np.ndarray, ctx: ArrayContext) -> np.ndarray:
        from workloads.s4d.hardware import count_digital_block, count_digital_ssm, run_ssm

        _need_sequence(h, self.model.config.d_model, "sequences")
        m, lay, cfg = self.model, self.layer, self.model.config
        steps = h.shape[0] * h.shape[1]
        if state is None:  # backend float: the digital baseline
            count_digital_ssm(ctx.ledger, cfg, lay, steps)
            for W in self._mix().values():
                ctx.macs(steps * np.count_nonzero(W))
            count_digital_block(ctx.ledger, cfg, steps)
            return self.forward(h)
        mats, groups, _ = state

        def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            with ctx.ledger.scope(f"{ctx.layer}.mix"):
                out = mats[name].mvm(a, t=ctx.t) + b
                ctx.ledger.add(ctx.add, out.size)  # bias after the ADC
            return out.astype(a.dtype)

        def ssm(i: int, u: np.ndarray) -> np.ndarray:
            with ctx.ledger.scope(f"{ctx.layer}.ssm"):
                if ctx.s4d.recurrence == "digital":
                    count_digital_ssm(ctx.ledger, cfg, lay, steps)
                    return m.ssm_forward(i, u, "fused")
                return run_ssm(ctx.s4d, lay, groups, u)

        y = m.block(self.index, h, ssm, linear)
        count_digital_block(ctx.ledger, cfg, steps)
        return y

    def n_weights(self) -> int:
        lay = self.layer
        return int(sum(W.size for W in self._mix().values()) + lay.M[lay.channel_mask].size)

    def complexity(self, in_shape: tuple[int, ...]) -> tuple[float, float]:
        L = float(in_shape[0])
        lay = self.layer
        mix = self._mix().values()
        macs = L * (sum(W.size for W in mix) + lay.M[lay.channel_mask].size)
        return macs, L * len(mix)


_NEURON_KIND = {"lif": "LIF", "li": "LI", "adlif": "AdLIF", "cubalif": "CubaLIF"}


@dataclass(frozen=True, eq=False)
class SpikingLayer:
    """Neurons (:class:`NeuronDynamics`) over the time axis of their input current (N, T, n), with an optional
    recurrent matrix ``recurrent`` (n, n) in ``s @ W`` layout and bias; outputs spikes (N, T, n), or the
    membrane of a non-spiking LI layer."""

    neurons: NeuronDynamics
    recurrent: np.ndarray | None = None
    recurrent_bias: np.ndarray | None = None
    recurrent_start: str = "bias"

    def __post_init__(self) -> None:
        n = self.neurons.size
        if self.recurrent is not None and self.recurrent.shape != (n, n):
            raise ConfigError("recurrent", f"must have shape {(n, n)} for {n} neurons, got {self.recurrent.shape}")
        if self.recurrent_bias is not None and (self.recurrent is None or self.recurrent_bias.shape != (n,)):
            raise ConfigError("recurrent_bias", f"needs a recurrent matrix and shape {(n,)}")
        if self.recurrent_start not in ("bias", "zero"):
            raise ConfigError("recurrent_start", f"must be one of ('bias', 'zero'), got {self.recurrent_start!r}")

    @property
    def kind(self) -> str:
        neu = self.neurons
        if neu.kind == "lif" and np.all(neu.family["alpha"] == 1.0):
            return "IF"
        return _NEURON_KIND[neu.kind]

    def _loop(self, x: np.ndarray, recurrent: Callable[[np.ndarray], np.ndarray] | None, ledger: Any = None):
        from workloads.snn.model import recurrent_offset

        _need_sequence(x, self.neurons.size, "input currents")
        n, steps, _ = x.shape
        state = self.neurons.init(n)
        s = np.zeros((n, self.neurons.size))
        out = np.empty(x.shape, dtype=x.dtype)
        for t in range(steps):
            cur = x[:, t].astype(np.float64)
            if recurrent is not None:
                cur = cur + recurrent(s) + recurrent_offset(self.recurrent_bias, self.recurrent_start, t)
            state, s = self.neurons.step(state, cur)
            out[:, t] = s
            if ledger is not None and self.neurons.spiking:
                ledger.add(NEURON_SPIKE, float(np.count_nonzero(s)))
        return out

    def forward(self, x: np.ndarray) -> np.ndarray:
        rec = None if self.recurrent is None else (lambda s: s @ self.recurrent)
        return self._loop(x, rec)

    def work(self, ins: list[np.ndarray], out: np.ndarray) -> Work:
        return 0.0, 0.0, 0.0  # booked by run()

    def program(self, ctx: ArrayContext) -> Any:
        if ctx.tile is None or self.recurrent is None:
            return None
        return ctx.matrix("", np.ascontiguousarray(self.recurrent))

    def arrays(self, state: Any) -> list[Any]:
        return [] if state is None else [state]

    def products(self, state: Any, x: np.ndarray) -> Iterator[tuple[Any, np.ndarray, np.ndarray]]:
        if state is None:
            return
        s = self.forward(x)  # the previous step's spikes drive the recurrent array
        prev = np.concatenate([np.zeros_like(s[:, :1]), s[:, :-1]], axis=1)
        yield state, prev.reshape(-1, s.shape[2]), self.recurrent

    def run(self, state: Any, x: np.ndarray, ctx: ArrayContext) -> np.ndarray:
        from workloads.snn.hardware import DigitalNeurons

        muls, adds = DigitalNeurons.update_ops(self.neurons.states)
        cells = x.shape[0] * x.shape[1] * self.neurons.size
        ctx.ledger.add(ctx.mul, cells * muls)
        ctx.ledger.add(ctx.add, cells * adds)
        if self.recurrent is None:
            return self._loop(x, None, ctx.ledger)
        ctx.ledger.add(ctx.add, cells * (1 if self.recurrent_bias is None else 2))  # + s W_rec (+ b_rec)
        if state is None:  # backend float: the digital baseline
            ctx.macs(x.shape[0] * x.shape[1] * np.count_nonzero(self.recurrent))
            return self._loop(x, lambda s: s @ self.recurrent, ctx.ledger)
        return self._loop(x, lambda s: state.mvm(s, t=ctx.t), ctx.ledger)

    def n_weights(self) -> int:
        return 0 if self.recurrent is None else int(self.recurrent.size)

    def complexity(self, in_shape: tuple[int, ...]) -> tuple[float, float]:
        if self.recurrent is None:
            return 0.0, 0.0
        return float(in_shape[0] * self.recurrent.size), float(in_shape[0])


ARRAY_OPS = (S4DBlock, SpikingLayer)
