"""Numba kernels of the event-driven chip: lazy neuron advance, learning on events, AER queueing.

The plain-numpy references are :mod:`chip_models.texel.learning` (rule) and the reference event
loop in ``tests/test_texel_kernels.py``; a test compares them on random event streams.

Neuron (docs/circuits.md §4, Chicca et al. 2014 DPI/AdExp): between events each neuron is advanced
lazily. While it may be active it is integrated with steps of at most ``dt_max`` (exponential
Euler on the membrane, the step further bounded so that I_mem changes by at most 100 % per step,
and cut at the linearly interpolated threshold crossing so that spike times are not quantised);
the DPI currents, the adaptation current and the post/Ca traces decay exactly. A neuron sleeps
(one exact jump to the target time) when I_mem is at or below its floor and even the largest
drive it can see before the next event keeps it there.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numba import njit

# neuron state columns
T, I_MEM, I_AHP, I_EXC, I_INH, I_DC, REF_UNTIL, X_POST, X_CA = range(9)
N_STATE = 9
# per-neuron parameter columns (mismatch applied)
(
    TAU_MEM,
    I_TAU,
    I_GAIN,
    I_SPKTHR,
    I_RESET,
    T_REF,
    TAU_AHP,
    AHP_JUMP,
    I_A_GAIN,
    I_A_TH,
    I_A_NORM,
    I_SLEEP,
    I_ZERO,
    TAU_SYN,
    TAU_POST,
    TAU_CA,
    DT_MAX,
    E_SYN_STEP,
    E_AHP_STEP,
    E_POST_STEP,
    E_CA_STEP,
) = range(21)
N_PAR = 21  # the E_*_STEP columns are the decay factors exp(-DT_MAX/tau) of a full step
# learning parameters (docs/texel.md §3, §13): one record, read by field name in the kernels; ``rule`` is the
# kernel code of the synapse's learning rule (``rules.py``), ``importance_gain`` a parameter of the metaplastic one
RULE_BCALL, RULE_METAPLASTIC = 0, 1
LEARN_DTYPE = np.dtype(
    [
        (name, np.float64)
        for name in (
            "a_pre", "a_post", "theta_pre", "theta_post", "rho_neg", "rho_neg2", "c", "x_floor", "a_ca",
            "x_ca_max", "ca_low", "ca_high", "enable", "tau_rho", "alpha", "beta", "theta_rho", "importance_gain",
        )
    ]
    + [("rule", np.int64)]
)  # fmt: skip
# event counters of the chip: one record of int64 fields
COUNTER_DTYPE = np.dtype(
    [
        (name, np.int64)
        for name in (
            "plastic_events",
            "static_events",
            "weight_flips",
            "spikes",
            "lost_spikes",
            "logged_flips",
            "device_pulses",
            "normals_used",
        )
    ]  # fmt: skip
)


# in-kernel POT/DEP writes of the statistical binary devices (write_on_flip), read back through the normaliser
DEVICE_DTYPE = np.dtype(
    [
        ("enabled", np.float64),  # 1: flips write the devices here, 0: flips are logged for Python
        ("v_read", np.float64),
        ("t_read", np.float64),
        ("i_floor", np.float64),
        ("hard_threshold", np.float64),  # 1: hard-threshold law, 0: rectified ratio
        ("norm_bias", np.float64),
    ]
)


class DeviceArrays(NamedTuple):
    """Statistical binary device pairs (index 0 = pos, 1 = neg) of every plastic synapse."""

    r: np.ndarray  # (2, N) resistances (Ω), aliasing the sockets' arrays
    r_on: np.ndarray  # (2, N) R_on·d_on per device
    r_off: np.ndarray  # (2, N) R_off·d_off per device
    sigma_c2c: np.ndarray  # (N,)
    c_dev: np.ndarray  # (N,)
    read_gain: np.ndarray  # (N,) DPI jump per ampere of I_norm
    written: np.ndarray  # (N,) bool: state last written
    normals: np.ndarray  # pre-drawn standard normals for the C2C draws
    cfg: np.ndarray  # one DEVICE_DTYPE record array (pass the array; the kernel reads element 0)


class Synapses(NamedTuple):
    """Per-synapse arrays of the chip (plastic ones indexed n·P + k, static ones n·S + k)."""

    x_pre: np.ndarray
    rho: np.ndarray
    t_syn: np.ndarray
    tau_pre: np.ndarray
    jump_cap: np.ndarray  # DPI jump of a high synapse in capacitor mode
    jump_dev: np.ndarray  # DPI jump of the synapse's device read (device mode)
    jump_static: np.ndarray
    flip_log: np.ndarray  # indices of synapses whose binary readout flipped (device writes pending)
    importance: np.ndarray  # per plastic synapse: the metaplastic rule's importance (0 under BCaLL)
    n_plastic: int
    n_static: int
    dev: DeviceArrays


class Neurons(NamedTuple):
    """Neuron state (columns T..X_CA) and per-neuron parameters (columns TAU_MEM..E_CA_STEP)."""

    state: np.ndarray
    par: np.ndarray


class Events(NamedTuple):
    """Time-sorted input events: time, global neuron, synapse (−1−k: probe of plastic synapse k)."""

    t: np.ndarray
    neuron: np.ndarray
    synapse: np.ndarray


class SpikeBuffer(NamedTuple):
    """Output spikes found by a kernel call (times, global neurons) and probe rows."""

    t: np.ndarray
    neuron: np.ndarray
    probes: np.ndarray


def learning_record(**values: float) -> np.ndarray:
    """A one-element ``LEARN_DTYPE`` record array with the given fields (the others 0); pass ``arr[0]`` to kernels."""
    rec = np.zeros(1, dtype=LEARN_DTYPE).view(np.recarray)
    for name, v in values.items():
        rec[name] = v
    return rec


def device_record() -> np.ndarray:
    """A one-element ``DEVICE_DTYPE`` record array, in-kernel device writes disabled."""
    return np.zeros(1, dtype=DEVICE_DTYPE).view(np.recarray)


def counter_record() -> np.ndarray:
    """A one-element ``COUNTER_DTYPE`` record array of zeros; pass ``arr[0]`` to kernels."""
    return np.zeros(1, dtype=COUNTER_DTYPE).view(np.recarray)


# probe record columns
PROBE_COLS = ("t", "neuron", "synapse", "i_mem", "i_ahp", "i_exc", "i_inh", "x_post", "x_ca", "x_pre", "rho")


@njit(cache=True, fastmath=False)
def drift_rho(rho: float, dt: float, lp) -> float:
    """Exact bistable drift of one ρ over ``dt`` (never crosses θ_ρ); ``lp`` a ``LEARN_DTYPE`` record."""
    if rho > lp.theta_rho:
        return min(1.0, rho + lp.alpha * dt / lp.tau_rho)
    return max(0.0, rho - lp.beta * dt / lp.tau_rho)


@njit(cache=True, fastmath=False, inline="always")
def _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp):
    """Bring synapse j's pre-trace and ρ to time t (exact decay and drift)."""
    dt = t - t_syn[j]
    if dt > 0.0:
        x_pre[j] *= math.exp(-dt / tau_pre[j])
        rho[j] = drift_rho(rho[j], dt, lp)
        t_syn[j] = t


