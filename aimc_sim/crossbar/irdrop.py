"""Exact IR drop of a crossbar by nodal analysis (docs/crossbar.md#exact-ir-drop), and the aihwkit approximation
(docs/crossbar.md, pipeline step 4).

Topology (the project default, ``solve_ir_drop``): each row i is driven at its column-0 end through
``r_term``; each column j is sensed at its last-row end into a virtual ground through ``r_term``;
``r_wire`` sits on every wire segment between neighbouring cells, on rows and columns alike; the
device of cell (i, j) joins the row (word-line) node and the column (bit-line) node of that cell.

Kirchhoff's current law at the 2RC nodes gives a weighted graph Laplacian with Dirichlet terms,
L v = g_t P_in V, which is symmetric positive definite. The column currents are
I_j = g_t V^B_{R-1,j}. The network is linear in the drive voltages, so I = V T with the effective
matrix T = g_t^2 P_out L^-1 P_in^T, which depends only on the programmed state (G, r_wire, r_term).
:class:`IrDropSolver` sets the system up once per programmed state (sparse LU, or the factored wire
chains) and then either solves a batch or forms T; every solve leaves an :class:`IrDropReport` (method, sweeps,
convergence, fallback) on the solver.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numba
import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from aimc_sim.config import require_finite
from aimc_sim.crossbar import irdrop_lines
from aimc_sim.errors import ConfigError, SimulationError

__all__ = [
    "nodal_matrix",
    "IrDropSolver",
    "IrDropReport",
    "solve_ir_drop",
    "sur_ir_drop",
    "approx_ir_drop_factor",
    "approx_ir_drop_a",
]


BLOCK_STATE_CELLS = 2**23  # float64 state values per block of right-hand sides (64 MiB): 512 x 512 x 32


def _check_inputs(G: np.ndarray, r_wire: float, r_term: float) -> np.ndarray:
    G = require_finite("G", G).astype(np.float64, copy=False)
    if G.ndim != 2 or G.shape[0] < 1 or G.shape[1] < 1:
        raise ConfigError("G", f"must be a non-empty rows x cols array, got shape {G.shape}")
    if (G < 0).any():
        raise ConfigError("G", "conductances must be >= 0 S")
    for name, r in (("r_wire", r_wire), ("r_term", r_term)):
        if not (isinstance(r, (int, float)) and np.isfinite(r) and r > 0):
            raise ConfigError(name, f"must be a finite resistance > 0 ohm, got {r!r}")
    return G


def nodal_matrix(G: np.ndarray, r_wire: float, r_term: float) -> sp.csc_matrix:
    """The SPD nodal matrix L (2RC x 2RC). Node order: row-line node (i, j) at ``i*C + j``, column-line
    node (i, j) at ``R*C + j*R + i`` (each wire is a contiguous chain)."""
    G = _check_inputs(G, r_wire, r_term)
    R, C = G.shape
    n = R * C
    gw, gt = 1.0 / r_wire, 1.0 / r_term
    w = (np.arange(R)[:, None] * C + np.arange(C)[None, :]).ravel()  # row-line index of cell (i, j)
    b = (n + np.arange(C)[None, :] * R + np.arange(R)[:, None]).ravel()  # column-line index of cell (i, j)
    g = G.ravel()
    diag = np.zeros(2 * n)
    np.add.at(diag, w, g)
    np.add.at(diag, b, g)
    rows, cols, vals = [w, b], [b, w], [-g, -g]
    # row-line segments (i, j)-(i, j+1) and column-line segments (i, j)-(i+1, j)
    wl = (np.arange(R)[:, None] * C + np.arange(C - 1)[None, :]).ravel()
    bl = (n + np.arange(C)[:, None] * R + np.arange(R - 1)[None, :]).ravel()
    for a in (wl, bl):
        diag[a] += gw
        diag[a + 1] += gw
        rows += [a, a + 1]
        cols += [a + 1, a]
        vals += [np.full(a.size, -gw), np.full(a.size, -gw)]
    diag[np.arange(R) * C] += gt  # drivers at column 0
    diag[n + np.arange(C) * R + (R - 1)] += gt  # sense nodes at the last row
    rows.append(np.arange(2 * n))
    cols.append(np.arange(2 * n))
    vals.append(diag)
    L = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(2 * n, 2 * n))
    return L.tocsc()


@dataclass(frozen=True)
class IrDropReport:
    """How the last solve of an :class:`IrDropSolver` went. ``sweeps``: line-relaxation sweeps (0 for ``direct``);
    ``converged``: False only when the relaxation hit ``max_sweeps``, in which case ``fallback`` says so and the
    result came from the direct solve instead (a RuntimeWarning is issued as well)."""

    method: str
    sweeps: int = 0
    converged: bool = True
    fallback: str | None = None


class IrDropSolver:
    """The nodal system of one programmed state, set up once and reused for any number of input batches.

    ``solve(V)`` returns the column currents for a batch of row voltages (batch x rows), and
    ``effective_matrix()`` returns T (rows x cols) such that ``I = V @ T`` exactly.

    ``method``: ``direct`` (sparse LU of L, scipy SuperLU with a minimum-degree ordering), ``iterative``
    (line relaxation, :mod:`aimc_sim.crossbar.irdrop_lines`: every row wire, then every column wire, solved exactly
    as a tridiagonal chain given the other family, fused into one pass over the rows that keeps only the eliminated
    column chains; numba, parallel over blocks of right-hand sides), or ``auto`` (direct up to ``direct_max_nodes``
    unknowns). The sweeps stop when the sensed voltages change by less than ``tol`` relative (default 1e-10: the
    remaining error against the exact solve measured at most about that, against 1e-9 for the tests and ~4e-3 of
    full scale for one 8-bit ADC step, docs/crossbar.md#exact-ir-drop). Not converged after ``max_sweeps``: a
    RuntimeWarning, the direct solve instead, and ``report.fallback`` says so. The line sweeps converge fast because
    the device conductances are small against the wire conductances. ``over_relax`` (default) switches from
    Gauss-Seidel to Richardson steps once the two largest eigenvalues have been read off the sweeps: two steps that
    remove an isolated top one, then Chebyshev-node steps (``irdrop_lines._relax_block``); benchmarks/bench_mvm.py
    times both.
    """

    def __init__(
        self,
        G: np.ndarray,
        r_wire: float,
        r_term: float,
        method: str = "auto",
        tol: float = 1e-10,
        max_sweeps: int = 200,
        direct_max_nodes: int = 40_000,
        over_relax: bool = True,
    ):
        G = _check_inputs(G, r_wire, r_term)
        if method not in ("auto", "direct", "iterative"):
            raise ConfigError("method", f"must be one of 'auto', 'direct', 'iterative', got {method!r}")
        if not (isinstance(tol, float) and 0.0 < tol < 1.0):
            raise ConfigError("tol", f"must be a relative change in (0, 1), got {tol!r}")
        if not (isinstance(max_sweeps, int) and max_sweeps >= 1):
            raise ConfigError("max_sweeps", f"must be an integer >= 1, got {max_sweeps!r}")
        self.G = G
        self.rows, self.cols = G.shape
        self.r_wire, self.r_term = float(r_wire), float(r_term)
        self.g_term, self.g_wire = 1.0 / r_term, 1.0 / r_wire
        self.tol, self.max_sweeps = tol, max_sweeps
        self.over_relax = bool(over_relax)
        if method == "auto":
            method = "direct" if 2 * G.size <= direct_max_nodes else "iterative"
        self.method = method
        self.sweeps_used = 0
        self.report = IrDropReport(method)
        self._lu = None
        self._T: np.ndarray | None = None
        if method == "direct":
            self._factor_direct()
        else:
            self._lines = irdrop_lines.line_tables(G, self.g_wire, self.g_term)

    def _factor_direct(self) -> None:
        L = nodal_matrix(self.G, self.r_wire, self.r_term)
        self._lu = spla.splu(L, permc_spec="MMD_AT_PLUS_A", options={"SymmetricMode": True})
        n = self.rows * self.cols
        self._in_idx = np.arange(self.rows) * self.cols
        self._out_idx = n + np.arange(self.cols) * self.rows + (self.rows - 1)

    @property
    def fill(self) -> int:
        """Non-zeros of the sparse LU factors (``direct``; 0 before the factorisation)."""
        return 0 if self._lu is None else int(self._lu.L.nnz + self._lu.U.nnz)

    def _direct(self, src_w: np.ndarray, src_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Row-node (i, 0) and sensed-node voltages for injected currents src_w (R, K), src_b (C, K)."""
        if self._lu is None:
            self._factor_direct()
        rhs = np.zeros((2 * self.rows * self.cols, src_w.shape[1]))
        rhs[self._in_idx] = src_w
        rhs[self._out_idx] += src_b
        v = self._lu.solve(rhs)
        return v[self._in_idx], v[self._out_idx]

    def _iterative(self, src_w: np.ndarray, src_b: np.ndarray, need_rows: bool) -> tuple[np.ndarray, np.ndarray]:
        """Fused line relaxation (``irdrop_lines``) on groups of right-hand-side blocks, one block per thread: blocks
        of at most 32 right-hand sides (the kernels vectorise across them), fewer for big arrays so that a block's
        state stays within 64 MiB (``BLOCK_STATE_CELLS``: 512 x 512 still takes 32), and equally wide so that no
        thread waits on a mostly padded block. Groups after the first take relaxed steps from their first pass, with
        the eigenvalues the first group measured."""
        R, C = self.rows, self.cols
        K = src_w.shape[1]
        nthreads = numba.get_num_threads()
        widest = max(1, min(32, BLOCK_STATE_CELLS // (R * C)))
        groups = -(-K // (nthreads * widest))
        kc = -(-K // (groups * nthreads))
        vw = np.empty((R, K))
        vb = np.empty((C, K))
        top, second = 0.0, 0.0  # the Gauss-Seidel rate and the next eigenvalue, once the first group measured them
        group = nthreads * kc
        sweeps = 0
        for k0 in range(0, K, group):
            k1 = min(K, k0 + group)
            nb = -(-(k1 - k0) // kc)
            pad = nb * kc - (k1 - k0)
            sw = np.pad(src_w[:, k0:k1], ((0, 0), (0, pad))).reshape(R, nb, kc).transpose(1, 0, 2).copy()
            sb = np.pad(src_b[:, k0:k1], ((0, 0), (0, pad))).reshape(C, nb, kc).transpose(1, 0, 2).copy()
            sensed = np.empty((nb, C, kc))
            driven = np.empty((nb, R, kc))
            plan = irdrop_lines.Schedule(self.tol, self.max_sweeps, self.over_relax, need_rows, top, second)
            state = np.zeros((nb, R, C, kc))
            used, rates = irdrop_lines.relax_blocks(self._lines, sw, sb, state, sensed, driven, plan)
            if top == 0.0:
                top, second = (float(x) for x in rates[int(np.argmax(rates[:, 0]))])
            sweeps = max(sweeps, int(used.max()))
            self.sweeps_used = max(self.sweeps_used, sweeps)
            if sweeps >= self.max_sweeps:
                msg = f"IR-drop line relaxation did not converge in {self.max_sweeps} sweeps; used the direct solve"
                warnings.warn(msg, RuntimeWarning, stacklevel=3)
                self.report = IrDropReport("iterative", sweeps, converged=False, fallback=msg)
                return self._direct(src_w, src_b)
            vw[:, k0:k1] = driven.transpose(1, 0, 2).reshape(R, nb * kc)[:, : k1 - k0]
            vb[:, k0:k1] = sensed.transpose(1, 0, 2).reshape(C, nb * kc)[:, : k1 - k0]
        self.report = IrDropReport("iterative", sweeps)
        return vw, vb

    def _node_voltages(
        self, src_w: np.ndarray, src_b: np.ndarray, need_rows: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row-node (i, 0) and sensed-node voltages; the row-node ones only with ``need_rows`` (iterative)."""
        if self.method == "direct":
            return self._direct(src_w, src_b)
        return self._iterative(src_w, src_b, need_rows)

    def solve(self, V: np.ndarray) -> np.ndarray:
        """Column currents (batch x cols, A) for row drive voltages ``V`` (batch x rows, V)."""
        V = _check_voltages(V, self.rows)
        if self._T is not None:
            return V @ self._T
        _, vb = self._node_voltages(self.g_term * V.T, np.zeros((self.cols, V.shape[0])))
        return self.g_term * vb.T

    def effective_matrix(self) -> np.ndarray:
        """T (rows x cols): I = V @ T exactly for linear devices. Formed with min(rows, cols) solves:
        unit drives at the rows, or (by the symmetry of L) unit currents injected at the sense nodes."""
        if self._T is None:
            gt = self.g_term
            if self.rows <= self.cols:
                _, vb = self._node_voltages(gt * np.eye(self.rows), np.zeros((self.cols, self.rows)))
                self._T = gt * vb.T
            else:
                vw, _ = self._node_voltages(np.zeros((self.rows, self.cols)), gt * np.eye(self.cols), need_rows=True)
                self._T = gt * vw
        return self._T


def _check_voltages(V: np.ndarray, rows: int) -> np.ndarray:
    V = require_finite("V", V).astype(np.float64, copy=False)
    if V.ndim == 1:
        V = V[None, :]
    if V.ndim != 2 or V.shape[1] != rows:
        raise ConfigError("V", f"must have shape (batch, {rows}), got {V.shape}")
    return V


def solve_ir_drop(G: np.ndarray, V: np.ndarray, r_wire: float, r_term: float) -> np.ndarray:
    """Exact column currents I (batch x cols, A) of a crossbar with wire resistance.

    ``G``: rows x cols conductances (S); ``V``: batch x rows drive voltages (V); ``r_wire``: resistance of
    each wire segment between neighbouring cells (ohm); ``r_term``: driver and sense terminal resistance.
    Topology in the module docstring. Sparse LU of the nodal matrix, then one solve for the whole batch.
    """
    solver = IrDropSolver(G, r_wire, r_term)
    return solver.solve(V)


def approx_ir_drop_a(abs_m: np.ndarray, abs_x: np.ndarray, g_ratio: float) -> np.ndarray:
    """aihwkit's a per output (docs/crossbar.md, pipeline step 4; Rasch et al., aihwkit, AICAS 2021):
    a_j = n / g_ratio * sum_i |w_ij| |x_i|.

    ``abs_m``: |normalised weights| (n_in x n_out); ``abs_x``: |normalised inputs| (batch x n_in);
    ``g_ratio`` = 1 / (r_wire * g_max).
    """
    n = abs_m.shape[0]
    return (n / g_ratio) * (abs_x @ abs_m)


def approx_ir_drop_factor(a: np.ndarray) -> np.ndarray:
    """The cubic c(a) = a (0.05 a^2 - 0.2 a + 0.5) of aihwkit ``applyIrDrop`` (docs/crossbar.md, pipeline step 4)."""
    return a * (0.05 * a * a - 0.2 * a + 0.5)


def sur_ir_drop(
    G: np.ndarray,
    V: np.ndarray,
    r_wire: float,
    r_term: float,
    v_tol: float = 1e-3,
    gamma: float = 1.0,
    max_iter: int = 100,
) -> np.ndarray:
    """CrossSim's successive-under-relaxation IR-drop solve (docs/crossbar.md#exact-ir-drop), same topology as
    :func:`solve_ir_drop`; a baseline and cross-check (test XB-2), in plain numpy.

    Start with every cell seeing its full input, dV_ij = V_i. Each iteration: cell currents I = g dV; column
    voltages from the cumulative currents of the cells farther from the sense node (r_term on the last
    segment); row drops from the cumulative currents of the cells farther from the driver (r_term on the
    first segment); residual E = V - drop - V^B - dV; stop when max |E| < v_tol * max |V|; else
    dV += gamma * E. If ``max_iter`` iterations do not converge, gamma <- 0.98 gamma and restart; below
    gamma = 0.01 it fails. Returns the column currents (batch x cols, A).
    """
    G = _check_inputs(G, r_wire, r_term)
    V = _check_voltages(V, G.shape[0])
    if not (np.isfinite(v_tol) and v_tol > 0):
        raise ConfigError("v_tol", f"must be a finite number > 0, got {v_tol!r}")
    R, C = G.shape
    rb = np.full(R, r_wire)
    rb[-1] = r_term  # segment below row i carries the currents of rows <= i; the last one is the terminal
    rw = np.full(C, r_wire)
    rw[0] = r_term  # segment into column j carries the currents of columns >= j; the first is the driver
    vin = V[:, :, None]
    thresh = v_tol * max(float(np.abs(V).max()), 1e-300)
    while gamma >= 0.01:
        dv = np.broadcast_to(vin, (V.shape[0], R, C)).copy()
        for _ in range(max_iter):
            i_cell = G * dv
            s = np.cumsum(i_cell, axis=1) * rb[None, :, None]  # r_k * (currents of rows <= k)
            vb = np.cumsum(s[:, ::-1, :], axis=1)[:, ::-1, :]  # V^B_ij = sum_{k >= i} r_k S_kj
            t = np.cumsum(i_cell[:, :, ::-1], axis=2)[:, :, ::-1] * rw[None, None, :]
            drop = np.cumsum(t, axis=2)  # D^W_ij = sum_{k <= j} r_k T_ik
            err = vin - drop - vb - dv
            if np.abs(err).max() < thresh:
                return (G * dv).sum(axis=1)
            dv += gamma * err
        gamma *= 0.98
    raise SimulationError("SUR IR-drop solve did not converge for gamma >= 0.01 (docs/crossbar.md#exact-ir-drop)")
