"""Device sockets: the pos/neg device pair of every plastic synapse (spec §3, §7).

High weight ⇔ R_pos < R_neg. A potentiation (POT) event SETs pos and RESETs neg; a depression
(DEP) event RESETs pos and SETs neg (complementary write, spec §7, F5). Two kinds of device:

* ``binary``: the socket's own statistical binary 2-terminal device (spec §7 default instance):
  a SET lands at R_on·d_on·e^(σ_C2C·ξ), a RESET at R_off·d_off·e^(σ_C2C·ξ), with per-device
  log-normal device-to-device factors d (σ_D2D) drawn once and fresh cycle-to-cycle draws ξ.
* any ``device_models`` preset (``rram-binary``, ``fefet``): written with
  ``model.pulse(state, ±1, amplitude, width, rng)`` (2-terminal SET/RESET or 3-terminal gate
  pulses) and read with ``model.conductance``. Its conductance window is mapped linearly onto the
  socket's so that the preset's g_max reads as 1/R_on; the factor is kept in ``scale``.
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.config import DeviceConfig, ReadConfig
from chip_models.texel.readout import read_fraction


class DeviceSockets:
    """The ``n`` device pairs of the chip's plastic synapses."""

    def __init__(self, cfg: DeviceConfig, n: int, high: np.ndarray, rng: np.random.Generator):
        if cfg.kind == "capacitor":
            raise ValueError("DeviceSockets need a device kind other than 'capacitor'")
        self.cfg = cfg
        self.n = n
        self.model = None
        self.scale = 1.0
        high = np.asarray(high, dtype=bool)
        if cfg.kind == "binary":
            d2d = np.exp(cfg.sigma_d2d * rng.standard_normal((4, n)))
            self._d_on = d2d[:2]  # [pos, neg] factors of the on state
            self._d_off = d2d[2:]
            self.r = np.empty((2, n))
            self._set(0, high, rng)
            self._reset(0, ~high, rng)
            self._set(1, ~high, rng)
            self._reset(1, high, rng)
        else:
            from device_models import load_preset

            self.model = load_preset(cfg.kind)
            self.scale = (1.0 / cfg.r_on) / self.model.g_max
            g_pos = np.where(high, self.model.g_max, self.model.g_min)
            g_neg = np.where(high, self.model.g_min, self.model.g_max)
            self.states = [self.model.program(g_pos, rng), self.model.program(g_neg, rng)]

    def _set(self, which: int, mask: np.ndarray, rng: np.random.Generator) -> None:
        k = int(mask.sum())
        if k:
            self.r[which, mask] = (
                self.cfg.r_on * self._d_on[which, mask] * np.exp(self.cfg.sigma_c2c * rng.standard_normal(k))
            )

    def _reset(self, which: int, mask: np.ndarray, rng: np.random.Generator) -> None:
        k = int(mask.sum())
        if k:
            self.r[which, mask] = (
                self.cfg.r_off * self._d_off[which, mask] * np.exp(self.cfg.sigma_c2c * rng.standard_normal(k))
            )

    def write(self, idx: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> int:
        """POT (``high``) or DEP the synapses ``idx``; returns the number of device pulses (2 each)."""
        idx = np.asarray(idx, dtype=np.int64)
        high = np.asarray(high, dtype=bool)
        if idx.size == 0:
            return 0
        if self.model is None:
            for which, set_mask in ((0, high), (1, ~high)):
                sub = np.zeros(self.n, dtype=bool)
                sub[idx[set_mask]] = True
                self._set(which, sub, rng)
                sub[:] = False
                sub[idx[~set_mask]] = True
                self._reset(which, sub, rng)
        else:
            cfg = self.cfg
            for which, pol in ((0, np.where(high, 1, -1)), (1, np.where(high, -1, 1))):
                polarity = np.zeros(self.n, dtype=np.int64)
                polarity[idx] = pol
                amp = np.where(polarity > 0, cfg.set_amplitude, cfg.reset_amplitude)
                self.states[which] = self.model.pulse(self.states[which], polarity, amp, cfg.pulse_width, rng)
        return 2 * int(idx.size)

    def resistances(self, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(R_pos, R_neg) in Ω as seen by the normaliser (fresh read noise when ``rng`` is given)."""
        if self.model is None:
            return self.r[0].copy(), self.r[1].copy()
        g = [self.model.conductance(s, 1.0, rng) * self.scale for s in self.states]
        return 1.0 / np.maximum(g[0], 1e-30), 1.0 / np.maximum(g[1], 1e-30)

    def read(self, read_cfg: ReadConfig, rng: np.random.Generator | None = None) -> np.ndarray:
        """I_norm/norm_bias of every synapse (spec §4)."""
        r_pos, r_neg = self.resistances(rng)
        return read_fraction(r_pos, r_neg, self.cfg.c_dev, read_cfg)


class SocketBank:
    """The device sockets of all plastic synapses, one :class:`DeviceSockets` per core, so that each
    core's synapse array can carry its own device type (``devices_per_core`` in the chip config)."""

    def __init__(self, cfgs: list[DeviceConfig], per_core: int, high: np.ndarray, rng: np.random.Generator):
        self.per_core = per_core
        self.parts = [
            DeviceSockets(cfg, per_core, high[c * per_core : (c + 1) * per_core], rng) for c, cfg in enumerate(cfgs)
        ]
        self.n = per_core * len(cfgs)

    def write(self, idx: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> int:
        """POT (``high``) or DEP the global synapses ``idx``; returns the number of device pulses."""
        idx = np.asarray(idx, dtype=np.int64)
        high = np.asarray(high, dtype=bool)
        core = idx // self.per_core
        return sum(
            part.write(idx[core == c] - c * self.per_core, high[core == c], rng)
            for c, part in enumerate(self.parts)
            if np.any(core == c)
        )

    def resistances(self, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(R_pos, R_neg) of every synapse (Ω)."""
        rs = [part.resistances(rng) for part in self.parts]
        return np.concatenate([r[0] for r in rs]), np.concatenate([r[1] for r in rs])

    def read(self, read_cfg: ReadConfig, rng: np.random.Generator | None = None) -> np.ndarray:
        """I_norm/norm_bias of every synapse, each core read with its own device capacitance."""
        return np.concatenate([part.read(read_cfg, rng) for part in self.parts])