@njit(cache=True, fastmath=False)
def _gate_open(x_ca, lp) -> bool:
    return lp.enable > 0.0 and lp.ca_low < x_ca < lp.ca_high


@njit(cache=True, fastmath=False)
def _rc_mean(v, r, c, t):
    """Mean current over a read pulse through R charging C (readout.rc_mean_current)."""
    tau = r * c
    if tau > 0.0:
        return v / r * (1.0 + (tau / t) * math.expm1(-t / tau))
    return v / r


@njit(cache=True, fastmath=False)
def _write_binary(j, high, syn, counters) -> bool:
    """POT (``high``) or DEP synapse j's binary devices with two C2C draws, re-read it; False if the
    normal pool is exhausted (the caller then logs the flip for the Python path)."""
    dev = syn.dev
    k = counters.normals_used
    if k + 2 > dev.normals.shape[0]:
        return False
    for b in range(2):
        on = high if b == 0 else not high
        base = dev.r_on[b, j] if on else dev.r_off[b, j]
        dev.r[b, j] = base * math.exp(dev.sigma_c2c[j] * dev.normals[k + b])
    counters.normals_used = k + 2
    counters.device_pulses += 2
    dev.written[j] = high
    c = dev.cfg[0]
    i_pos = _rc_mean(c.v_read, dev.r[0, j], dev.c_dev[j], c.t_read)
    i_neg = _rc_mean(c.v_read, dev.r[1, j], dev.c_dev[j], c.t_read)
    if c.hard_threshold > 0.0:
        frac = 1.0 if i_pos > i_neg else 0.0
    else:
        frac = max(0.0, (i_pos - i_neg) / (i_pos + i_neg + c.i_floor))
    syn.jump_dev[j] = frac * c.norm_bias * dev.read_gain[j]
    return True


