"""ADC energy and latency per conversion: the four models of crossbar.md §9.3.

Published models disagree by up to ~300x at 8 bits, so every cost result names the model used.

* A: NeuroSim SAR, circuit-level per-node fit (``SarADC.cpp``): P = (a log2 L + b), latency (log2 L + 1) cycles,
  E = P * latency, L = 2**bits levels; the column (voltage-divider) term is excluded.
* B: Murmann survey bound as in the Accelergy ADC plug-in: FOM_S = min(c0 - c1 ln f, cap) dB,
  SNDR = 6.02 N + 1.76 dB, E = 1 / (2 * 10**((FOM_S - SNDR) / 10)); latency 1 / f.
* C: MNSIM table of published ADCs (``Hardware_Model/ADC.py``): latency (bits + 2) / f_s, E = P * latency
  (as coded; P / f_s would be (bits + 2) times less).
* D: survey FOM_W: E = max(FOM_W * 2**bits, floor); latency (bits + 1) SAR clock cycles [proposal].
"""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["neurosim_sar", "murmann_bound", "mnsim_table", "survey_fom"]


def neurosim_sar(bits: int, a_w: float, b_w: float, cycle_s: float) -> tuple[float, float]:
    """Model A: (energy J, latency s) of one conversion."""
    lat = (bits + 1) * cycle_s
    return (a_w * bits + b_w) * lat, lat


def murmann_bound(bits: int, f_hz: float, c0_db: float, c1_db: float, cap_db: float) -> tuple[float, float]:
    """Model B: (energy J, latency s) at sample rate ``f_hz``."""
    fom_s = min(c0_db - c1_db * math.log(f_hz), cap_db)
    sndr = 6.02 * bits + 1.76
    return 1.0 / (2.0 * 10.0 ** ((fom_s - sndr) / 10.0)), 1.0 / f_hz


def mnsim_table(bits: int, table: Sequence[tuple[int, float, float]]) -> tuple[float, float]:
    """Model C: the entry (bits_e, power W, rate Hz) with the fewest bits >= ``bits`` (else the most bits);
    latency (bits_e + 2) / rate and energy power * latency, as MNSIM codes it."""
    fit = [e for e in table if e[0] >= bits]
    b, p, f = min(fit) if fit else max(table)
    lat = (b + 2) / f
    return p * lat, lat


def survey_fom(bits: int, fom_w_j: float, floor_j: float, clock_hz: float) -> tuple[float, float]:
    """Model D: (energy J, latency s)."""
    return max(fom_w_j * 2.0**bits, floor_j), (bits + 1) / clock_hz
