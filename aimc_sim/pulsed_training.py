"""Weights stored in differential pairs of pulsed devices, trained in memory with pulses.

A weight matrix W (normalised to [−1, 1]) lives in two devices per weight, w = (g_pos − g_neg) /
(g_max − g_min). An update writes pulses through the device model's own pulsed-update law
(``DeviceModel.pulse``: asymmetry, nonlinearity, device-to-device spread and cycle-to-cycle noise
as the preset defines them); a potentiating pulse on the weight is a +1 pulse on the positive
device and a −1 pulse on the negative one (the complementary write of TEXEL's POT).

Two ways to turn a desired change into pulses:

* :meth:`PulsedWeights.apply`: ``round_stochastic(|Δw| / step)`` pulses of the sign of Δw per
  weight, ``step`` being the nominal change of one pulse (a learning rule such as e-prop or the
  metaplastic rule computes Δw locally, then writes it);
* :meth:`PulsedWeights.coincidence_update`: SGD by stochastic pulse coincidence, the scheme of
  Gokmen & Vlasov 2016 used by aihwkit's ``PulseType.STOCHASTIC_COMPRESSED``: for ``bl`` time
  slots, row i fires with probability min(1, c·|x_i|), column j with min(1, c·|δ_j|), and every
  coincidence applies one pulse of sign −sign(x_i·δ_j); with c = sqrt(lr / (bl·step)) the expected
  change is −lr·x_i·δ_j (until the probabilities clip at 1). All pulses of one update on one device
  have the same sign, so they are applied as ``hits_ij`` pulses (the slot order does not matter).

Write energy: each pulse of amplitude V and width t_p on a device of conductance G costs V²·G·t_p
(resistive dissipation only; driver and periphery energy are not included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.errors import ConfigError
from device_models.base import DeviceModel


@dataclass(frozen=True)
class WritePulse:
    """Amplitude (V) and width (s) of the update pulses, for the write energy V²·G·t_p [proposal]."""

    amplitude: float = 1.0
    width: float = 1e-6


class PulsedWeights:
    """A matrix of weights in [−1, 1] on differential device pairs of ``model`` (see module docstring)."""

    def __init__(
        self,
        model: DeviceModel,
        w0: np.ndarray,
        rng: np.random.Generator,
        pulse: WritePulse = WritePulse(),
    ):
        upd = getattr(model.config, "update", None)
        if upd is None:
            raise ConfigError("device", f"{type(model).__name__} has no pulsed-update law (config.update)")
        w0 = np.clip(np.asarray(w0, dtype=float), -1.0, 1.0)
        self.model = model
        self.pulse_shape = pulse
        self.span = model.g_max - model.g_min
        self.step = 2.0 * upd.dw_min / (upd.w_max - upd.w_min)  # nominal |Δw| of one complementary pulse
        mid = model.g_min + 0.5 * self.span
        self.pos = model.program(np.clip(mid + 0.5 * self.span * w0, model.g_min, model.g_max), rng)
        self.neg = model.program(np.clip(mid - 0.5 * self.span * w0, model.g_min, model.g_max), rng)
        self.pulses = 0
        self.energy = 0.0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.pos.shape

    def read(self, rng: np.random.Generator | None = None) -> np.ndarray:
        """The weights (with fresh read noise when ``rng`` is given)."""
        g_pos = self.model.conductance(self.pos, 0.0, rng)
        g_neg = self.model.conductance(self.neg, 0.0, rng)
        return (g_pos - g_neg) / self.span

    def _pulse(self, polarity: np.ndarray, rng: np.random.Generator) -> None:
        """One complementary pulse per weight of ``polarity`` (+1 up, −1 down, 0 none)."""
        moved = polarity != 0
        if not moved.any():
            return
        p = self.pulse_shape
        g = self.model.conductance(self.pos, 0.0, None) + self.model.conductance(self.neg, 0.0, None)
        self.energy += float(p.amplitude**2 * p.width * g[moved].sum())
        self.pulses += 2 * int(moved.sum())
        self.pos = self.model.pulse(self.pos, polarity, p.amplitude, p.width, rng)
        self.neg = self.model.pulse(self.neg, -polarity, p.amplitude, p.width, rng)

    def apply(self, dw: np.ndarray, rng: np.random.Generator, max_pulses: int = 50) -> int:
        """Write a desired change ``dw`` as stochastically rounded pulse counts; returns the pulses."""
        dw = np.asarray(dw, dtype=float)
        if dw.shape != self.shape:
            raise ConfigError("dw", f"must have the weights' shape {self.shape}, got {dw.shape}")
        n = np.minimum(np.floor(np.abs(dw) / self.step + rng.random(dw.shape)), max_pulses).astype(np.int64)
        before = self.pulses
        sign = np.sign(dw).astype(np.int64)
        for k in range(int(n.max()) if n.size else 0):
            self._pulse(np.where(n > k, sign, 0), rng)
        return self.pulses - before

    def coincidence_update(
        self, x: np.ndarray, d: np.ndarray, lr: float, rng: np.random.Generator, bl: int = 31
    ) -> int:
        """SGD step ΔW ≈ −lr·Σ_batch x ⊗ d by stochastic pulse coincidence (rows ``x``: inputs, columns
        ``d``: errors), one batch item after the other; returns the pulses written."""
        x2, d2 = np.atleast_2d(x), np.atleast_2d(d)
        c = np.sqrt(lr / (bl * self.step))
        before = self.pulses
        for xb, db in zip(x2, d2):
            px = np.minimum(1.0, c * np.abs(xb))
            pd = np.minimum(1.0, c * np.abs(db))
            sign = -np.sign(np.outer(xb, db)).astype(np.int64)
            rows = (rng.random((bl, px.size)) < px).astype(np.int64)
            cols = (rng.random((bl, pd.size)) < pd).astype(np.int64)
            hits = rows.T @ cols  # coincidences per weight over the bl slots
            for k in range(int(hits.max())):  # same-sign pulses on one device: slot order is irrelevant
                self._pulse(np.where(hits > k, sign, 0), rng)
        return self.pulses - before