@njit(cache=True, fastmath=False)
def _flipped(j, high, syn, counters):
    """Synapse j's binary readout flipped: count it, write its devices here (binary sockets) or log it
    for Python (the log may overflow: ``logged_flips`` then exceeds its size and the caller compares
    all synapses). Kept out of line: the common no-flip path then never touches the device arrays."""
    counters.weight_flips += 1
    if syn.dev.cfg[0].enabled > 0.0 and _write_binary(j, high, syn, counters):
        return
    if counters.logged_flips < syn.flip_log.shape[0]:
        syn.flip_log[counters.logged_flips] = j
    counters.logged_flips += 1


@njit(cache=True, fastmath=False)
def _rule(j, d, rho, importance, lp) -> float:
    """The synapse's learning rule applied to a proposed change ``d`` of ρ_j: the new (unclipped) ρ_j.

    BCaLL: ρ + d. Metaplastic (``rules.MetaplasticRule``), on a high synapse (ρ > θ_ρ): potentiation
    adds importance_gain·d to its importance m, depression is scaled by 1/(1 + m), so consolidated
    synapses need more events to flip; low synapses learn as under BCaLL."""
    if lp.rule == RULE_METAPLASTIC and rho[j] > lp.theta_rho:
        if d > 0.0:
            importance[j] += lp.importance_gain * d
        else:
            d = d / (1.0 + importance[j])
    return rho[j] + d


@njit(cache=True, fastmath=False)
def _set_rho(rho, j, new, theta_rho) -> bool:
    """Write ρ_j (clipped to [0, 1]); True when its binary readout flipped (then call :func:`_flipped`)."""
    old = rho[j]
    new = min(1.0, max(0.0, new))
    rho[j] = new
    return (old > theta_rho) != (new > theta_rho)


@njit(cache=True, fastmath=False)
def is_asleep(n, nrn):
    """True when I_mem is at its floor and cannot leave it before more input arrives."""
    ns, npar = nrn.state, nrn.par
    if ns[n, I_MEM] > npar[n, I_SLEEP]:
        return False
    i_tau = npar[n, I_TAU]
    i_gain = npar[n, I_GAIN]
    # largest drive before the next event: inputs only decay, adaptation may decay to 0
    i_inf = i_gain / i_tau * (ns[n, I_DC] + ns[n, I_EXC] - i_tau)
    fb = 0.0
    if npar[n, I_A_GAIN] > 0.0:
        fl = npar[n, I_SLEEP]
        i_a = npar[n, I_A_GAIN] / (1.0 + math.exp(-(fl - npar[n, I_A_TH]) / npar[n, I_A_NORM]))
        fb = i_a / i_tau * (fl + i_gain)
    return i_inf + fb <= npar[n, I_SLEEP]


@njit(cache=True, fastmath=False, inline="always")
def _post_spike(n, t, nrn, lp, syn, counters):
    """Post-spike learning of docs/texel.md §3 (x_ca, x_post, then all synapses if the gate is open)."""
    ns = nrn.state
    ns[n, X_CA] += lp.a_ca * (lp.x_ca_max - ns[n, X_CA])
    ns[n, X_POST] = min(1.0, ns[n, X_POST] + lp.a_post)
    if _gate_open(ns[n, X_CA], lp):
        x_pre, rho, t_syn, tau_pre, importance = syn.x_pre, syn.rho, syn.t_syn, syn.tau_pre, syn.importance
        c, x_floor, theta_pre, rho_neg2 = lp.c, lp.x_floor, lp.theta_pre, lp.rho_neg2
        base = n * syn.n_plastic
        for j in range(base, base + syn.n_plastic):
            _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp)
            xp = x_pre[j]
            d = c * xp
            if x_floor < xp < theta_pre:
                d += rho_neg2
            if _set_rho(rho, j, _rule(j, d, rho, importance, lp), lp.theta_rho):
                _flipped(j, rho[j] > lp.theta_rho, syn, counters)


