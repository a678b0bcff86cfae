"""Numba kernels of the iterative exact IR-drop solve (docs/crossbar.md#exact-ir-drop): fused line relaxation.

One Gauss-Seidel sweep solves every row wire exactly (a tridiagonal chain, Thomas algorithm) given the column
voltages B, then every column wire given the new row voltages W. On the Schur complement of the row family this is
B <- M B + c with M = L_B^-1 G L_W^-1 G (real eigenvalues in [0, mu), mu < 1). The kernels never store W or B:
the state of a block of right-hand sides is one field D (rows x cols x K), the column chains after forward
elimination. A pass walks the rows once: back-substitutes the previous sweep's column chains to get row i of B,
solves row chain i, and eliminates row i of the next sweep's column chains, in the direction the back-substitution
runs (top-down and bottom-up elimination alternate from pass to pass). One pass therefore reads and writes D once
(16 bytes per cell and right-hand side) instead of streaming W, B and a scratch field several times.

A pass can also take a Richardson step B <- B + omega (GS(B) - B) without another field: the stored D is
omega * D_gs + (1 - omega) * Lambda B, where Lambda (the inverse of the back-substitution) is bidiagonal and
needs only rows i and i +- 1 of B, which the pass holds anyway. With omega_k = 1 / (1 - r_k) for the N Chebyshev
nodes r_k of [0, mu], N steps apply the Chebyshev polynomial of the Gauss-Seidel iteration (the error falls at
rate (1 - sqrt(1 - mu)) / (1 + sqrt(1 - mu)) per pass, as for block SOR at Young's optimum).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange


class LineTables(NamedTuple):
    """The chains of one programmed state, factored once (all (rows, cols), contiguous along the row wires).

    ``g``: device conductances; ``row``: 1 / Thomas pivot of row chain i eliminated from its driver end (j = 0);
    ``down`` and ``up``: 1 / pivot of column chain j eliminated from row 0 downwards and from the sense end
    (row R - 1) upwards; ``gw``: wire conductance (the chains' off-diagonal is -gw)."""

    g: np.ndarray
    row: np.ndarray
    down: np.ndarray
    up: np.ndarray
    gw: float


class Block(NamedTuple):
    """One block of K right-hand sides: ``src_w`` (R, K) current injected at row node (i, 0), ``src_b`` (C, K) at
    column node (R - 1, j); ``state`` (R, C, K) the eliminated column chains (zero: start from B = 0); outputs
    ``sensed`` (C, K), the sensed node voltages B[R - 1] of the iterate the last pass started from, and ``driven``
    (R, K), the row node voltages W[:, 0] of that pass's row solves."""

    src_w: np.ndarray
    src_b: np.ndarray
    state: np.ndarray
    sensed: np.ndarray
    driven: np.ndarray


class Rows(NamedTuple):
    """Row scratch of one block, each (C, K): ``w`` the row chain being solved; ``b0``, ``b1`` rows i and i -+ 1 of
    the iterate B. Allocated once per block (swapping arrays allocated inside the pass cost reference counting on
    every row: 20 % slower)."""

    w: np.ndarray
    b0: np.ndarray
    b1: np.ndarray


@njit(cache=True, fastmath=False)
def _pivots(G, gw, gt):
    """1 / Thomas pivot of every row chain (from j = 0) and column chain (from row 0 down, and from row R - 1 up),
    each (R, C). The diagonal of a node: its device, gw per wire neighbour, gt at the driver (j = 0) or the sense
    node (i = R - 1); the off-diagonal is -gw. The loops run across chains innermost, so that the divisions of
    independent chains overlap instead of waiting on each other."""
    R, C = G.shape
    row = np.empty((R, C))
    down = np.empty((R, C))
    up = np.empty((R, C))
    g2 = gw * gw
    for i0 in range(0, R, 8):  # row chains eight at a time, along the rows
        for j in range(C):
            d0 = (gw if j > 0 else gt) + (gw if j < C - 1 else 0.0)
            for i in range(i0, min(R, i0 + 8)):
                p = G[i, j] + d0
                if j > 0:
                    p -= g2 * row[i, j - 1]
                row[i, j] = 1.0 / p
    for i in range(R):
        d0 = (gw if i > 0 else 0.0) + (gw if i < R - 1 else gt)
        for j in range(C):
            p = G[i, j] + d0
            if i > 0:
                p -= g2 * down[i - 1, j]
            down[i, j] = 1.0 / p
    for i in range(R - 1, -1, -1):
        d0 = (gw if i > 0 else 0.0) + (gw if i < R - 1 else gt)
        for j in range(C):
            p = G[i, j] + d0
            if i < R - 1:
                p -= g2 * up[i + 1, j]
            up[i, j] = 1.0 / p
    return row, down, up


def line_tables(G: np.ndarray, g_wire: float, g_term: float) -> LineTables:
    """Factor the row chains (driven through ``g_term`` at j = 0) and the column chains (sensed through
    ``g_term`` at the last row) of conductances ``G``, each with its devices on the diagonal."""
    row, down, up = _pivots(G, float(g_wire), float(g_term))
    return LineTables(G, row, down, up, float(g_wire))


@njit(cache=True, fastmath=False)
def _row_chain(g, piv, gw, src_w, i, b, w):
    """Row chain i (pivots ``piv``) solved exactly (Thomas) given its column voltages ``b`` (C, K), into ``w``."""
    C, K = w.shape
    p0 = piv[i, 0]
    a = g[i, 0] * p0
    for k in range(K):
        w[0, k] = a * b[0, k] + src_w[i, k] * p0
    for j in range(1, C):
        a = g[i, j] * piv[i, j]
        c = gw * piv[i, j]
        for k in range(K):
            w[j, k] = a * b[j, k] + c * w[j - 1, k]
    for j in range(C - 2, -1, -1):
        c = gw * piv[i, j]
        for k in range(K):
            w[j, k] += c * w[j + 1, k]


@njit(cache=True, fastmath=False)
def relax_pass(t, blk, rows, ascending, omega):
    """One fused sweep of one block (module docstring). ``ascending``: rows 0 -> R - 1, back-substituting
    bottom-up-eliminated chains and eliminating top-down (descending: the other way round); ``omega``: the
    Richardson step (1: Gauss-Seidel)."""
    D = blk.state
    g = t.g
    R, C, K = D.shape
    gw = t.gw
    elim = t.down if ascending else t.up  # pivots of this pass's elimination
    back = t.up if ascending else t.down  # pivots of the previous pass's elimination
    w, bc, bp = rows  # bc: row i of B; bp: the row before it in the pass
    bp[:] = 0.0
    for s in range(R):
        i = s if ascending else R - 1 - s
        ip = i - 1 if ascending else i + 1
        for j in range(C):  # back-substitution: row i of the iterate B
            cb = gw * back[i, j]
            for k in range(K):
                bc[j, k] = D[i, j, k] + cb * bp[j, k]
        _row_chain(g, t.row, gw, blk.src_w, i, bc, w)
        if s == 0:
            for j in range(C):
                ae = g[i, j] * elim[i, j]
                for k in range(K):
                    D[i, j, k] = ae * w[j, k]
        elif omega == 1.0:
            for j in range(C):  # elimination of row i of the next sweep's column chains, over D[i]
                ae = g[i, j] * elim[i, j]
                ce = gw * elim[i, j]
                for k in range(K):
                    D[i, j, k] = ae * w[j, k] + ce * D[ip, j, k]
        else:
            for j in range(C):  # the same, and the previous row relaxed in place
                ae = g[i, j] * elim[i, j]
                ce = gw * elim[i, j]
                cp = gw * elim[ip, j]
                for k in range(K):
                    z = D[ip, j, k]
                    D[i, j, k] = ae * w[j, k] + ce * z
                    D[ip, j, k] = omega * z + (1.0 - omega) * (bp[j, k] - cp * bc[j, k])
        if i == R - 1:
            for j in range(C):
                pe = elim[i, j]
                for k in range(K):
                    D[i, j, k] += blk.src_b[j, k] * pe
                    blk.sensed[j, k] = bc[j, k]
        for k in range(K):
            blk.driven[i, k] = w[0, k]
        bc, bp = bp, bc
    last = R - 1 if ascending else 0
    if omega != 1.0:
        for j in range(C):
            for k in range(K):
                D[last, j, k] = omega * D[last, j, k] + (1.0 - omega) * bp[j, k]


@njit(cache=True, fastmath=False)
def chebyshev_steps(mu, n):
    """Richardson steps omega_k = 1 / (1 - r_k) for the n Chebyshev nodes r_k of [0, mu], ordered largest,
    smallest, second largest, ... (every factor (x - r) / (1 - r) has modulus < 1 on [0, mu] for mu <= 1/2)."""
    nodes = np.empty(n)
    for k in range(n):
        nodes[k] = 0.5 * mu * (1.0 + np.cos((2 * k + 1) * np.pi / (2 * n)))
    steps = np.empty(n)
    lo, hi = n - 1, 0
    for k in range(n):
        if k % 2 == 0:
            r = nodes[hi]
            hi += 1
        else:
            r = nodes[lo]
            lo -= 1
        steps[k] = 1.0 / (1.0 - r)
    return steps


class Schedule(NamedTuple):
    """When the passes stop and how they are relaxed: ``tol``, stop when the sensed voltages change by at most tol
    times their largest magnitude; ``max_sweeps``, give up after that many passes; ``accelerate``, Chebyshev steps
    once the Gauss-Seidel rate is known (else Gauss-Seidel throughout); ``driven``, the row node voltages W[:, 0] are
    wanted (else a pass that would start from a converged iterate is skipped: a descending pass finds the sensed row
    of its iterate stored as it is, before any work); ``top``, the Gauss-Seidel rate if an earlier group of
    right-hand sides measured it (> 0: relaxed steps from the first pass), else 0; ``second``, the next eigenvalue
    when the top one was found isolated, else 0."""

    tol: float
    max_sweeps: int
    accelerate: bool
    driven: bool
    top: float
    second: float


@njit(cache=True, fastmath=False)
def _cycle(mu, need):
    """Chebyshev steps on [0, mu] for the error reduction ``need`` by the bound 2 rho^n (at most 64 steps)."""
    rho = (1.0 - np.sqrt(1.0 - mu)) / (1.0 + np.sqrt(1.0 - mu))
    n = int(np.ceil(np.log(0.5 * need) / np.log(rho))) if need < 1.0 else 1
    return chebyshev_steps(mu, max(1, min(n, 64)))


@njit(cache=True, fastmath=False)
def _two_rates(s0, s1, s2, s3):
    """The two largest eigenvalues of the Gauss-Seidel iteration seen in the sensed iterates s3, s2, s1, s0 (oldest
    first), by a two-term Prony fit of the changes: d0 = x d1 + y d2 in least squares, roots of z^2 - x z - y; and the
    largest magnitude of the part of d0 not along the top one, (d0 - top d1) / (1 - top / second). Returns zeros when
    the roots are not real and positive."""
    d0, d1, d2 = s0 - s1, s1 - s2, s2 - s3
    a11, a12, a22 = np.sum(d1 * d1), np.sum(d1 * d2), np.sum(d2 * d2)
    b1, b2 = np.sum(d1 * d0), np.sum(d2 * d0)
    det = a11 * a22 - a12 * a12
    if not det > 0.0:
        return 0.0, 0.0, 0.0
    x = (b1 * a22 - b2 * a12) / det
    y = (a11 * b2 - a12 * b1) / det
    disc = x * x + 4.0 * y
    if not (disc >= 0.0 and x - np.sqrt(disc) > 0.0):
        return 0.0, 0.0, 0.0
    top, second = 0.5 * (x + np.sqrt(disc)), 0.5 * (x - np.sqrt(disc))
    return top, second, np.max(np.abs(d0 - top * d1)) / (top / second - 1.0)


@njit(cache=True, fastmath=False)
def _isolated_cycle(top, second, need, kills):
    """``kills`` Richardson steps at 1 / (1 - top), which remove the isolated top eigenvalue (each leaves the fraction
    |top - lambda_1| / (1 - top) of its component and scales the rest by at most top / (1 - top) <= 1), then
    Chebyshev steps on [0, 1.2 second] for the reduction ``need``."""
    return np.concatenate((np.full(kills, 1.0 / (1.0 - top)), _cycle(min(1.2 * second, top), need)))


@njit(cache=True, fastmath=False)
def _relax_block(t, blk, plan):
    """Passes on one block by the :class:`Schedule` ``plan``.
    Gauss-Seidel until the ratio of successive changes has settled (within 20 % of the previous ratio, or after 8
    sweeps); then, when ``accelerate``, the two largest eigenvalues top and second of the Gauss-Seidel iteration
    from the last four iterates (:func:`_two_rates`). If top is isolated (0 < second < top <= 1/2) and within
    0.2 % of 1 - top of the previous pass's fit (a single fit was off by 1e-3 on some blocks of 16 vectors at
    512 x 512, which cost two sweeps), a first cycle
    of two steps that remove it and Chebyshev steps on [0, 1.2 second] for the reduction the rest needs
    (:func:`_isolated_cycle`); then (or else, with top the ratio of changes) cycles of Chebyshev-node Richardson
    steps on [0, 1.02 top], each as long as the remaining reduction needs, until a cycle gains less than 10x
    (rounding: the two elimination directions agree to ~1e-12 relative), then Gauss-Seidel again. The change is
    taken over one pass and over two (same direction), whichever is smaller. With ``plan.top`` given, relaxed steps
    from the first pass (three removal steps when ``plan.second`` is given). Returns the passes used, top and
    second (zeros: not measured; second 0: top not isolated)."""
    tol = plan.tol
    R, C, K = blk.state.shape
    rows = Rows(np.empty((C, K)), np.empty((C, K)), np.empty((C, K)))
    old = np.zeros((C, K))  # sensed voltages one pass back
    older = np.zeros((C, K))  # two passes back (same elimination direction)
    oldest = np.zeros((C, K))  # three passes back
    top, second = (plan.top, plan.second) if plan.accelerate else (0.0, 0.0)
    mu = min(1.02 * top, 0.99)
    if second > 0.0:
        steps = _isolated_cycle(top, second, tol, 3)
    else:
        steps = _cycle(mu, tol) if mu > 0.0 else np.ones(1)
    at = 0
    d_prev = 0.0
    r_prev = 0.0
    fit_prev = 0.0  # the previous pass's estimate of the top eigenvalue
    d_cycle = 0.0
    ascending = True
    for s in range(plan.max_sweeps):
        if not ascending and not plan.driven and s >= 3:  # the state's row R - 1 is the iterate's sensed row
            last = blk.state[R - 1]
            m = np.max(np.abs(last))
            if min(np.max(np.abs(last - old)), np.max(np.abs(last - older))) <= tol * m:
                blk.sensed[:, :] = last
                return s, top, second
        omega = steps[at] if at < steps.size else 1.0
        at += 1
        relax_pass(t, blk, rows, ascending, omega)
        ascending = not ascending
        if s == 0:
            continue
        d = np.max(np.abs(blk.sensed - old))
        d2 = np.max(np.abs(blk.sensed - older)) if s >= 2 else d
        m = np.max(np.abs(blk.sensed))
        if s >= 2 and min(d, d2) <= tol * m:
            return s + 1, top, second
        if plan.accelerate and mu == 0.0 and s >= 3 and d_prev > 0.0:
            r = d / d_prev
            fit, second, low = _two_rates(blk.sensed, old, older, oldest)
            if abs(r - r_prev) <= 0.2 * r or s >= 8:
                if not 0.0 < second < fit <= 0.5:
                    top, second = r, 0.0
                elif abs(fit - fit_prev) <= 2e-3 * (1.0 - fit) or s >= 8:  # the fit has settled too
                    top = fit
                    d_cycle = d
                    steps = _isolated_cycle(top, second, tol * m / max(low, tol * m), 2)
                    at = 0
                if top > 0.0:
                    mu = min(1.02 * top, 0.99)
            r_prev = r
            fit_prev = fit
        oldest[:, :] = older
        older[:, :] = old
        old[:, :] = blk.sensed
        if mu > 0.0 and at >= steps.size:
            if d_cycle > 0.0 and d > 0.1 * d_cycle:  # a cycle gained < 10x: at the rounding floor
                mu = -1.0
                steps = np.ones(1)
            else:  # start a Chebyshev cycle as long as the remaining reduction needs
                d_cycle = d
                steps = _cycle(mu, tol * m / d)
                at = 0
        d_prev = d
    return plan.max_sweeps, top, second


@njit(cache=True, fastmath=False, parallel=True)
def relax_blocks(t, src_w, src_b, state, sensed, driven, plan):
    """:func:`_relax_block` on independent blocks (axis 0 of every array, in parallel); returns the passes and the
    eigenvalue estimates (top, second) per block (n, 2). Shapes: src_w (n, R, K), src_b (n, C, K), state (n, R, C, K)
    zeroed, sensed (n, C, K), driven (n, R, K)."""
    nb = state.shape[0]
    used = np.zeros(nb, dtype=np.int64)
    rates = np.zeros((nb, 2))
    for c in prange(nb):
        blk = Block(src_w[c], src_b[c], state[c], sensed[c], driven[c])
        used[c], rates[c, 0], rates[c, 1] = _relax_block(t, blk, plan)
    return used, rates
