"""Plain-python/numpy references of the kernels in ``_kernels.py`` (test K-1: equal in float64).

They are written independently of the kernels (vectorised where the arithmetic allows it, scalar
``math`` calls where the kernel calls libm) and are used by the tests and the benchmarks only.
"""

from __future__ import annotations

import math

import numpy as np

from aimc_sim.circuits._kernels import (
    H_MIN_FRACTION,
    IAGAIN,
    IANORM,
    IATH,
    IFLOOR,
    IGAIN,
    IRESET,
    ISLEEP,
    ISPK,
    ITAU,
    JAHP,
    REL_MAX,
    RESET_SUBTRACT,
    RESET_TO_VALUE,
    TAU,
    TAUAHP,
    TREF,
)


def dpi_run_ref(i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out) -> None:
    """Reference of ``dpi_run``: per synapse, walk its events and sample the grid."""
    for j in range(i_syn.size):
        events = list(ev_time[ptr[j] : ptr[j + 1]] + t_pulse)
        cur, t_last = float(i_syn[j]), 0.0
        for k in range(1, n_steps + 1):
            tk = k * dt
            while events and events[0] <= tk:
                ta = events.pop(0)
                cur = cur * math.exp(-(ta - t_last) / tau[j]) + jump[j]
                t_last = ta
            out[k - 1, j] = cur * math.exp(-(tk - t_last) / tau[j])
        i_syn[j] = cur * math.exp(-(n_steps * dt - t_last) / tau[j])


def _coefficients(im, ia, iin, q):
    """Fixed point I_eq and rate k of the membrane ODE with coefficients frozen at (im, ia)."""
    g = 1.0 + ia / q[ITAU]
    iinf = q[IGAIN] * (iin - ia - q[ITAU]) / q[ITAU]
    fb = q[IAGAIN] / (1.0 + math.exp(-(im - q[IATH]) / q[IANORM])) * (im + q[IGAIN]) / q[ITAU]
    return (iinf + fb) / g, im * g / (q[TAU] * (im + q[IGAIN]))


def _adexp_substep(im, ia, iin, at_mid, d, rem, h, q):
    """One exponential-midpoint sub-step of length <= d: returns (d used, I_mem after d, I_eq, k).

    ``at_mid(d)`` gives the input at the mid-step when it varies (None: constant ``iin``).
    """
    ieq, k = _coefficients(im, ia, iin, q)
    grow = k * (ieq - im) / im
    if grow * d > REL_MAX:
        d = min(max(REL_MAX / grow, h * H_MIN_FRACTION), rem)
    imh = max(ieq + (im - ieq) * math.exp(-k * (0.5 * d)), q[IFLOOR])
    iah = ia * math.exp(-(0.5 * d) / q[TAUAHP])
    ieq, k = _coefficients(imh, iah, iin if at_mid is None else at_mid(d), q)
    return d, ieq + (im - ieq) * math.exp(-k * d), ieq, k


def adexp_run_ref(i_mem, i_ahp, t_refr, i_in, dt, h, p, t0, i_dec=None, tau_dec=None):
    """Reference of ``adexp_run`` for all neurons from sample 0 (no buffer limit).

    Returns (index, time) lists of the spikes; updates the state arrays in place.
    """
    idx, times = [], []
    n_samples = i_in.shape[0]
    n_dec = 0 if i_dec is None else i_dec.shape[0]
    for i in range(i_mem.size):
        q = [float(v) for v in p[i]]
        im, ia, tr = float(i_mem[i]), float(i_ahp[i]), float(t_refr[i])
        for s in range(n_samples):
            base = float(i_in[s, i])
            t = 0.0
            while t < dt:
                rem = dt - t
                if tr > 0.0:
                    d = min(tr, rem)
                    ia *= math.exp(-d / q[TAUAHP])
                    tr = 0.0 if d == tr else tr - d
                    t = dt if d == rem else t + d
                    continue
                d = min(h, rem)
                parts = [float(i_dec[c, i]) * math.exp(-(s * dt + t) / tau_dec[c, i]) for c in range(n_dec)]
                iin, iin_max = base, base
                for x in parts:
                    iin, iin_max = iin + x, iin_max + max(x, 0.0)
                if im <= q[ISLEEP]:
                    top = q[ISLEEP]
                    fb_max = q[IAGAIN] / (1.0 + math.exp(-(top - q[IATH]) / q[IANORM])) * (top + q[IGAIN]) / q[ITAU]
                    if q[IGAIN] * (iin_max - q[ITAU]) / q[ITAU] + fb_max <= top:
                        d = rem

                def at_mid(d, base=base, s=s, t=t, i=i):
                    x = base
                    for c in range(n_dec):
                        x = x + float(i_dec[c, i]) * math.exp(-(s * dt + t + 0.5 * d) / tau_dec[c, i])
                    return x

                d, inew, ieq, k = _adexp_substep(im, ia, iin, at_mid if n_dec else None, d, rem, h, q)
                if inew > q[ISPK]:
                    crossing = im < q[ISPK] < ieq
                    dc = min(max(math.log((im - ieq) / (q[ISPK] - ieq)) / k, 0.0), d) if crossing else 0.0
                    ia = ia * math.exp(-dc / q[TAUAHP]) + q[JAHP]
                    t = dt if dc == rem else t + dc
                    idx.append(i)
                    times.append(t0 + s * dt + t)
                    im, tr = q[IRESET], q[TREF]
                else:
                    im = max(inew, q[IFLOOR])
                    ia *= math.exp(-d / q[TAUAHP])
                    t = dt if d == rem else t + d
        i_mem[i], i_ahp[i], t_refr[i] = im, ia, tr
    return np.array(idx, dtype=np.int64), np.array(times)