@njit(cache=True, fastmath=False, inline="always")
def advance_neuron(n, t, nrn, lp, syn, out, n_out, counters, exact):
    """Advance neuron ``n`` lazily to time ``t``; emitted spikes go to ``out`` (a SpikeBuffer). Returns n_out.

    With ``exact=False`` (window flushes) the neuron only takes the whole steps it would take
    anyway on its way to its next event, and stops before a partial step, a partial refractory
    hold or a sleep jump: flushing then never changes the trajectory, so results do not depend on
    the batch window. The state lives in locals during the step loop (written back at the end and
    around post-spike learning). Full steps use the precomputed decay factors exp(−DT_MAX/τ).
    """
    ns = nrn.state
    t0 = ns[n, T]
    if t0 >= t:
        return n_out
    p = nrn.par
    tau_mem, i_tau, i_gain, thr = p[n, TAU_MEM], p[n, I_TAU], p[n, I_GAIN], p[n, I_SPKTHR]
    a_gain, a_th, a_norm = p[n, I_A_GAIN], p[n, I_A_TH], p[n, I_A_NORM]
    i_sleep, i_zero, dt_max = p[n, I_SLEEP], p[n, I_ZERO], p[n, DT_MAX]
    e_syn, e_ahp, e_post, e_ca = p[n, E_SYN_STEP], p[n, E_AHP_STEP], p[n, E_POST_STEP], p[n, E_CA_STEP]
    g_tau = i_gain / i_tau
    fb_sleep = 0.0
    if a_gain > 0.0:
        fb_sleep = a_gain / (1.0 + math.exp(-(i_sleep - a_th) / a_norm)) / i_tau * (i_sleep + i_gain)
    i_mem, i_exc, i_inh, i_ahp = ns[n, I_MEM], ns[n, I_EXC], ns[n, I_INH], ns[n, I_AHP]
    x_post, x_ca, i_dc, ref_until = ns[n, X_POST], ns[n, X_CA], ns[n, I_DC], ns[n, REF_UNTIL]
    while t0 < t:
        if ref_until > t0:  # refractory: I_mem held at reset
            if not exact and ref_until > t:
                break
            te = min(ref_until, t)
            dt = te - t0
            if dt == dt_max:
                es, ea, ep, ec = e_syn, e_ahp, e_post, e_ca
            else:
                es = math.exp(-dt / p[n, TAU_SYN])
                ea = math.exp(-dt / p[n, TAU_AHP])
                ep = math.exp(-dt / p[n, TAU_POST])
                ec = math.exp(-dt / p[n, TAU_CA])
            i_exc *= es
            i_inh *= es
            i_ahp *= ea
            x_post *= ep
            x_ca *= ec
            i_mem = p[n, I_RESET]
            t0 = te
            continue
        if i_mem <= i_sleep and g_tau * (i_dc + i_exc - i_tau) + fb_sleep <= i_sleep:  # asleep
            if exact:
                dt = t - t0
                es = math.exp(-dt / p[n, TAU_SYN])
                i_exc *= es
                i_inh *= es
                i_ahp *= math.exp(-dt / p[n, TAU_AHP])
                x_post *= math.exp(-dt / p[n, TAU_POST])
                x_ca *= math.exp(-dt / p[n, TAU_CA])
                t0 = t
            break
        i_inf = g_tau * (i_dc + i_exc - i_inh - i_ahp - i_tau)
        fb = 0.0
        if a_gain > 0.0:
            fb = a_gain / (1.0 + math.exp(-(i_mem - a_th) / a_norm)) / i_tau * (i_mem + i_gain)
        drive = i_inf + fb
        leak_f = 1.0 + i_ahp / i_tau
        rate = i_mem / (tau_mem * (i_mem + i_gain))
        h = min(dt_max, t - t0)
        slope = abs(rate * (drive - i_mem * leak_f))
        if slope * h > i_mem:
            h = max(i_mem / slope, 1e-9)
            h = min(h, t - t0)
        if not exact and h < dt_max and t0 + dt_max > t and h == t - t0:
            break
        i_eq = drive / leak_f
        i_new = i_eq + (i_mem - i_eq) * math.exp(-rate * leak_f * h)
        if i_new > thr:  # cut the step at the (linearly interpolated) threshold crossing
            h *= (thr - i_mem) / (i_new - i_mem)
        i_mem = max(i_new, i_zero)
        if h == dt_max:
            es, ea, ep, ec = e_syn, e_ahp, e_post, e_ca
        else:
            es = math.exp(-h / p[n, TAU_SYN])
            ea = math.exp(-h / p[n, TAU_AHP])
            ep = math.exp(-h / p[n, TAU_POST])
            ec = math.exp(-h / p[n, TAU_CA])
        i_exc *= es
        i_inh *= es
        i_ahp *= ea
        x_post *= ep
        x_ca *= ec
        t0 += h
        if i_mem > thr:
            if n_out < out.t.shape[0]:
                out.t[n_out] = t0
                out.neuron[n_out] = n
                n_out += 1
            else:  # buffer full: counted, reported by the caller as an error
                counters.lost_spikes += 1
            counters.spikes += 1
            i_mem = p[n, I_RESET]
            ref_until = t0 + p[n, T_REF]
            i_ahp += p[n, AHP_JUMP]
            ns[n, X_POST] = x_post
            ns[n, X_CA] = x_ca
            _post_spike(n, t0, nrn, lp, syn, counters)
            x_post, x_ca = ns[n, X_POST], ns[n, X_CA]
    ns[n, I_MEM], ns[n, I_EXC], ns[n, I_INH], ns[n, I_AHP] = i_mem, i_exc, i_inh, i_ahp
    ns[n, X_POST], ns[n, X_CA], ns[n, REF_UNTIL] = x_post, x_ca, ref_until
    ns[n, T] = max(ns[n, T], t if exact else t0)
    return n_out


