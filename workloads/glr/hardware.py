"""Running a GLR model on simulated crossbar tiles.

Mapping: every dense matrix (encoder, per layer W_in, W_a and W_out, decoder) is an
:class:`aimc_sim.crossbar.AnalogMatrix` on tiles of ``tile``, read ``t`` seconds after programming. The gated
recurrence s_t = a_t * s_{t-1} + (1 - a_t) * z_t, the sigmoid of the gate, GELU, residual, LayerNorm and
pooling run in near-memory digital logic in FP32 and are booked in the ledger as FP32 operations (and the state
as 32-bit SRAM reads and writes). ``backend: float`` runs the model in FP32 numpy and prices it all digital.
The config has the shape of :class:`workloads.s4d.hardware.S4DHardwareConfig` (``tile``, ``t``, ``cost_model``,
``backend``, ``adc_calibration``, ``batch``) without the SSM-specific fields.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aimc_sim.config import Config, check, int_in, nonnegative, one_of
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import FP32_ADD, FP32_MUL, INT32_ADD, Memory, MemoryAccess
from aimc_sim.errors import ConfigError, DataError
from workloads.data.base import SequenceDataset
from workloads.glr.model import GLRModel, float_linear, gated_scan, matrices
from workloads.hwconfig import coerce_config, resolve_tile
from workloads.result import Result, exclude_programming, score
from workloads.s4d.hardware import NONLINEAR_OPS, _datapath, _event_totals, _weight_read

STATE_READ, STATE_WRITE = MemoryAccess(Memory.SRAM, 32), MemoryAccess(Memory.SRAM, 32, "write")
"""The FP32 state word read and written back per channel per step by the digital recurrence."""


@dataclass(frozen=True)
class GLRHardwareConfig(Config):
    """Where and how a GLR model runs. ``tile``: a tile preset name, a YAML path or a dict of tile fields (with
    an optional ``preset`` key); ``t``: read time after programming (s); ``adc_calibration``: training sequences
    used to calibrate the ADC ranges when the tile's ``adc.range`` is ``calibrated`` or ``per_column``."""

    tile: str | dict[str, Any] = "pcm-default"
    backend: str = field(default="analog", metadata=check(one_of("analog", "float")))
    t: float = field(default=0.0, metadata=check(nonnegative))
    cost_model: str = "22nm"
    adc_calibration: int = field(default=32, metadata=check(int_in(1)))
    batch: int = field(default=512, metadata=check(int_in(1)))

    def tile_config(self) -> Any:
        """The resolved :class:`aimc_sim.crossbar.TileConfig`."""
        return resolve_tile(self.tile)