def lif_step_ref(v, ref, i_in, alpha, gain, v_leak, v_th, v_reset, mode, n_ref):
    """Reference of ``lif_step`` (vectorised numpy); updates v, ref in place and returns the spikes."""
    active = ref == 0
    ref[~active] -= 1
    x = v_leak + alpha * (v - v_leak) + gain * i_in
    s = active & (x >= v_th)
    if mode == RESET_TO_VALUE:
        x = np.where(s, v_reset, x)
    elif mode == RESET_SUBTRACT:
        x = np.where(s, x - v_th, x)
    v[active] = x[active]
    ref[s] = n_ref
    return s


def _xorshift(st):
    """Vectorised xorshift64* step: (new states, uniforms in [0, 1))."""
    st = st ^ (st >> np.uint64(12))
    st = st ^ (st << np.uint64(25))
    st = st ^ (st >> np.uint64(27))
    return st, ((st * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)) * 2.0**-53


def lif_drive_ref(v, ref, rng_state, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref, i_bias, charge, cdf, dt):
    """Reference of ``lif_drive`` for all units at once (numpy over units, python over steps).

    Returns (unit index, spike time, input events per unit); updates the flat state in place.
    """
    n = alpha.size
    units = np.arange(v.size)
    a, g, th = alpha[units % n].astype(np.float64), gain[units % n].astype(np.float64), v_th[units % n]
    th = th.astype(np.float64)
    c0 = (1.0 - a) * v_leak + g * i_bias
    gq = g * (charge / dt)
    x = v.astype(np.float64)
    r = ref.astype(np.int64)
    st = rng_state.copy()
    poisson = cdf[0] < 1.0
    events = np.zeros(v.size, dtype=np.int64)
    idx, times = [], []
    for s in range(1, n_steps + 1):
        k = np.zeros(v.size, dtype=np.int64)
        if poisson:
            st, uu = _xorshift(st)
            k = np.searchsorted(cdf, uu, side="right")
            events += k
        active = r == 0
        r[~active] -= 1
        xn = a * x + (c0 + gq * k)
        spk = active & (xn >= th)
        if mode == RESET_TO_VALUE:
            xn = np.where(spk, v_reset, xn)
        elif mode == RESET_SUBTRACT:
            xn = np.where(spk, xn - th, xn)
        x = np.where(active, xn, x)
        r[spk] = n_ref
        idx.append(np.flatnonzero(spk))
        times.append(np.full(idx[-1].size, s * dt))
    v[:] = x
    ref[:] = r
    rng_state[:] = st
    return np.concatenate(idx), np.concatenate(times), events


def adlif_step_ref(u, w, s_prev, i_in, alpha, ca, beta, cb, a, b, theta, symplectic):
    """Reference of ``adlif_step`` (vectorised numpy); updates the state in place, returns the spikes."""
    if symplectic:
        un = alpha * u + ca * (i_in - w)
        s = un >= theta
        un = np.where(s, un - theta, un)
        wn = np.where(s, beta * w + cb * (a * un + b), beta * w + cb * (a * un))
    else:
        wn = beta * w + a * u + b * s_prev
        un = alpha * (u - theta * s_prev) + ca * (i_in - wn)
        s = un >= theta
    u[...] = un
    w[...] = wn
    s_prev[...] = s
    return s
