"""Noise management and the DAC of the tile pipeline (docs/crossbar.md#pipeline-of-analogtilemvmx-t, steps 1-2),
written once over a leading tile axis: per-row input scales (abs-max, average abs-max, constant or none, per tile
vector or per block), the uniform quantiser with deterministic or stochastic rounding, and bit-serial slices.

:class:`InputStage` is a base of :class:`~aimc_sim.crossbar.periphery.TileStack`; it reads the stack's
``config``, ``k``, ``r``, ``blocks_per_tile``, ``noise_rngs``, ``_dac_spec``, ``_avg_abs_max``/``_avg_count``
(the running AVERAGE_ABS_MAX state) and its work arrays (``_work``).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar.quantise import n_steps

__all__ = ["InputStage"]


class InputStage:
    """Steps 1-2 of the tile pipeline: input scales and the DAC (a base of TileStack, see the module docstring)."""

    def row_scale(self, B: int) -> tuple[np.ndarray, bool]:
        """(T, B, G) input scales (noise management, docs/crossbar.md, pipeline step 1) of each tile input vector
        and each of its G groups of word lines (``n_groups``); True means abs-max, computed by the DAC."""
        m = self.config.management
        T, G = self.n_tiles, self.n_groups
        if m.noise == "abs_max":
            return np.empty((T, B, G)), True
        if m.noise == "average_abs_max":
            return np.repeat(self._avg_abs_max[:, None, :], B, axis=1), False
        return np.full((T, B, G), (m.constant_scale if m.noise == "constant" else 1.0) * self.config.dac.bound), False

    @property
    def n_groups(self) -> int:
        """Input scales per tile input vector: 1, or one per block slot (``management.scope: block``)."""
        return self.k if self.config.management.scope == "block" else 1

    def update_average_abs_max(self, x: np.ndarray) -> None:
        """AVERAGE_ABS_MAX: running mean of each tile's max |x| per input vector, over every vector seen.
        ``x``: (T, B, k r) tile inputs."""
        if self.config.management.noise != "average_abs_max" or x.shape[1] == 0:
            return
        require_finite("x", x)
        B = x.shape[1]
        m = np.abs(x).reshape(self.n_tiles, B, self.n_groups, -1).max(axis=3)
        n0, n1 = self._avg_count, self._avg_count + B
        for g, q in np.ndindex(self._avg_abs_max.shape):
            mg = m[g, :, q]
            mean = (self._avg_abs_max[g, q] * n0 + float(mg.sum())) / n1 if n0 else float(mg.mean())
            self._avg_abs_max[g, q] = mean if mean > 0 else 1.0
        self._avg_count = n1

    def _dac(self, g: int, x: np.ndarray, rs: np.ndarray, abs_max: bool, gsum: np.ndarray, kept: bool = False):
        """Input slices [(x', x'^2, digital factor)] of tile g's rows x, and their array read energy in
        V_read^2 t_read units. Fills ``rs`` (B, G) when ``abs_max``; rejects non-finite inputs. ``kept``: x is an
        identity that the DAC gives back unchanged (:meth:`_keeps_identity`), so x' = x'^2 = x."""
        dac, spec = self.config.dac, self._dac_spec
        if kept:  # dac_encode's row scales (max |x| = 1) and energy: sum_i (sum_b x'_bi^2 = 1) gsum_i, in order
            rs[:] = 1.0
            return [(x, x, 1.0)], float(np.cumsum(gsum)[-1])
        if dac.stochastic_rounding and spec.quantise:
            require_finite("x", x)
            B, G = rs.shape
            xg = x.reshape(B, G, -1)  # each group of word lines is one DAC row
            if abs_max:
                a = np.abs(xg).max(axis=2)
                rs[:] = np.where(a > 0, a, 1.0)
            n = self.blocks_per_tile[g] * self.r  # the k_g blocks' word lines (no draws for padding slots)
            v = (xg / rs[:, :, None]).reshape(B, -1)[:, :n]
            v = np.clip(np.floor(v / spec.step + self.noise_rngs[g].random(v.shape)) * spec.step, spec.lo, 1.0)
            xn, xn2 = np.zeros(x.shape, np.float32), np.zeros(x.shape, np.float32)
            xn[:, :n], xn2[:, :n] = v, v * v
        else:
            xn, xn2 = self._work("xn", g, x.shape), self._work("xn2", g, x.shape)
            B, G = rs.shape  # each group of word lines is one DAC row
            n = self.blocks_per_tile[g] * self.r if G == 1 else x.shape[1]
            if n < x.shape[1]:  # empty block slots of a partly filled tile: zero inputs, zero outputs, no energy
                xn[:, n:], xn2[:, n:] = 0.0, 0.0
            xr, xnr, xn2r = (a.reshape(B * G, -1)[:, :n] for a in (x, xn, xn2))
            gs = gsum.reshape(G, -1)[:, :n]
            n_bad, energy = _kernels.dac_encode(xr, abs_max, rs.reshape(-1), spec, gs, xnr, xn2r)
            if n_bad:
                require_finite("x", x)  # raises, naming the first bad index
        if dac.stochastic_rounding and spec.quantise:  # array read energy: sum_b,i e_bi (sum_j G_ij)
            energy = float((np.abs(xn) if spec.pwm else xn2).sum(axis=0, dtype=np.float64) @ gsum)
        if not dac.bit_serial:
            return [(xn, xn2, 1.0)], energy
        top = (n_steps(dac.bits) // 2) if dac.signed else 2**dac.bits - 1
        k = np.rint(xn.astype(np.float64) * top).astype(np.int64)
        sgn, mag = np.sign(k), np.abs(k)
        slices, energy = [], 0.0
        for bit in range(int(top).bit_length()):  # every magnitude bit is one array read, as in hardware
            xb = (sgn * ((mag >> bit) & 1)).astype(np.float32)
            xb2 = np.abs(xb)
            energy += float((xb2 @ gsum).sum())
            slices.append((xb, xb2, float(2**bit) / top))
        return slices, energy

    def _keeps_identity(self, rs: np.ndarray, abs_max: bool) -> bool:
        """Whether the DAC gives one-hot inputs of a one-block tile back exactly, in ``_kernels.dac_encode``'s
        arithmetic: one deterministic slice, unit row scales, 1 quantised to 1."""
        dac, spec = self.config.dac, self._dac_spec
        if (
            self.k != 1
            or dac.bit_serial
            or (dac.stochastic_rounding and spec.quantise)
            or not (abs_max or (rs == 1).all())
        ):
            return False
        return not spec.quantise or min(max(float(np.rint(1.0 / spec.step)) * spec.step, spec.lo), 1.0) == 1.0

    @property
    def n_slices(self) -> int:
        """Array reads per input vector (input bit slices)."""
        dac = self.config.dac
        if not dac.bit_serial:
            return 1
        return int((n_steps(dac.bits) // 2) if dac.signed else 2**dac.bits - 1).bit_length()