@njit(cache=True, fastmath=False, inline="always")
def _probe(n, k, t, nrn, syn, row):
    j = n * syn.n_plastic + k
    ns = nrn.state
    row[0] = t
    row[1] = n
    row[2] = k
    row[3] = ns[n, I_MEM]
    row[4] = ns[n, I_AHP]
    row[5] = ns[n, I_EXC]
    row[6] = ns[n, I_INH]
    row[7] = ns[n, X_POST]
    row[8] = ns[n, X_CA]
    row[9] = syn.x_pre[j]
    row[10] = syn.rho[j]


@njit(cache=True, fastmath=False)
def run_events(ev, start, stop, nrn, lp, syn, out, n_out, n_probe, counters, device_mode, stop_on_flip):
    """Process events ``start..stop-1`` of ``ev`` (an Events record) in time order.

    Returns (next event, n_out, n_probe). ``nrn``: Neurons; ``lp``: LEARN_DTYPE record; ``syn``:
    Synapses; ``out``: SpikeBuffer; ``counters``: COUNTER_DTYPE record. With ``stop_on_flip`` the
    call returns after the first event that flipped a binary weight. A plastic event is a
    presynaptic spike: pre-trace, depression if the gate is open and x_post > θ_post, transmission.
    The arrays are taken out of their records once, before the loop (reference counting).
    """
    ev_t, ev_n, ev_s, ns = ev.t, ev.neuron, ev.synapse, nrn.state
    x_pre, rho, t_syn, tau_pre, importance = syn.x_pre, syn.rho, syn.t_syn, syn.tau_pre, syn.importance
    jump = syn.jump_dev if device_mode else syn.jump_cap
    jump_static, n_plastic, n_static = syn.jump_static, syn.n_plastic, syn.n_static
    for e in range(start, stop):
        t = ev_t[e]
        n = ev_n[e]
        s = ev_s[e]
        flips_before = counters.weight_flips
        n_out = advance_neuron(n, t, nrn, lp, syn, out, n_out, counters, True)
        if s < 0:
            k = -1 - s
            _sync_synapse(n * n_plastic + k, t, x_pre, rho, t_syn, tau_pre, lp)
            _probe(n, k, t, nrn, syn, out.probes[n_probe])
            n_probe += 1
        elif s < n_plastic:
            j = n * n_plastic + s
            _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp)
            x_pre[j] += lp.a_pre * (1.0 - x_pre[j])
            if _gate_open(ns[n, X_CA], lp) and ns[n, X_POST] > lp.theta_post:
                if _set_rho(rho, j, _rule(j, lp.rho_neg, rho, importance, lp), lp.theta_rho):
                    _flipped(j, rho[j] > lp.theta_rho, syn, counters)
            if device_mode or rho[j] > lp.theta_rho:
                ns[n, I_EXC] += jump[j]
            counters.plastic_events += 1
        else:
            w = jump_static[n * n_static + (s - n_plastic)]
            if w >= 0.0:
                ns[n, I_EXC] += w
            else:
                ns[n, I_INH] -= w
            counters.static_events += 1
        if stop_on_flip and counters.weight_flips > flips_before:
            return e + 1, n_out, n_probe
    return stop, n_out, n_probe


@njit(cache=True, fastmath=False)
def flush_active(neurons, t, nrn, lp, syn, out, n_out, counters):
    """Advance every listed neuron that is awake to time ``t`` (sleeping ones stay lazy)."""
    ns = nrn.state
    for i in range(neurons.shape[0]):
        n = neurons[i]
        if ns[n, T] < t and (ns[n, REF_UNTIL] > ns[n, T] or not is_asleep(n, nrn)):
            n_out = advance_neuron(n, t, nrn, lp, syn, out, n_out, counters, False)
    return n_out


@njit(cache=True, fastmath=False)
def fifo_departures(arrival: np.ndarray, service: float) -> np.ndarray:
    """Departure times of a FIFO single server (Lindley recursion): d_i = max(a_i, d_(i−1)) + s."""
    out = np.empty_like(arrival)
    last = -np.inf
    for i in range(arrival.shape[0]):
        d = max(arrival[i], last) + service
        out[i] = d
        last = d
    return out
