"""Numba kernels of the circuit populations. Each has a plain-python/numpy twin in ``_reference.py``.

Conventions: decay factors that need ``exp`` of a constant are computed once outside the kernels
(numpy), so kernels and references do the same float operations in the same order. Kernels that
integrate nonlinear ODEs call ``math.exp``/``math.log``, which numba lowers to the same libm calls
that the scalar python references use (bit-exact agreement is tested, spec K-1).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

# Columns of the AdExp/DPI-neuron parameter table (one row per neuron).
TAU, ITAU, IGAIN, ISPK, IRESET, TREF, IAGAIN, IATH, IANORM, TAUAHP, JAHP, IFLOOR, ISLEEP = range(13)
N_ADEXP_PARAMS = 13
PARALLEL_MIN_NS = 20e6
"""Estimated serial work [ns] above which the ``parallel=True`` kernel variants are used. Below it a
thread-pool launch costs more than it saves (measured: ~10 ms per launch on a loaded 2-core host)."""
NS_LIF_UPDATE, NS_ADEXP_SUBSTEP, NS_DPI_SAMPLE = 2.0, 80.0, 20.0
"""Rough serial cost of one elementary update of each kernel [ns] (bench_circuits.py)."""
REL_MAX = 0.25
"""Largest relative growth of I_mem per sub-step; faster growth shortens the sub-step."""
H_MIN_FRACTION = 1.0 / 256
"""Sub-steps are never shorter than h*H_MIN_FRACTION (bounded cost per interval)."""


@njit(cache=True, fastmath=False)
def _dpi_unit(j, i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out):  # pragma: no cover - numba
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
    i_syn[j] = cur * math.exp(-(n_steps * dt - t_last) / tau[j])


@njit(cache=True, fastmath=False, parallel=True)
def dpi_run(i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out):  # pragma: no cover - numba
    """Event-exact DPI synapses sampled on a grid (parallel over synapses).

    Synapse j has events ``ev_time[ptr[j]:ptr[j+1]]`` (sorted, relative to the run start); each
    adds ``jump[j]`` at the end of its pulse (t + t_pulse). ``out[k, j]`` is I_syn at time k*dt,
    k = 1..n_steps. ``i_syn`` holds the state at the run start and is set to the state at the end.
    """
    for j in prange(i_syn.size):
        _dpi_unit(j, i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out)


@njit(cache=True, fastmath=False)
def dpi_run_serial(i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out):  # pragma: no cover - numba
    """``dpi_run`` on one thread (small problems: no thread-pool start-up)."""
    for j in range(i_syn.size):
        _dpi_unit(j, i_syn, tau, jump, t_pulse, ptr, ev_time, dt, n_steps, out)


@njit(cache=True, fastmath=False)
def _adexp_unit(
    j, i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, dt, h, p, t0, buf_t, buf_n
):  # pragma: no cover - numba
    cap = buf_t.shape[1]
    one_row = i_in.shape[0] == 1
    n_dec = i_dec.shape[0]
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
        base = i_in[0, i] if one_row else i_in[s, i]
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
            # input now (and its upper bound for the rest of the interval: decaying parts only shrink)
            iin = base
            iin_max = base
            for c in range(n_dec):
                x = i_dec[c, i] * math.exp(-(s * dt + t) / tau_dec[c, i])
                iin = iin + x
                iin_max = iin_max + (x if x > 0.0 else 0.0)
            if im <= isleep:
                fb_max = iagain / (1.0 + math.exp(-(isleep - iath) / ianorm)) * (isleep + igain) / itau
                if igain * (iin_max - itau) / itau + fb_max <= isleep:
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
            if n_dec > 0:  # decaying input at the mid-step
                iin = base
                for c in range(n_dec):
                    iin = iin + i_dec[c, i] * math.exp(-(s * dt + t + 0.5 * d) / tau_dec[c, i])
            g = 1.0 + iah / itau
            iinf = igain * (iin - iah - itau) / itau
            fb = iagain / (1.0 + math.exp(-(imh - iath) / ianorm)) * (imh + igain) / itau
            ieq = (iinf + fb) / g
            k = imh * g / (tau * (imh + igain))
            inew = ieq + (im - ieq) * math.exp(-k * d)
            if inew > ispk:
                # crossing time of the frozen-coefficient solution (0 if already above threshold)
                dc = math.log((im - ieq) / (ispk - ieq)) / k if im < ispk < ieq else 0.0
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


@njit(cache=True, fastmath=False, parallel=True)
def adexp_run(
    i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, dt, h, p, t0, buf_t, buf_n
):  # pragma: no cover
    """Advance the DPI/AdExp neurons ``sel`` through input samples ``pos_s[i]..n_samples-1``.

    Sample s holds input current ``i_in[s, i]`` (or ``i_in[0, i]`` when i_in has one row) for dt,
    plus decaying components ``i_dec[c, i]*exp(-t/tau_dec[c, i])`` (t from the start of sample 0;
    shape (0, n) for none), e.g. DPI synaptic currents between two input events.
    Within a sample the membrane is integrated with exponential-midpoint sub-steps of at most h
    (second order; exact for the linear part with frozen coefficients); a sub-step is cut at the threshold
    crossing, so spike times are not quantised to h. Refractory holds and the adaptation DPI use
    exact event times and exact exponential decay. Spike times ``t0 + s*dt + t`` go to
    ``buf_t[j, :buf_n[j]]``; when a neuron's buffer is full it stops, and ``pos_s``/``pos_t`` record
    where to resume (the caller loops until every ``pos_s[i] == n_samples``).
    """
    for j in prange(sel.size):
        _adexp_unit(
            j, i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, dt, h, p, t0, buf_t, buf_n
        )


@njit(cache=True, fastmath=False)
def adexp_run_serial(
    i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, dt, h, p, t0, buf_t, buf_n
):  # pragma: no cover
    """``adexp_run`` on one thread (small problems, e.g. one neuron advanced by a SimPy event)."""
    for j in range(sel.size):
        _adexp_unit(
            j, i_mem, i_ahp, t_refr, pos_s, pos_t, sel, i_in, i_dec, tau_dec, n_samples, dt, h, p, t0, buf_t, buf_n
        )


# --- discrete-time LIF / AdLIF (docs/circuits.md §5-6) ---------------------------------

RESET_TO_VALUE, RESET_SUBTRACT, RESET_NONE = 0, 1, 2
_S12, _S25, _S27, _S11 = np.uint64(12), np.uint64(25), np.uint64(27), np.uint64(11)
_XS_MUL = np.uint64(0x2545F4914F6CDD1D)
_TO_UNIT = 2.0**-53


@njit(cache=True, fastmath=False)
def lif_step(v, ref, i_in, alpha, gain, v_leak, v_th, v_reset, mode, n_ref, spikes):  # pragma: no cover
    """One LIF step for a (batch, n) state: v = v_leak + alpha*(v - v_leak) + gain*I; spike if v >= v_th.

    Refractory units (ref > 0) count down and keep their post-spike membrane value. Branch-free
    (selects), so LLVM vectorises the inner loop. Serial: a step is short and memory-bound, and a
    thread-pool launch per step costs more than it saves.
    """
    nb, n = v.shape
    for b in range(nb):
        for i in range(n):
            r = ref[b, i]
            xl = v[b, i]
            x = v_leak + alpha[i] * (xl - v_leak) + gain[i] * i_in[b, i]
            s = (r == 0) & (x >= v_th[i])
            if mode == RESET_TO_VALUE:
                xr = v_reset
            elif mode == RESET_SUBTRACT:
                xr = x - v_th[i]
            else:
                xr = x
            x = xr if s else x
            v[b, i] = x if r == 0 else xl
            ref[b, i] = n_ref if s else r - (r > 0)
            spikes[b, i] = s


LANES = 64
"""Units per block of the fused LIF kernel. The lanes of a block advance in lockstep through a
branch-free loop over the lanes, which LLVM vectorises (AVX2/AVX-512); the rare events (spikes,
>= 4 input events in a step) are finished in a scalar pass. The float results are identical to the
scalar reference (IEEE operations, no fast-math)."""


@njit(cache=True, fastmath=False)
def _lif_drive_block(
    jb, blocks, v, ref, rng_state, pos, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref, i_bias,
    charge, cdf, dt, buf_t, buf_u, buf_n, n_events,
):  # fmt: skip  # pragma: no cover
    units = v.size
    n = alpha.size
    u0 = blocks[jb] * LANES
    m = min(LANES, units - u0)
    cap = buf_t.shape[1]
    ncdf = cdf.size
    # counts 0..3 are resolved branch-free; k >= 4 is finished in the scalar pass
    c_0 = cdf[0]  # no Poisson input: cdf == [1.0] and the draws never reach it
    c_1 = cdf[1] if ncdf > 1 else 2.0
    c_2 = cdf[2] if ncdf > 2 else 2.0
    c_3 = cdf[3] if ncdf > 3 else 2.0
    q = charge / dt
    # lane state as rows of two 2-D arrays; lanes >= m of a partial block are inert dummies
    f = np.zeros((7, LANES))  # x, x before the step, alpha, c0, gain*q, theta, uniform draw
    g_ = np.zeros((4, LANES), dtype=np.int64)  # refractory count, input events, flag, active
    st = np.zeros(LANES, dtype=np.uint64)
    f[5, :] = np.inf
    for lane in range(m):
        u = u0 + lane
        i = u % n
        f[0, lane] = v[u]
        f[2, lane] = alpha[i]
        g = gain[i] * 1.0
        f[3, lane] = (1.0 - f[2, lane]) * v_leak + g * i_bias[u]
        f[4, lane] = g * q
        f[5, lane] = v_th[i]
        g_[0, lane] = ref[u]
        st[lane] = rng_state[u]
    s = pos[u0]
    nsp = 0
    while s < n_steps and nsp + m <= cap:
        s += 1
        hits = 0
        for lane in range(LANES):  # branch-free, vectorised: draw, k in 0..4, update, flags
            z = st[lane]
            z ^= z >> _S12
            z ^= z << _S25
            z ^= z >> _S27
            st[lane] = z
            uu = np.float64(np.int64((z * _XS_MUL) >> _S11)) * _TO_UNIT
            f[6, lane] = uu
            k = np.int64(uu >= c_0) + np.int64(uu >= c_1) + np.int64(uu >= c_2) + np.int64(uu >= c_3)
            g_[1, lane] += k
            xl = f[0, lane]
            f[1, lane] = xl
            y = f[2, lane] * xl + (f[3, lane] + f[4, lane] * k)
            rl = g_[0, lane]
            active = np.int64(rl == 0)
            g_[3, lane] = active
            f[0, lane] = y if rl == 0 else xl
            g_[0, lane] = rl - np.int64(rl > 0)
            fl = (active & np.int64(y >= f[5, lane])) | np.int64(k == 4)
            g_[2, lane] = fl
            hits += fl
        if hits > 0:  # rare: spikes (reset, record) and counts k >= 4 (finish the inverse transform)
            for lane in range(m):
                if g_[2, lane] == 0:
                    continue
                uu = f[6, lane]
                if uu >= c_3:
                    k = 4
                    while k < ncdf and uu >= cdf[k]:
                        k += 1
                    g_[1, lane] += k - 4
                    if g_[3, lane] == 1:
                        f[0, lane] = f[2, lane] * f[1, lane] + (f[3, lane] + f[4, lane] * k)
                y = f[0, lane]
                if g_[3, lane] == 1 and y >= f[5, lane]:
                    if mode == RESET_TO_VALUE:
                        f[0, lane] = v_reset
                    elif mode == RESET_SUBTRACT:
                        f[0, lane] = y - f[5, lane]
                    g_[0, lane] = n_ref
                    buf_t[jb, nsp] = s * dt
                    buf_u[jb, nsp] = u0 + lane
                    nsp += 1
    for lane in range(m):
        u = u0 + lane
        v[u] = f[0, lane]
        ref[u] = g_[0, lane]
        rng_state[u] = st[lane]
        pos[u] = s
        n_events[u] += g_[1, lane]
    buf_n[jb] = nsp


@njit(cache=True, fastmath=False, parallel=True)
def lif_drive(
    blocks, v, ref, rng_state, pos, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref, i_bias, charge,
    cdf, dt, buf_t, buf_u, buf_n, n_events,
):  # fmt: skip  # pragma: no cover
    """Fused Poisson-input generation and LIF update, time-inner per block of LANES units.

    Unit u (flat index over batch x n; neuron u % n) gets I = i_bias[u] + charge*k/dt in each step,
    k ~ Poisson drawn by inverse transform on ``cdf`` (P(K <= k), last entry 1) from the unit's own
    xorshift64* stream ``rng_state[u]``, so results do not depend on threading, blocking or
    chunking. ``cdf == [1.0]`` means no Poisson input (the streams then stay at their seed 0).
    The update is
    x <- alpha*x + ((1 - alpha)*v_leak + gain*i_bias + gain*charge/dt*k), computed in float64.
    Spikes (end-of-step time relative to the call, unit) go to ``buf_t[jb]``/``buf_u[jb]``; a block
    stops when its buffer could overflow within the next step and later resumes from ``pos``.
    ``n_events[u]`` accumulates the input events.
    """
    for jb in prange(blocks.size):
        _lif_drive_block(
            jb, blocks, v, ref, rng_state, pos, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref,
            i_bias, charge, cdf, dt, buf_t, buf_u, buf_n, n_events,
        )  # fmt: skip


@njit(cache=True, fastmath=False)
def lif_drive_serial(
    blocks, v, ref, rng_state, pos, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref, i_bias, charge,
    cdf, dt, buf_t, buf_u, buf_n, n_events,
):  # fmt: skip  # pragma: no cover
    """``lif_drive`` on one thread."""
    for jb in range(blocks.size):
        _lif_drive_block(
            jb, blocks, v, ref, rng_state, pos, n_steps, alpha, gain, v_leak, v_th, v_reset, mode, n_ref,
            i_bias, charge, cdf, dt, buf_t, buf_u, buf_n, n_events,
        )  # fmt: skip


@njit(cache=True, fastmath=False)
def adlif_step(u, w, s_prev, i_in, alpha, ca, beta, cb, a, b, theta, symplectic, spikes):  # pragma: no cover
    """One AdLIF step for a (batch, n) state, sparch form (docs/circuits.md §6) or symplectic Euler
    (Baronig et al. 2024, arXiv 2408.07517).

    sparch:     w = beta*w + a*u + b*s_prev;  u = alpha*(u - theta*s_prev) + (1 - alpha)*(I - w);  s = u >= theta
    symplectic: u = alpha*u + (1 - alpha)*(I - w);  s = u >= theta;  u -= theta*s;
                w = beta*w + (1 - beta)*(a*u + b*s)
    ``ca = 1 - alpha`` and ``cb = 1 - beta`` are passed in, so float32 states stay in float32.
    ``s_prev`` holds the previous spikes (0/1 in the state dtype). Branch-free, serial.
    """
    nb, n = u.shape
    for bb in range(nb):
        for i in range(n):
            uu = u[bb, i]
            ww = w[bb, i]
            if symplectic:
                uu = alpha[i] * uu + ca[i] * (i_in[bb, i] - ww)
                s = uu >= theta[i]
                uu = uu - theta[i] if s else uu
                w_spk = beta[i] * ww + cb[i] * (a[i] * uu + b[i])
                w_no = beta[i] * ww + cb[i] * (a[i] * uu)
                ww = w_spk if s else w_no
            else:
                sp = s_prev[bb, i]
                ww = beta[i] * ww + a[i] * uu + b[i] * sp
                uu = alpha[i] * (uu - theta[i] * sp) + ca[i] * (i_in[bb, i] - ww)
                s = uu >= theta[i]
            u[bb, i] = uu
            w[bb, i] = ww
            s_prev[bb, i] = s
            spikes[bb, i] = s


def choose(parallel, serial, work_ns: float):
    """The parallel kernel variant for big problems, the serial one otherwise (see PARALLEL_MIN_NS)."""
    return parallel if work_ns >= PARALLEL_MIN_NS else serial
