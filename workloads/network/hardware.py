"""A general network on simulated crossbar tiles.

Mapping: every Linear and Conv is weight-stationary on its own :class:`aimc_sim.crossbar.AnalogMatrix` (split
over as many tiles as it needs). A convolution runs as im2col: each output position is one MVM of the
(C k) patch, so the ledger's ``mvm`` count of a Conv2d layer is N H_out W_out per batch of N images. The
bias is added after the ADC in digital logic. Every other op (activations, pooling, residual adds,
concatenation, unfolded BatchNorm, LayerNorm, embedding lookups) runs in near-memory digital logic at
``digital`` precision and is booked in the ledger as :class:`aimc_sim.cost.events.DigitalOp` adds and multiplies
at that precision (counts from :mod:`workloads.network.ops`), table reads as one SRAM ``MemoryAccess`` of the
precision's width per element.

Sequence and spiking layers (:mod:`workloads.network.sequence_ops`: S4D / GSU blocks, LIF / AdLIF / CubaLIF /
IF layers) program their own arrays through the same matrix path (their mixing and recurrent matrices are
``AnalogMatrix`` objects like a Linear's; an S4D block's fused SSM matrices are packed as the S4D workload packs
them, with the ``s4d`` options) and book their own digital work.

If an array's ADC range is ``calibrated`` or ``per_column``, its ranges are calibrated on the float inputs of its
layer over the first ``adc_calibration`` training samples.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from aimc_sim.config import Config, check, int_in, nonnegative, one_of
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import MVM, DigitalOp, Memory, MemoryAccess, Op, Precision
from aimc_sim.errors import ConfigError, DataError
from workloads.hwconfig import coerce_config, resolve_tile
from workloads.network.graph import Network, Node
from workloads.network.ops import ANALOG_OPS
from workloads.network.sequence_ops import ARRAY_OPS, CALIBRATED, ArrayContext
from workloads.result import Result, exclude_programming, score

PRECISIONS = {p.label: p for p in Precision}


@dataclass(frozen=True)
class NetworkHardwareConfig(Config):
    """Where a network runs. ``tile``: a tile preset name, a YAML path or a dict of tile fields (``preset``
    names the base); ``backend``: ``analog`` (Linear / Conv on tiles) or ``float`` (the same network in the
    float numpy forward, priced as a digital baseline: one multiply, one add and one SRAM weight read per
    MAC at ``digital`` precision); ``t``: read time after programming (s); ``digital``: precision of the digital ops
    (a :class:`aimc_sim.cost.events.Precision` label: fp32, int8, ...); ``batch``: samples per forward call;
    ``adc_calibration``: training samples used to calibrate ADC ranges (calibrated / per_column tiles);
    ``s4d``: options of the S4D / GSU blocks, fields of :class:`workloads.s4d.hardware.S4DHardwareConfig`
    (``recurrence``, ``ssm_adc_range``, ``ssm_sim``, ``ssm_channels_per_tile``)."""

    tile: str | dict[str, Any] = "pcm-default"
    backend: str = field(default="analog", metadata=check(one_of("analog", "float")))
    t: float = field(default=0.0, metadata=check(nonnegative))
    cost_model: str = "22nm"
    digital: str = field(default="fp32", metadata=check(one_of(*PRECISIONS)))
    batch: int = field(default=256, metadata=check(int_in(1)))
    adc_calibration: int = field(default=32, metadata=check(int_in(1)))
    s4d: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        self.s4d_config()

    def tile_config(self) -> Any:
        """The resolved :class:`aimc_sim.crossbar.TileConfig`."""
        return resolve_tile(self.tile)

    def s4d_config(self) -> Any:
        """The :class:`S4DHardwareConfig` of the S4D / GSU blocks (tile, t and cost model are this config's)."""
        from workloads.s4d.hardware import S4DHardwareConfig

        allowed = {"recurrence", "ssm_adc_range", "ssm_sim", "ssm_channels_per_tile"}
        bad = sorted(set(self.s4d) - allowed)
        if bad:
            raise ConfigError(f"hardware.s4d.{bad[0]}", f"unknown option; allowed: {', '.join(sorted(allowed))}")
        base = {"tile": self.tile, "t": self.t, "cost_model": self.cost_model}
        return S4DHardwareConfig.from_dict({**base, **self.s4d}, "hardware.s4d")


def split(dataset: Any, n_test: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(x_test, y_test, x_train or None) of a data set with ``x_test``/``y_test`` (and ``x_train``) or of a pair
    ``(x, y)``; the first ``n_test`` test samples."""
    if isinstance(dataset, tuple) and len(dataset) == 2:
        x, y, x_train = dataset[0], dataset[1], None
    elif hasattr(dataset, "x_test") and hasattr(dataset, "y_test"):
        x, y, x_train = dataset.x_test, dataset.y_test, getattr(dataset, "x_train", None)
    else:
        raise DataError("dataset", f"must have x_test and y_test, or be a pair (x, y); got {type(dataset).__name__}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise DataError("dataset.y_test", f"has {len(y)} labels for {len(x)} inputs")
    if n_test is not None:
        if isinstance(n_test, bool) or not isinstance(n_test, int) or not 1 <= n_test <= len(y):
            raise DataError("dataset.n_test", f"must be an integer in 1..{len(y)}, got {n_test!r}")
        x, y = x[:n_test], y[:n_test]
    return x, y, x_train


class HardwareNetwork:
    """A :class:`Network` bound to a hardware config; programmed per seed in :meth:`evaluate`."""

    def __init__(self, network: Network, hardware: Any = None):
        self.network = network
        self.hw = coerce_config(NetworkHardwareConfig, hardware)

    def context(self, rng: np.random.Generator | None, ledger: Ledger) -> ArrayContext:
        """What the sequence and spiking layers need to program and run their arrays."""
        from aimc_sim.crossbar import AnalogMatrix

        prec = PRECISIONS[self.hw.digital]
        tile = self.hw.tile_config() if self.hw.backend == "analog" else None

        def program_matrix(name: str, matrix: np.ndarray) -> Any:
            try:
                return AnalogMatrix(tile, matrix, rng, ledger=ledger, name=name)
            except ConfigError as e:
                raise ConfigError(f"layer {name!r}", e.message) from None

        add, mul, read = DigitalOp(Op.ADD, prec), DigitalOp(Op.MUL, prec), MemoryAccess(Memory.SRAM, prec.bits)
        return ArrayContext(tile, self.hw.t, ledger, rng, add, mul, read, self.hw.s4d_config(), program_matrix)

    def program(self, rng: np.random.Generator, ledger: Ledger, x_cal: np.ndarray | None = None) -> dict[str, Any]:
        """One :class:`AnalogMatrix` per Linear / Conv, the arrays of every sequence / spiking layer (programming
        noise and faults drawn here), ADC ranges calibrated on ``x_cal`` if an array needs it."""
        ctx = self.context(rng, ledger)
        if self.hw.backend == "float":
            return {}
        mats: dict[str, Any] = {}
        for node in self.network.nodes:
            if isinstance(node.op, ANALOG_OPS):
                mats[node.name] = ctx.program_matrix(node.name, node.op.matrix)
            elif isinstance(node.op, ARRAY_OPS):
                mats[node.name] = node.op.program(replace(ctx, layer=node.name))
        if any(a.config.adc.range in CALIBRATED for a in self.arrays(mats)):
            if x_cal is None:
                raise ConfigError("hardware.adc_calibration", "calibrated ADC ranges need training inputs (x_train)")
            self._calibrate(mats, self.network.check_input(x_cal, "dataset.x_train"))
        return mats

    def arrays(self, mats: dict[str, Any]) -> list[Any]:
        """Every programmed array (Linear / Conv matrices and the arrays of sequence / spiking layers)."""
        out = []
        for node in self.network.nodes:
            if node.name in mats:
                state = mats[node.name]
                out += node.op.arrays(state) if isinstance(node.op, ARRAY_OPS) else [state]
        return out

    def _calibrate(self, mats: dict[str, Any], x: np.ndarray) -> None:
        def apply(node: Node, xs: list[np.ndarray]) -> np.ndarray:
            if node.name not in mats:
                return node.op.forward(*xs)
            if isinstance(node.op, ARRAY_OPS):
                for array, rows, _ in node.op.products(mats[node.name], xs[0]):
                    if array.config.adc.range in CALIBRATED:
                        array.calibrate_adc(rows, self.hw.t)
            elif mats[node.name].config.adc.range in CALIBRATED:
                mats[node.name].calibrate_adc(node.op.rows(xs[0]), self.hw.t)
            return node.op.forward(*xs)

        self.network.run(x, apply)

    def forward(self, x: np.ndarray, mats: dict[str, Any], ledger: Ledger) -> np.ndarray:
        """The hardware forward pass of a checked batch, in chunks of ``batch`` samples."""
        from threadpoolctl import threadpool_limits

        ctx = self.context(None, ledger)
        add, mul, read = ctx.add, ctx.mul, ctx.read

        def apply(node: Node, xs: list[np.ndarray]) -> np.ndarray:
            with ledger.scope(node.name):
                if isinstance(node.op, ARRAY_OPS):
                    return node.op.run(mats.get(node.name), xs[0], replace(ctx, layer=node.name))
                if node.name in mats:
                    y = node.op.unrows(mats[node.name].mvm(node.op.rows(xs[0]), t=self.hw.t), xs[0])
                else:
                    y = node.op.forward(*xs)
                if self.hw.backend == "float" and isinstance(node.op, ANALOG_OPS):
                    positions = y.size / node.op.matrix.shape[1]  # rows of x @ matrix
                    ctx.macs(positions * np.count_nonzero(node.op.matrix))  # each weight read from SRAM
                adds, muls, reads = node.op.work(xs, y)
                ledger.add(add, adds)
                ledger.add(mul, muls)
                ledger.add(read, reads)
            return y

        b = self.hw.batch
        with threadpool_limits(limits=1, user_api="blas"):
            return np.concatenate([self.network.run(x[j : j + b], apply) for j in range(0, len(x), b)])

    def logits(self, x: Any, seed: int = 0, x_cal: np.ndarray | None = None) -> tuple[np.ndarray, Ledger, dict]:
        """Program with ``seed`` and run ``x``: (outputs, per-run ledger without programming, programmed arrays)."""
        x = self.network.check_input(x)
        ledger = Ledger()
        mats = self.program(np.random.default_rng(seed), ledger, x_cal)
        at_programming = Ledger()
        at_programming.merge(ledger)
        out = self.forward(x, mats, ledger)
        return out, exclude_programming(ledger, at_programming), mats

    def evaluate(self, dataset: Any, n_test: int | None = None, seed: int = 0) -> Result:
        """Accuracy, energy and latency per inference on the first ``n_test`` test samples of ``dataset``."""
        from aimc_sim.cost import CostModel

        x, y, x_train = split(dataset, n_test)
        x = self.network.check_input(x, "dataset.x_test")
        x_cal = None if x_train is None or len(x_train) == 0 else np.asarray(x_train)[: self.hw.adc_calibration]
        t0 = time.perf_counter()
        out, ledger, mats = self.logits(x, seed, x_cal)
        wall = time.perf_counter() - t0
        n = len(x)
        arrays = self.arrays(mats)
        n_tiles = sum(m.n_tiles for m in arrays)
        cells = sum(m.n_tiles * m.utilisation for m in arrays)
        res = Result(
            accuracy=score(out, y),
            n_samples=n,
            n_tiles=n_tiles,
            utilisation=cells / n_tiles if n_tiles else math.nan,
            complexity=self.complexity(),
            extra={"backend": self.hw.backend, "t": self.hw.t, "digital": self.hw.digital, "wall_s": wall},
        )
        res.add_cost(CostModel.load(self.hw.cost_model).price(ledger), n)
        if self.hw.backend == "analog":
            res.extra["tile"] = str(self.hw.tile)
        res.extra |= {f"mvm.{k[0]}": v / n for k, v in ledger.counts.items() if k[1] == MVM.key}
        return res

    def complexity(self) -> dict[str, float]:
        """Weights on arrays, analog MACs and MVMs per sample."""
        macs = mvms = 0.0
        for node in self.network.analog_nodes:
            shape = self.network.shapes[node.name]
            positions = float(np.prod(shape[1:])) if node.op.kind == "Conv" else float(np.prod(shape[:-1]))
            mvms += positions
            macs += positions * node.op.matrix.size
        for node in self.network.nodes:
            if isinstance(node.op, ARRAY_OPS):
                node_macs, node_mvms = node.op.complexity(self.network.shapes[node.inputs[0]])
                macs, mvms = macs + node_macs, mvms + node_mvms
        return {"weights": float(self.network.n_weights()), "macs": macs, "mvms": mvms}
