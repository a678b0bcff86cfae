"""Device sockets: the pos/neg device pair of every plastic synapse (docs/texel.md §3).

High weight ⇔ R_pos < R_neg. A potentiation (POT) event SETs pos and RESETs neg; a depression
(DEP) event RESETs pos and SETs neg (complementary write, docs/texel.md §4, F5). Two kinds of device:

* ``binary``: the socket's own statistical binary 2-terminal device (docs/texel.md §4 default instance):
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
from device_models.base import DeviceState


def _take(state: DeviceState, idx: np.ndarray) -> DeviceState:
    """The devices ``idx`` of a 1-D device array's state (per-device arrays indexed on their first axis)."""
    n = state.shape[0]

    def pick(a):
        return a[idx] if isinstance(a, np.ndarray) and a.ndim and a.shape[0] == n else a

    per = {k: pick(v) for k, v in state.per_device.items()}
    return DeviceState(pick(state.g0), pick(state.g_target), per, pick(state.stuck), pick(state.cycles))


def _put(state: DeviceState, idx: np.ndarray, sub: DeviceState) -> DeviceState:
    """``state`` with the devices ``idx`` replaced by ``sub`` (the inverse of :func:`_take`)."""
    n = state.shape[0]

    def put(a, b):
        if isinstance(a, np.ndarray) and a.ndim and a.shape[0] == n:
            a = a.copy()
            a[idx] = b
            return a
        return a if b is None else np.broadcast_to(b, a.shape) if isinstance(a, np.ndarray) else b

    per = {k: put(v, sub.per_device[k]) for k, v in state.per_device.items()}
    cycles = put(state.cycles, sub.cycles) if state.cycles is not None else None
    stuck = put(state.stuck, sub.stuck) if state.stuck is not None else None
    return DeviceState(put(state.g0, sub.g0), put(state.g_target, sub.g_target), per, stuck, cycles)


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
            on, off = np.flatnonzero(high), np.flatnonzero(~high)
            self._set(0, on, rng)
            self._reset(0, off, rng)
            self._set(1, off, rng)
            self._reset(1, on, rng)
        else:
            from device_models import load_preset

            self.model = load_preset(cfg.kind)
            self.scale = (1.0 / cfg.r_on) / self.model.g_max
            g_pos = np.where(high, self.model.g_max, self.model.g_min)
            g_neg = np.where(high, self.model.g_min, self.model.g_max)
            self.states = [self.model.program(g_pos, rng), self.model.program(g_neg, rng)]

    def _set(self, which: int, idx: np.ndarray, rng: np.random.Generator) -> None:
        """SET devices ``idx`` (ascending) of branch ``which``: R_on·d_on·e^(σ_C2C·ξ)."""
        if idx.size:
            r = self.cfg.r_on * self._d_on[which, idx] * np.exp(self.cfg.sigma_c2c * rng.standard_normal(idx.size))
            self.r[which, idx] = r

    def _reset(self, which: int, idx: np.ndarray, rng: np.random.Generator) -> None:
        """RESET devices ``idx`` (ascending) of branch ``which``: R_off·d_off·e^(σ_C2C·ξ)."""
        if idx.size:
            r = self.cfg.r_off * self._d_off[which, idx] * np.exp(self.cfg.sigma_c2c * rng.standard_normal(idx.size))
            self.r[which, idx] = r

    def write(self, idx: np.ndarray, high: np.ndarray, rng: np.random.Generator) -> int:
        """POT (``high``) or DEP the synapses ``idx``; returns the number of device pulses.

        Statistical ``binary`` devices take one SET or RESET pulse per device. A ``device_models``
        preset takes ``pulses_per_write`` pulses of the write polarity on each device (one pulse
        switches a bistable RRAM or a FeFET; analog devices move a step ``dw_min`` per pulse).
        """
        idx = np.asarray(idx, dtype=np.int64)
        high = np.asarray(high, dtype=bool)
        if idx.size == 0:
            return 0
        if self.model is None:
            order = np.argsort(idx, kind="stable")
            idx, high = idx[order], high[order]
            for which, set_mask in ((0, high), (1, ~high)):
                self._set(which, idx[set_mask], rng)
                self._reset(which, idx[~set_mask], rng)
            return 2 * int(idx.size)
        cfg = self.cfg
        whole = idx.size == self.n and np.array_equal(idx, np.arange(self.n))
        for which, pol in ((0, np.where(high, 1, -1)), (1, np.where(high, -1, 1))):
            amp = np.where(pol > 0, cfg.set_amplitude, cfg.reset_amplitude)
            state = self.states[which] if whole else _take(self.states[which], idx)
            for _ in range(cfg.pulses_per_write):
                state = self.model.pulse(state, pol, amp, cfg.pulse_width, rng)
            self.states[which] = state if whole else _put(self.states[which], idx, state)
        return 2 * cfg.pulses_per_write * int(idx.size)

    def resistances(
        self, rng: np.random.Generator | None = None, idx: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(R_pos, R_neg) in Ω as seen by the normaliser (fresh read noise when ``rng`` is given),
        of all synapses or of the synapses ``idx``."""
        if self.model is None:
            if idx is None:
                return self.r[0].copy(), self.r[1].copy()
            return self.r[0, idx], self.r[1, idx]
        states = self.states if idx is None else [_take(s, idx) for s in self.states]
        g = [self.model.conductance(s, 1.0, rng) * self.scale for s in states]
        return 1.0 / np.maximum(g[0], 1e-30), 1.0 / np.maximum(g[1], 1e-30)

    def read(
        self, read_cfg: ReadConfig, rng: np.random.Generator | None = None, idx: np.ndarray | None = None
    ) -> np.ndarray:
        """I_norm/norm_bias of every synapse, or of the synapses ``idx`` (docs/texel.md §4)."""
        r_pos, r_neg = self.resistances(rng, idx)
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
        self.all_binary = all(part.model is None for part in self.parts)
        if self.all_binary:  # one (2, N) array; each core's sockets hold a view of their slice
            self.r = np.concatenate([part.r for part in self.parts], axis=1)
            for c, part in enumerate(self.parts):
                part.r = self.r[:, c * per_core : (c + 1) * per_core]

    def binary_parameters(self) -> dict[str, np.ndarray]:
        """Per-device R_on·d_on, R_off·d_off (2, N) and per-synapse σ_C2C, C_dev (N,) of binary sockets."""
        per = self.per_core
        return {
            "r_on": np.concatenate([p.cfg.r_on * p._d_on for p in self.parts], axis=1),
            "r_off": np.concatenate([p.cfg.r_off * p._d_off for p in self.parts], axis=1),
            "sigma_c2c": np.concatenate([np.full(per, p.cfg.sigma_c2c) for p in self.parts]),
            "c_dev": np.concatenate([np.full(per, p.cfg.c_dev) for p in self.parts]),
        }

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

    def read(
        self, read_cfg: ReadConfig, rng: np.random.Generator | None = None, idx: np.ndarray | None = None
    ) -> np.ndarray:
        """I_norm/norm_bias of every synapse (or of the global synapses ``idx``, in that order), each
        core read with its own device capacitance."""
        if idx is None:
            return np.concatenate([part.read(read_cfg, rng) for part in self.parts])
        idx = np.asarray(idx, dtype=np.int64)
        out = np.empty(idx.size)
        core = idx // self.per_core
        for c, part in enumerate(self.parts):
            m = core == c
            if m.any():
                out[m] = part.read(read_cfg, rng, idx[m] - c * self.per_core)
        return out