class HardwareGLR:
    """A :class:`GLRModel` bound to a hardware config; programmed afresh per seed in :meth:`evaluate`."""

    def __init__(self, model: GLRModel, hardware: Any):
        self.model = model
        self.hw = coerce_config(GLRHardwareConfig, hardware)
        if self.hw.backend == "analog":
            self.hw.tile_config()  # unknown presets and bad tile fields fail here, naming the field

    def program(self, rng: np.random.Generator, ledger: Ledger, x_cal: np.ndarray | None = None) -> dict[str, Any]:
        """Every dense matrix on tiles (programming noise drawn here); ADC ranges calibrated on ``x_cal`` if the
        tile calibrates them."""
        from aimc_sim.crossbar import AnalogMatrix

        tile = self.hw.tile_config()
        w = self.model.weights
        mats = {
            name: AnalogMatrix(tile, w[name + ".weight"], rng, ledger, name, layout="torch")
            for name in matrices(self.model.config)
        }
        if tile.adc.range in ("calibrated", "per_column"):
            if x_cal is None:
                raise ConfigError("hardware.adc_calibration", "calibrated ADC ranges need calibration inputs")
            seen: dict[str, np.ndarray] = {}

            def record(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
                seen[name] = a
                return float_linear(name, a, W, b)

            self.model.run(self.model.check_input(x_cal), record, lambda i, a, z: gated_scan(a, z))
            for name, a in seen.items():
                mats[name].calibrate_adc(a, self.hw.t)
        return mats

    def evaluate(self, dataset: SequenceDataset, n_test: int | None = None, seed: int = 0) -> Result:
        """Accuracy, energy and latency per inference on the first ``n_test`` test samples; ``seed`` drives the
        programming and read noise."""
        x, y = dataset.test_subset(n_test)
        if x.ndim != 3 or x.shape[2] != self.model.config.d_in:
            raise DataError("dataset.x_test", f"must have shape (n, L, {self.model.config.d_in}), got {x.shape}")
        x = self.model.check_input(x, "dataset.x_test")
        logits, ledger, mats = self.logits(x, seed, dataset.x_train[: self.hw.adc_calibration])
        return self._result(score(logits, y), x.shape[0], x.shape[1], ledger, mats)

    def logits(
        self, x: np.ndarray, seed: int = 0, x_cal: np.ndarray | None = None
    ) -> tuple[np.ndarray, Ledger, dict[str, Any] | None]:
        """Program with ``seed`` and run ``x``: (logits, per-run ledger without programming, matrices)."""
        x = self.model.check_input(x)
        ledger = Ledger()
        n, L = x.shape[:2]
        if self.hw.backend == "float":
            self._count_float_products(ledger, n, L)
            self._count_digital(ledger, n, L)
            return self.model.forward(x), ledger, None
        mats = self.program(np.random.default_rng(seed), ledger, x_cal)
        at_programming = Ledger()
        at_programming.merge(ledger)
        t = self.hw.t

        def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            del W
            with ledger.scope(name):
                out = mats[name].mvm(a, t=t) + b
                ledger.add(INT32_ADD, out.size)  # bias
            return out.astype(np.float32)

        def recurrence(i: int, a: np.ndarray, z: np.ndarray) -> np.ndarray:
            return gated_scan(a, z)  # digital FP32, booked in _count_digital

        parts = [self.model.run(x[j : j + self.hw.batch], linear, recurrence) for j in range(0, n, self.hw.batch)]
        self._count_digital(ledger, n, L)
        exclude_programming(ledger, at_programming)
        return np.concatenate(parts), ledger, mats

    def _count_digital(self, ledger: Ledger, n: int, L: int) -> None:
        """Book the digital work: per layer the gated recurrence (sigmoid, 2 mul + 2 add, state read + write per
        channel and step), GELU, residual and LayerNorm; then the mean pool."""
        cfg = self.model.config
        cells = n * L * cfg.d_model
        for i in range(cfg.n_layers):
            with ledger.scope(f"layers.{i}.recurrence"):
                ledger.add(FP32_MUL, cells * (2 + NONLINEAR_OPS))  # a*s, (1-a)*z, sigmoid
                ledger.add(FP32_ADD, cells * (2 + NONLINEAR_OPS))  # 1-a, sum, sigmoid
                ledger.add(STATE_READ, cells)
                ledger.add(STATE_WRITE, cells)
            with ledger.scope(f"layers.{i}"):  # GELU, residual, LayerNorm (normalise + affine)
                ledger.add(FP32_MUL, cells * (3 + 2 * NONLINEAR_OPS))
                ledger.add(FP32_ADD, cells * (5 + 2 * NONLINEAR_OPS))
        if cfg.pool == "mean":
            with ledger.scope("decoder"):
                ledger.add(FP32_ADD, cells)

    def _count_float_products(self, ledger: Ledger, n: int, L: int) -> None:
        mul, add = _datapath(None)
        w = self.model.weights
        for name in matrices(self.model.config):
            rows = n if name == "decoder" and self.model.config.pool == "mean" else n * L
            count = rows * np.count_nonzero(w[name + ".weight"])
            with ledger.scope(name):
                ledger.add(mul, count)
                ledger.add(add, count + rows * w[name + ".bias"].size)
                ledger.add(_weight_read(None), count)

    def _result(self, acc: float, n: int, L: int, ledger: Ledger, mats: dict[str, Any] | None) -> Result:
        from aimc_sim.cost.model import CostModel

        priced = CostModel.load(self.hw.cost_model).price(ledger)
        n_tiles = int(sum(m.n_tiles for m in mats.values())) if mats else 0
        util = math.nan
        if mats:
            tiles = np.array([m.n_tiles for m in mats.values()], dtype=float)
            util = float(np.sum(tiles * np.array([m.utilisation for m in mats.values()])) / tiles.sum())
        res = Result(
            accuracy=acc,
            n_samples=n,
            n_tiles=n_tiles,
            utilisation=util,
            complexity={"params": float(sum(v.size for v in self.model.weights.values()))},
            extra={"backend": self.hw.backend, "recurrence": "digital", "seq_len": L, "t": self.hw.t},
        ).add_cost(priced, n)
        res.extra |= {f"events.{ev}": v / n for ev, v in _event_totals(ledger).items()}
        return res
