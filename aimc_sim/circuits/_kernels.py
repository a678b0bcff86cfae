"""Numba kernels of the circuit populations. Each has a plain-python/numpy twin in ``_reference.py``.

Conventions: decay factors that need ``exp`` of a constant are computed once outside the kernels
(numpy), so kernels and references do the same float operations in the same order. Kernels that
integrate nonlinear ODEs call ``math.exp``/``math.log``, which numba lowers to the same libm calls
that the scalar python references use (bit-exact agreement is tested, spec K-1).
"""

from __future__ import annotations

import math

from numba import njit, prange

# Columns of the AdExp/DPI-neuron parameter table (one row per neuron).
TAU, ITAU, IGAIN, ISPK, IRESET, TREF, IAGAIN, IATH, IANORM, TAUAHP, JAHP, IFLOOR, ISLEEP = range(13)
N_ADEXP_PARAMS = 13
REL_MAX = 0.25
"""Largest relative growth of I_mem per sub-step; faster growth shortens the sub-step."""
H_MIN_FRACTION = 1.0 / 256
"""Sub-steps are never shorter than h*H_MIN_FRACTION (bounded cost per interval)."""


@njit(cache=True, fastmath=False, parallel=True)
def dpi_run(i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out):  # pragma: no cover - numba
    """Event-exact DPI synapses sampled on a grid.

    Synapse j has events ``ev_time[ptr[j]:ptr[j+1]]`` (sorted, relative to the run start); each
    adds ``jump[j]`` at the end of its pulse (t + t_pulse). ``out[k, j]`` is I_syn at time k*dt,
    k = 1..n_steps. ``i_syn`` holds the state at the run start and is set to the state at the end.
    """
    n = i_syn.size
    t_end = n_steps * dt
    for j in prange(n):
        cur = i_syn[j]
        t_last = 0.0
        e = ptr[j]
        for k in range(1, n_steps + 1):
            tk = k * dt
            while e < ptr[j + 1] and ev_time[e] + t_pulse <= tk:
                ta = ev_time[e] + t_pulse
                cur = cur * math.exp(-(ta - t_last) / tau[j]) + jump[j]
                t_last = ta
                e += 1
            out[k - 1, j] = cur * math.exp(-(tk - t_last) / tau[j])
        i_syn[j] = cur * math.exp(-(t_end - t_last) / tau[j])


@njit(cache=True, fastmath=False, parallel=True)
def adexp_run(i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, n_samples, dt, h, p, t0, buf_t, buf_n):  # pragma: no cover
    """Advance the DPI/AdExp neurons ``sel`` through input samples ``pos_s[i]..n_samples-1``.

    Sample s holds input current ``i_in[s, i]`` (or ``i_in[0, i]`` when i_in has one row) for dt.
    Within a sample the membrane is integrated with exponential-midpoint sub-steps of at most h
    (second order; exact for the linear part with frozen coefficients); a sub-step is cut at the threshold
    crossing, so spike times are not quantised to h. Refractory holds and the adaptation DPI use
    exact event times and exact exponential decay. Spike times ``t0 + s*dt + t`` go to
    ``buf_t[j, :buf_n[j]]``; when a neuron's buffer is full it stops, and ``pos_s``/``pos_t`` record
    where to resume (the caller loops until every ``pos_s[i] == n_samples``).
    """
    cap = buf_t.shape[1]
    one_row = i_in.shape[0] == 1
    for j in prange(sel.size):
        i = sel[j]
        tau = p[i, TAU]
        itau = p[i, ITAU]
        igain = p[i, IGAIN]
        ispk = p[i, ISPK]
        ireset = p[i, IRESET]
        tref = p[i, TREF]
        iagain = p[i, IAGAIN]
        iath = p[i, IATH]
        ianorm = p[i, IANORM]
        tauahp = p[i, TAUAHP]
        jahp = p[i, JAHP]
        ifloor = p[i, IFLOOR]
        isleep = p[i, ISLEEP]
        im = i_mem[i]
        ia = i_ahp[i]
        tr = t_refr[i]
        s = pos_s[i]
        t = pos_t[i]
        nsp = 0
        while s < n_samples and nsp < cap:
            iin = i_in[0, i] if one_row else i_in[s, i]
            while nsp < cap:
                rem = dt - t
                if rem <= 0.0:
                    break
                if tr > 0.0:
                    d = tr if tr < rem else rem
                    ia = ia * math.exp(-d / tauahp)
                    tr = 0.0 if d == tr else tr - d
                    t = dt if d == rem else t + d
                    continue
                d = h if h < rem else rem
                if im <= isleep:
                    fb_max = iagain / (1.0 + math.exp(-(isleep - iath) / ianorm)) * (isleep + igain) / itau
                    if igain * (iin - itau) / itau + fb_max <= isleep:
                        d = rem
                # exponential midpoint: coefficients frozen at a predicted half-step state
                g = 1.0 + ia / itau
                iinf = igain * (iin - ia - itau) / itau
                fb = iagain / (1.0 + math.exp(-(im - iath) / ianorm)) * (im + igain) / itau
                ieq = (iinf + fb) / g
                k = im * g / (tau * (im + igain))
                # resolve fast growth (I_mem << I_gain, or strong feedback): relative change <= rel_max
                grow = k * (ieq - im) / im
                if grow * d > REL_MAX:
                    d = REL_MAX / grow
                    if d < h * H_MIN_FRACTION:
                        d = h * H_MIN_FRACTION
                    if d > rem:
                        d = rem
                imh = ieq + (im - ieq) * math.exp(-k * (0.5 * d))
                if imh < ifloor:
                    imh = ifloor
                iah = ia * math.exp(-(0.5 * d) / tauahp)
                g = 1.0 + iah / itau
                iinf = igain * (iin - iah - itau) / itau
                fb = iagain / (1.0 + math.exp(-(imh - iath) / ianorm)) * (imh + igain) / itau
                ieq = (iinf + fb) / g
                k = imh * g / (tau * (imh + igain))
                inew = ieq + (im - ieq) * math.exp(-k * d)
                if inew > ispk:
                    dc = math.log((im - ieq) / (ispk - ieq)) / k
                    if dc > d:
                        dc = d
                    if dc < 0.0:
                        dc = 0.0
                    ia = ia * math.exp(-dc / tauahp) + jahp
                    t = dt if dc == rem else t + dc
                    buf_t[j, nsp] = t0 + s * dt + t
                    nsp += 1
                    im = ireset
                    tr = tref
                else:
                    im = inew if inew > ifloor else ifloor
                    ia = ia * math.exp(-d / tauahp)
                    t = dt if d == rem else t + d
            if t >= dt:
                s += 1
                t = 0.0
        i_mem[i] = im
        i_ahp[i] = ia
        t_refr[i] = tr
        pos_s[i] = s
        pos_t[i] = t
        buf_n[j] = nsp
