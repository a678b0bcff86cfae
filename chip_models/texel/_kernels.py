"""Numba kernels of the event-driven chip: lazy neuron advance, learning on events, AER queueing.

The plain-numpy references are :mod:`chip_models.texel.learning` (rule) and the reference event
loop in ``tests/test_texel_kernels.py``; a test compares them on random event streams.

Neuron (circuits.md §3, Chicca et al. 2014 DPI/AdExp): between events each neuron is advanced
lazily. While it may be active it is integrated with steps of at most ``dt_max`` (exponential
Euler on the membrane, the step further bounded so that I_mem changes by at most 100 % per step,
and cut at the linearly interpolated threshold crossing so that spike times are not quantised);
the DPI currents, the adaptation current and the post/Ca traces decay exactly. A neuron sleeps
(one exact jump to the target time) when I_mem is at or below its floor and even the largest
drive it can see before the next event keeps it there.
"""

from __future__ import annotations

import math

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
# learning parameter slots
(
    A_PRE,
    A_POST,
    TH_PRE,
    TH_POST,
    RHO_NEG,
    RHO_NEG2,
    C_LTP,
    X_FLOOR,
    A_CA,
    X_CA_MAX,
    CA_LOW,
    CA_HIGH,
    ENABLE,
    TAU_RHO,
    ALPHA,
    BETA,
    TH_RHO,
) = range(17)
N_LEARN = 17
# probe record columns
PROBE_COLS = ("t", "neuron", "synapse", "i_mem", "i_ahp", "i_exc", "i_inh", "x_post", "x_ca", "x_pre", "rho")


@njit(cache=True, fastmath=False)
def drift_rho(rho: float, dt: float, lp: np.ndarray) -> float:
    """Exact bistable drift of one ρ over ``dt`` (never crosses θ_ρ)."""
    if rho > lp[TH_RHO]:
        return min(1.0, rho + lp[ALPHA] * dt / lp[TAU_RHO])
    return max(0.0, rho - lp[BETA] * dt / lp[TAU_RHO])


@njit(cache=True, fastmath=False)
def _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp):
    dt = t - t_syn[j]
    if dt > 0.0:
        x_pre[j] *= math.exp(-dt / tau_pre[j])
        rho[j] = drift_rho(rho[j], dt, lp)
        t_syn[j] = t


@njit(cache=True, fastmath=False)
def is_asleep(n, ns, npar):
    """True when I_mem is at its floor and cannot leave it before more input arrives."""
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


@njit(cache=True, fastmath=False)
def _post_spike(n, t, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, counters):
    """Post-spike learning of spec §5.2 (x_ca, x_post, then all synapses if the gate is open)."""
    ns[n, X_CA] += lp[A_CA] * (lp[X_CA_MAX] - ns[n, X_CA])
    ns[n, X_POST] = min(1.0, ns[n, X_POST] + lp[A_POST])
    x_ca = ns[n, X_CA]
    if lp[ENABLE] > 0.0 and lp[CA_LOW] < x_ca < lp[CA_HIGH]:
        base = n * n_plastic
        for k in range(n_plastic):
            j = base + k
            _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp)
            xp = x_pre[j]
            d = lp[C_LTP] * xp
            if lp[X_FLOOR] < xp < lp[TH_PRE]:
                d += lp[RHO_NEG2]
            old = rho[j]
            new = min(1.0, max(0.0, old + d))
            rho[j] = new
            if (old > lp[TH_RHO]) != (new > lp[TH_RHO]):
                counters[2] += 1


