"""Per-instance circuit parameters of the chip: neuron biases and time constants with their
mismatch (``aimc_sim.circuits``), and the DPI jump of each synapse (docs/texel.md §2, §3)."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from aimc_sim.circuits import MismatchConfig as CircuitMismatch
from aimc_sim.circuits import adexp_params, dpi_jump, sample_factors
from chip_models.texel import _kernels as K
from chip_models.texel.config import TexelConfig


class ChipParams(NamedTuple):
    """``npar``: per-neuron columns of ``_kernels`` (TAU_MEM..E_CA_STEP); per plastic synapse the
    pre-trace time constant, the DPI jump of a high synapse (capacitor mode) and the jump per
    ampere of a read current (device mode); per static synapse its signed jump."""

    npar: np.ndarray
    tau_pre: np.ndarray
    jump_cap: np.ndarray
    read_gain: np.ndarray
    jump_static: np.ndarray


def build_params(cfg: TexelConfig, rng: np.random.Generator) -> ChipParams:
    """Draw the chip's mismatch from ``rng`` (in a fixed order) and derive the kernel parameters."""
    inv = cfg.inventory
    n, p, s = inv.neurons, inv.plastic_per_neuron, inv.static_per_neuron
    sc, lc = cfg.synapse, cfg.learning
    nc = cfg.neuron.replace(mismatch=CircuitMismatch(sigma=cfg.mismatch.sigma_ln, form=cfg.mismatch.form))
    prm = adexp_params(nc, n, rng)  # DPI/AdExp biases with their mismatch (aimc_sim.circuits)
    f = sample_factors(nc.mismatch, n, 3, rng)  # tau_syn, tau_post, tau_ca
    fs = sample_factors(nc.mismatch, n * p, 2, rng)  # plastic w_max, tau_pre
    fst = sample_factors(nc.mismatch, n * s, 1, rng)[:, 0]  # static weights
    npar = np.zeros((n, K.N_PAR))
    for mine, theirs in (
        (K.TAU_MEM, "TAU"), (K.I_TAU, "ITAU"), (K.I_GAIN, "IGAIN"), (K.I_SPKTHR, "ISPK"), (K.I_RESET, "IRESET"),
        (K.T_REF, "TREF"), (K.TAU_AHP, "TAUAHP"), (K.AHP_JUMP, "JAHP"), (K.I_A_GAIN, "IAGAIN"),
        (K.I_A_TH, "IATH"), (K.I_A_NORM, "IANORM"), (K.I_SLEEP, "ISLEEP"), (K.I_ZERO, "IFLOOR"),
    ):  # fmt: skip
        npar[:, mine] = prm.column(theirs)
    tau_syn = sc.tau_syn / f[:, 0]
    npar[:, K.TAU_SYN] = tau_syn
    npar[:, K.TAU_POST] = lc.tau_post / f[:, 1]
    npar[:, K.TAU_CA] = lc.tau_ca / f[:, 2]
    npar[:, K.DT_MAX] = nc.h
    for col, tau in (
        (K.E_SYN_STEP, K.TAU_SYN),
        (K.E_AHP_STEP, K.TAU_AHP),
        (K.E_POST_STEP, K.TAU_POST),
        (K.E_CA_STEP, K.TAU_CA),
    ):
        npar[:, col] = [math.exp(-nc.h / x) for x in npar[:, tau]]
    syn_gain = dpi_jump(sc.gain_ratio, 1.0, 1.0, sc.t_pulse, tau_syn)  # jump per A of I_w (docs/circuits.md §3)
    w_static = np.tile(np.asarray(sc.static_weights, dtype=float), n) * fst
    return ChipParams(
        npar=npar,
        tau_pre=lc.tau_pre / fs[:, 1],
        jump_cap=sc.w_max * fs[:, 0] * np.repeat(syn_gain, p),
        read_gain=np.repeat(dpi_jump(sc.gain_ratio, 1.0, 1.0, cfg.read.t_read, tau_syn), p),
        jump_static=w_static * np.repeat(syn_gain, s),
    )
