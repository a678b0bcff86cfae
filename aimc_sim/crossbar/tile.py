"""AnalogTile: one crossbar array and its periphery computing batched MVMs (docs/crossbar.md, pipeline).

The tile is the one-tile, one-block case of :class:`~aimc_sim.crossbar.periphery.TileStack`, which holds the
pipeline (noise management, DAC, array read with IR drop, output-referred noise, ADC, bound management,
drift compensation, ledger events); this module checks the arguments and shapes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.cost import events as ev
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.periphery import TileStack
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.errors import ConfigError

__all__ = ["AnalogTile", "check_time"]


def check_time(t: Any) -> float:
    """A read time (s after programming): finite and >= 0."""
    if isinstance(t, bool) or not isinstance(t, (int, float, np.floating, np.integer)) or not math.isfinite(t) or t < 0:
        raise ConfigError("t", f"must be a finite time >= 0 s, got {t!r}")
    return float(t)


def check_tile_args(
    config: Any, weights: Any, rng: Any, name: str = "weights", ndim: int = 2, convert: bool = True
) -> np.ndarray:
    """Validate the arguments every array object takes; returns the weights as a finite float64 array (as given,
    without a copy, unless ``convert``)."""
    if not isinstance(config, TileConfig):
        raise ConfigError("config", f"must be a TileConfig, got {type(config).__name__}")
    if not isinstance(rng, np.random.Generator):
        raise ConfigError("rng", f"must be a numpy.random.Generator, got {type(rng).__name__}")
    W = require_finite(name, weights)
    W = W.astype(np.float64) if convert else W
    if W.ndim != ndim or 0 in W.shape:
        what = "(n_in x n_out)" if ndim == 2 else "(n_blocks, n_in, n_out)"
        raise ConfigError(name, f"must be a non-empty {ndim}-D array {what}, got shape {W.shape}")
    return W


class AnalogTile:
    """A rows x cols array programmed from a signed weight matrix W (n_in x n_out); ``mvm(x, t)`` ~ x @ W.

    ``rng`` draws the programming noise now; the tile spawns its own generator for the per-MVM noise, so a
    sequence of calls is reproducible from the seed. ``ledger`` (optional) receives every event, charged to
    the layer ``name`` (or the ledger's current scope when ``name`` is empty).
    """

    n_tiles = 1

    def __init__(
        self,
        config: TileConfig,
        weights: np.ndarray,
        rng: np.random.Generator,
        ledger: Ledger | None = None,
        name: str = "",
    ):
        W = check_tile_args(config, weights, rng)
        if W.shape[0] > config.rows or W.shape[1] > config.max_outputs:
            raise ConfigError(
                "weights",
                f"shape {W.shape} does not fit the tile: at most {config.rows} inputs x {config.max_outputs} outputs "
                f"({config.rows}x{config.cols} cells, {config.mapping.devices_per_weight} devices per weight); "
                "use AnalogMatrix",
            )
        self.name = name
        self.n_in, self.n_out = W.shape
        self.stack = TileStack(config, [W[None]], [rng], ledger, name)

    @property
    def ledger(self) -> Ledger | None:
        """The ledger that receives the tile's events (assignable: the periphery books to the new one)."""
        return self.stack.ledger

    @ledger.setter
    def ledger(self, ledger: Ledger | None) -> None:
        self.stack.ledger = ledger

    @property
    def config(self) -> TileConfig:
        """The tile's configuration (its IR-drop mode may have fallen back to ``exact``, see ir_drop_fallback)."""
        return self.stack.config

    @property
    def ir_drop_fallback(self) -> str | None:
        """Why an IR-drop model was last replaced (None: never): the approximation by the exact solve, or the exact
        solve's unconverged line relaxation by the direct solve. Each is also warned and counted in the ledger
        (``periphery.IR_DROP_FALLBACK``)."""
        return self.stack.ir_drop_fallback

    @property
    def device(self):
        return self.stack.device

    @property
    def state(self):
        """The programmed device state (n_in x device columns)."""
        return self.stack.states[0]

    @property
    def layout(self):
        return self.stack.layout

    @property
    def w_max(self) -> np.ndarray:
        """Per-column weight scale (n_out,)."""
        return self.stack.w_max[0]

    @property
    def adc_state(self) -> list:
        """The ADC record (gain, offset, bound, SAR weights) of each conversion channel."""
        return self.stack.adc[0]

    @property
    def shape(self) -> tuple[int, int]:
        """(n_in, n_out), the shape of W."""
        return self.n_in, self.n_out

    @property
    def utilisation(self) -> float:
        """Programmed cells over available cells."""
        return self.stack.utilisation

    def _check_x(self, x: Any) -> tuple[np.ndarray, bool]:
        a = np.asarray(x)
        if a.dtype.kind not in "biuf":
            raise ConfigError("x", f"must be a real numeric array, got dtype {a.dtype}")
        vec = a.ndim == 1
        if vec:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ConfigError("x", f"must have shape (batch, {self.n_in}) or ({self.n_in},), got {np.shape(x)}")
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float32)
        return np.ascontiguousarray(a), vec

    def drift_alpha(self, t: float) -> np.ndarray:
        """The drift-compensation factor alpha = r0 / r(t) (one value, or one per column); 1 at t = 0."""
        return self.stack.alphas(check_time(t))[0]

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """y ~ x @ W for x of shape (batch, n_in) (or (n_in,)), read at ``t`` seconds after programming."""
        t = check_time(t)
        xa, vec = self._check_x(x)
        if self.config.management.noise == "average_abs_max":
            require_finite("x", xa)
            self.stack.update_average_abs_max(xa[None])
        y = np.empty((1, xa.shape[0], self.n_out), dtype=np.result_type(xa.dtype, np.float32))
        with blas_limit():
            self.stack.forward(xa[None], np.array([xa.shape[0]]), self.stack.alphas(t), t, y)
        if self.ledger is not None:
            self.ledger.add(ev.MVM, xa.shape[0], self.name or None)
        return y[0, 0] if vec else y[0]

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        """A recurrence through ADC -> DAC: see :func:`aimc_sim.crossbar.api.feedback_loop`."""
        from aimc_sim.crossbar.api import feedback_loop

        return feedback_loop(self, u, n_state, t)

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Set calibrated ADC ranges to the configured percentile of |analog output| on ``x`` (per tile or per
        column, docs/crossbar.md, pipeline step 6). Returns the range (normalised units) behind each output (n_out,)."""
        t = check_time(t)
        xa, _ = self._check_x(x)
        with blas_limit():
            return self.stack.calibrate(xa[None], t)[0]

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective weights (n_in x n_out) the array holds at time t, without periphery."""
        return self.stack.weights_at(check_time(t))[0, 0]