@njit(cache=True, fastmath=False)
def advance_neuron(n, t, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, out_t, out_n, n_out, counters, exact):
    """Advance neuron ``n`` lazily to time ``t``; emitted spikes go to ``out_t/out_n``. Returns n_out.

    With ``exact=False`` (window flushes) the neuron only takes the whole steps it would take
    anyway on its way to its next event, and stops before a partial step, a partial refractory
    hold or a sleep jump: flushing then never changes the trajectory, so results do not depend on
    the batch window. The state lives in locals during the step loop (written back at the end and
    around post-spike learning). Full steps use the precomputed decay factors exp(−DT_MAX/τ).
    """
    t0 = ns[n, T]
    if t0 >= t:
        return n_out
    p = npar[n]
    tau_mem, i_tau, i_gain, thr = p[TAU_MEM], p[I_TAU], p[I_GAIN], p[I_SPKTHR]
    a_gain, a_th, a_norm = p[I_A_GAIN], p[I_A_TH], p[I_A_NORM]
    i_sleep, i_zero, dt_max = p[I_SLEEP], p[I_ZERO], p[DT_MAX]
    e_syn, e_ahp, e_post, e_ca = p[E_SYN_STEP], p[E_AHP_STEP], p[E_POST_STEP], p[E_CA_STEP]
    g_tau = i_gain / i_tau
    fb_sleep = 0.0
    if a_gain > 0.0:
        fb_sleep = a_gain / (1.0 + math.exp(-(i_sleep - a_th) / a_norm)) / i_tau * (i_sleep + i_gain)
    s = ns[n]
    i_mem, i_exc, i_inh, i_ahp = s[I_MEM], s[I_EXC], s[I_INH], s[I_AHP]
    x_post, x_ca, i_dc, ref_until = s[X_POST], s[X_CA], s[I_DC], s[REF_UNTIL]
    while t0 < t:
        if ref_until > t0:  # refractory: I_mem held at reset
            if not exact and ref_until > t:
                break
            te = min(ref_until, t)
            dt = te - t0
            if dt == dt_max:
                es, ea, ep, ec = e_syn, e_ahp, e_post, e_ca
            else:
                es = math.exp(-dt / p[TAU_SYN])
                ea = math.exp(-dt / p[TAU_AHP])
                ep = math.exp(-dt / p[TAU_POST])
                ec = math.exp(-dt / p[TAU_CA])
            i_exc *= es
            i_inh *= es
            i_ahp *= ea
            x_post *= ep
            x_ca *= ec
            i_mem = p[I_RESET]
            t0 = te
            continue
        if i_mem <= i_sleep and g_tau * (i_dc + i_exc - i_tau) + fb_sleep <= i_sleep:  # asleep
            if exact:
                dt = t - t0
                es = math.exp(-dt / p[TAU_SYN])
                i_exc *= es
                i_inh *= es
                i_ahp *= math.exp(-dt / p[TAU_AHP])
                x_post *= math.exp(-dt / p[TAU_POST])
                x_ca *= math.exp(-dt / p[TAU_CA])
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
            es = math.exp(-h / p[TAU_SYN])
            ea = math.exp(-h / p[TAU_AHP])
            ep = math.exp(-h / p[TAU_POST])
            ec = math.exp(-h / p[TAU_CA])
        i_exc *= es
        i_inh *= es
        i_ahp *= ea
        x_post *= ep
        x_ca *= ec
        t0 += h
        if i_mem > thr:
            if n_out < out_t.shape[0]:
                out_t[n_out] = t0
                out_n[n_out] = n
                n_out += 1
            else:  # buffer full: counted, reported by the caller as an error
                counters[4] += 1
            counters[3] += 1
            i_mem = p[I_RESET]
            ref_until = t0 + p[T_REF]
            i_ahp += p[AHP_JUMP]
            s[X_POST] = x_post
            s[X_CA] = x_ca
            _post_spike(n, t0, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, counters)
            x_post, x_ca = s[X_POST], s[X_CA]
    s[I_MEM], s[I_EXC], s[I_INH], s[I_AHP] = i_mem, i_exc, i_inh, i_ahp
    s[X_POST], s[X_CA], s[REF_UNTIL] = x_post, x_ca, ref_until
    s[T] = max(s[T], t if exact else t0)
    return n_out


@njit(cache=True, fastmath=False)
def run_events(
    ev_t,
    ev_n,
    ev_s,
    start,
    stop,
    ns,
    npar,
    lp,
    x_pre,
    rho,
    t_syn,
    tau_pre,
    jump_cap,
    jump_dev,
    jump_static,
    n_plastic,
    n_static,
    device_mode,
    stop_on_flip,
    out_t,
    out_n,
    n_out,
    probes,
    n_probe,
    counters,
):
    """Process events ``start..stop-1`` in time order. Returns (next event, n_out, n_probe).

    ``ev_s``: 0..P-1 plastic synapse, P..P+S-1 static synapse, −1−k a probe of the neuron (and of
    its plastic synapse k). ``counters``: [plastic events, static events, weight flips, spikes,
    spikes lost to a full output buffer].
    With ``stop_on_flip`` the call returns after the first event that flipped a binary weight.
    """
    th_rho = lp[TH_RHO]
    for e in range(start, stop):
        t = ev_t[e]
        n = ev_n[e]
        s = ev_s[e]
        flips_before = counters[2]
        n_out = advance_neuron(
            n, t, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, out_t, out_n, n_out, counters, True
        )
        if s < 0:
            k = -1 - s
            j = n * n_plastic + k
            _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp)
            r = probes[n_probe]
            r[0] = t
            r[1] = n
            r[2] = k
            r[3] = ns[n, I_MEM]
            r[4] = ns[n, I_AHP]
            r[5] = ns[n, I_EXC]
            r[6] = ns[n, I_INH]
            r[7] = ns[n, X_POST]
            r[8] = ns[n, X_CA]
            r[9] = x_pre[j]
            r[10] = rho[j]
            n_probe += 1
        elif s < n_plastic:
            j = n * n_plastic + s
            _sync_synapse(j, t, x_pre, rho, t_syn, tau_pre, lp)
            x_pre[j] += lp[A_PRE] * (1.0 - x_pre[j])
            x_ca = ns[n, X_CA]
            if lp[ENABLE] > 0.0 and lp[CA_LOW] < x_ca < lp[CA_HIGH] and ns[n, X_POST] > lp[TH_POST]:
                old = rho[j]
                new = min(1.0, max(0.0, old + lp[RHO_NEG]))
                rho[j] = new
                if (old > th_rho) != (new > th_rho):
                    counters[2] += 1
            if device_mode:
                ns[n, I_EXC] += jump_dev[j]
            elif rho[j] > th_rho:
                ns[n, I_EXC] += jump_cap[j]
            counters[0] += 1
        else:
            w = jump_static[n * n_static + (s - n_plastic)]
            if w >= 0.0:
                ns[n, I_EXC] += w
            else:
                ns[n, I_INH] -= w
            counters[1] += 1
        if stop_on_flip and counters[2] > flips_before:
            return e + 1, n_out, n_probe
    return stop, n_out, n_probe


@njit(cache=True, fastmath=False)
def flush_active(neurons, t, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, out_t, out_n, n_out, counters):
    """Advance every listed neuron that is awake to time ``t`` (sleeping ones stay lazy)."""
    for i in range(neurons.shape[0]):
        n = neurons[i]
        if ns[n, T] < t and (ns[n, REF_UNTIL] > ns[n, T] or not is_asleep(n, ns, npar)):
            n_out = advance_neuron(
                n, t, ns, npar, lp, x_pre, rho, t_syn, tau_pre, n_plastic, out_t, out_n, n_out, counters, False
            )
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
