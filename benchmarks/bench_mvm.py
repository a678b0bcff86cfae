"""Speed of the analog MVM pipeline and of the exact IR-drop solve (issue 9).

(1) bare numpy float32 x @ W, W 512 x 512, batch 256;
(2) AnalogTile.mvm with the full default pipeline (tile preset ``pcm-default``: 8-bit DAC, 8-bit ADC,
    differential PCM pairs, state-dependent read noise, output noise, abs-max noise management, global drift
    compensation, drift at t = 1 h, no IR drop);
(3) exact IR drop, 256 x 256, r_wire 1 ohm, r_term 1 mohm, G uniform in [1, 25] uS, batch 64, setup included.

Thread pools: BLAS (OpenBLAS) worker threads spin-wait while the pipeline's serial numba kernels run, and
on 2 shared cores that slowed the pipeline several-fold. The tile therefore limits BLAS to 1 thread inside
``mvm`` by default (``aimc_sim.crossbar.set_mvm_blas_threads``). This script times both tile policies
(1 BLAS thread, BLAS untouched) against a bare x @ W with the default BLAS threads and with 1 thread
(threadpoolctl), by wall clock and by process CPU time, as medians of interleaved runs.
``mvm_overhead`` is the default tile policy against the 1-thread bare x @ W (both on one core), from
process-CPU-time medians: on a machine shared with other jobs the scheduler pre-empts any job longer than
its time slice (a few ms at load 8 on 2 cores), which made wall-clock medians of the ~3 ms pipeline swing
between 3 and 12 ms while its CPU time stayed at 3.2-3.5 ms. Wall-clock ratios are printed as well.
``irdrop_ms_per_vector`` is the wall-clock median of the line-relaxation solver (2 numba threads), the
faster of the two BLAS settings.
``irdrop_512_ms_per_vector``: the same solve at 512 x 512 (issue 16), the default (fused line relaxation, the
isolated top eigenvalue removed, then Chebyshev-node steps, tol 1e-10); the 256 and 512 solves are timed
interleaved against the same at tol 1e-12 and plain line Gauss-Seidel, each with its sweeps and its error against a
solve to 1e-14 (``--irdrop``: only this part;
``--irdrop --direct``: with the sparse direct solve, ~40 s and 1.4 GB at 512 x 512).
``--irdrop-one n N``: only the default solver at n x n, N rounds, one line each, for alternating this tree against
another whose default differs (the previous default, block SOR, lives in older trees): ``PYTHONPATH=OTHER python
benchmarks/bench_mvm.py --irdrop-one 512 3``.
``new_t_overhead``: AnalogTile.mvm (512 x 512, batch 256, pcm-default with its global drift compensation) at a
read time never used before over the same call at a cached read time, interleaved, process-CPU medians. A new t
costs the array read (for PCM one fused pass: drifted conductances, read-noise std, channel matrices; the row sums of
G only with a ledger) and the drift-compensation identity readout at the new t (262 144 noisy conversions); the same
ratio with drift compensation off is printed for comparison.
``mvm_bytes_per_weight``: peak resident memory above the baseline (W and the warmed-up kernels) over the number
of weights, for a programmed 4096 x 4096 AnalogMatrix on pcm-default after one MVM (batch 8) at t = 1 h,
measured in a fresh subprocess (``--memory``).
``--kernels``: only the two kernels behind issue 16's read and noise costs, as interleaved process-CPU medians:
256 x 512 standard normals (ms, ns per normal) from numpy's ``Generator.standard_normal`` against
``pcg_stream.fill_rows`` (the same numbers), and the PCM drift read (``device_models._kernels.pcm_read_stats``,
512 x 1024 devices, stored Q_s) of a float64 state (libm exp) against a float32 state (vectorised exp).
``--new-t N``: only ``new_t_overhead``, N times in one process (tile and inputs as in the full run), for
alternating this tree against another: ``PYTHONPATH=OTHER python benchmarks/bench_mvm.py --new-t 2``.
``--mvm N``: only ``mvm_overhead`` (the default tile policy against the 1-thread bare x @ W, process-CPU medians),
N times in one process, for alternating this tree against another: ``PYTHONPATH=OTHER python benchmarks/bench_mvm.py
--mvm 3``.
``--loop N``: N back-to-back cached MVMs of the same tile (BLAS on 1 thread), nothing else, for a profiler:
``perf record -D 9000 -g python benchmarks/bench_mvm.py --loop 3000`` (-D skips the start-up).
``--read-paths N``: the same ratio with the array read in steps (device read, access device, channel matrices, row
sums) and with the device's fused pass (the default), interleaved in one process, N times.
Run: ``python benchmarks/bench_mvm.py``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from aimc_sim.crossbar import AnalogMatrix, AnalogTile, load_tile_config, set_mvm_blas_threads
from aimc_sim.crossbar.irdrop import IrDropSolver, sur_ir_drop


def median_s(fn: Callable[[], object], reps: int, clock: Callable[[], float] = time.perf_counter) -> float:
    ts = []
    for _ in range(reps):
        t0 = clock()
        fn()
        ts.append(clock() - t0)
    return float(np.median(ts))


def paired(f1: Callable[[], object], f2: Callable[[], object], clock: Callable[[], float]) -> tuple[float, float]:
    """Medians of f1 and f2, measured interleaved (15 rounds of 3 calls each) so that load changes hit both."""
    a, b = [], []
    for _ in range(15):
        a.append(median_s(f1, 3, clock))
        b.append(median_s(f2, 3, clock))
    return float(np.median(a)), float(np.median(b))


def memory_per_weight(n: int = 4096) -> float:
    """Peak RSS above the baseline per weight of a programmed n x n AnalogMatrix after one MVM at t = 1 h."""
    rng = np.random.default_rng(0)
    cfg = load_tile_config("pcm-default")
    W = rng.standard_normal((n, n)).astype(np.float32)
    x = rng.standard_normal((8, n)).astype(np.float32)
    AnalogMatrix(cfg, W[:64, :64], rng).mvm(x[:, :64], 3600.0)  # kernels compiled/loaded before the baseline
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    AnalogMatrix(cfg, W, rng).mvm(x, 3600.0)
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024 / W.size


IRDROP_DEFAULT = "top eigenvalue removed, Chebyshev steps (default, tol 1e-10)"
IRDROP_METHODS = {  # label: IrDropSolver keywords
    IRDROP_DEFAULT: {"over_relax": True},
    "top eigenvalue removed, Chebyshev steps, tol 1e-12": {"over_relax": True, "tol": 1e-12},
    "line Gauss-Seidel": {"over_relax": False},
}


def relaxation_ms_per_vector(
    rng: np.random.Generator, n: int, rounds: int, methods: dict[str, dict] = IRDROP_METHODS
) -> dict[str, dict[str, float]]:
    """The exact IR-drop solve of an n x n array (G uniform in [1, 25] uS, r_wire 1 ohm, r_term 1 mohm, a batch of
    64 vectors, setup included) by each of IRDROP_METHODS, interleaved over ``rounds``: medians of wall-clock and
    process-CPU ms per vector, the sweeps, and the largest error of the currents against a solve to 1e-14,
    relative to the largest current."""
    G = rng.uniform(1e-6, 25e-6, (n, n))
    V = rng.uniform(-0.2, 0.2, (64, n))
    ref = IrDropSolver(G, 1.0, 1e-3, method="iterative", tol=1e-14).solve(V)
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in methods}
    out: dict[str, dict[str, float]] = {}
    for _ in range(rounds):
        for label, kw in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            solver = IrDropSolver(G, 1.0, 1e-3, method="iterative", **kw)
            current = solver.solve(V)
            runs[label].append(((time.perf_counter() - t0) / 64 * 1e3, (time.process_time() - c0) / 64 * 1e3))
            error = float(np.abs(current - ref).max() / np.abs(ref).max())
            out[label] = {"sweeps": solver.report.sweeps, "error": error}
    for label, r in runs.items():
        out[label]["wall"], out[label]["cpu"] = (float(np.median(col)) for col in zip(*r))
    return out


def direct_solve_report(rng: np.random.Generator, n: int, batch: int) -> None:
    """The sparse direct solve (SuperLU, minimum-degree ordering) of the same kind of n x n array: factorisation
    and triangular solves of a batch timed apart (wall and process CPU), fill, error, peak memory."""
    G = rng.uniform(1e-6, 25e-6, (n, n))
    V = rng.uniform(-0.2, 0.2, (batch, n))
    t0, c0 = time.perf_counter(), time.process_time()
    solver = IrDropSolver(G, 1.0, 1e-3, method="direct")
    t1, c1 = time.perf_counter(), time.process_time()
    current = solver.solve(V)
    t2, c2 = time.perf_counter(), time.process_time()
    ref = IrDropSolver(G, 1.0, 1e-3, method="iterative", tol=1e-14).solve(V)
    error = np.abs(current - ref).max() / np.abs(ref).max()
    print(
        f"IR drop {n} x {n}, sparse direct (SuperLU): factorisation {t1 - t0:.1f} s wall ({c1 - c0:.1f} s CPU), "
        f"nnz(L + U) {solver.fill:.3g}; triangular solves {(t2 - t1) / batch * 1e3:.0f} ms/vector wall "
        f"({(c2 - c1) / batch * 1e3:.0f} CPU), batch {batch}; error {error:.1e}"
        f"; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.2f} GB"
    )


def irdrop_report(rng: np.random.Generator, direct: bool = False) -> float:
    """Print the IR-drop methods' table at 256 x 256 (5 rounds) and 512 x 512 (3 rounds), with ``direct`` the
    sparse direct solve as well (batch 64 at 256, 8 at 512: its factorisation takes ~10 s CPU and 1.4 GB there);
    return the default solver's wall-clock ms per vector at 512 x 512."""
    relax = {}
    for n, rounds in ((256, 5), (512, 3)):
        if direct:
            direct_solve_report(rng, n, 64 if n <= 256 else 8)
        relax[n] = relaxation_ms_per_vector(rng, n, rounds)
        for label, r in relax[n].items():
            print(
                f"IR drop {n} x {n}, batch 64, setup included, interleaved medians of {rounds} rounds, {label}: "
                f"{r['wall']:.2f} ms/vector wall, {r['cpu']:.2f} ms/vector process CPU, {r['sweeps']} sweeps, "
                f"error {r['error']:.1e} of the largest current"
            )
    return relax[512][IRDROP_DEFAULT]["wall"]


def new_t_ratio(tile: AnalogTile, x: np.ndarray) -> float:
    """Process-CPU median of an MVM at a new read time over one at a cached read time, interleaved."""
    state = {"t": 7200.0}

    def new() -> None:
        state["t"] += 1.0
        tile.mvm(x, t=state["t"])

    cached, fresh = paired(lambda: tile.mvm(x, t=3600.0), new, time.process_time)
    return fresh / cached


class _ReadInSteps:
    """A tile's device whose fused read (``read_pairs``) declines, so that the array read runs in steps (device
    read_stats, access device, channel_read, row sums); everything else delegated."""

    def __init__(self, device):
        self._device = device

    def read_pairs(self, *args) -> bool:
        return False

    def __getattr__(self, name: str):
        return getattr(self._device, name)


def read_path_ratios(tile: AnalogTile, x: np.ndarray, rounds: int = 15) -> dict[str, float]:
    """new_t_overhead with the array read in steps and fused (the default), in one process: per round 3 MVMs at new
    read times on each path and 3 at the cached t = 1 h, process-CPU medians over the rounds."""
    stack, fused = tile.stack, tile.stack.device
    devices = {"read in steps": _ReadInSteps(fused), "fused read (default)": fused}
    times: dict[str, list[float]] = {k: [] for k in [*devices, "cached"]}
    t = [1e5]

    def new() -> None:
        t[0] += 1.0
        tile.mvm(x, t=t[0])

    for _ in range(rounds):
        for label, device in devices.items():
            stack.device = device
            times[label].append(median_s(new, 3, time.process_time))
        stack.device = fused
        times["cached"].append(median_s(lambda: tile.mvm(x, t=3600.0), 3, time.process_time))
    cached = float(np.median(times.pop("cached")))
    return {label: float(np.median(v)) / cached for label, v in times.items()}


def kernel_times() -> None:
    """Normals (numpy against pcg_stream) and the PCM drift read (float64 state against float32), interleaved."""
    from aimc_sim.crossbar.pcg_stream import fill_rows, stream_source
    from device_models import _kernels as dk
    from device_models import load_preset

    rng = np.random.default_rng(0)
    z, u = np.empty((256, 512)), np.empty((256, 0))
    state = stream_source(rng)
    model = load_preset("pcm")
    st = model.program(rng.uniform(0, model.g_max, (512, 1024)), rng)
    g32, nu32 = st.g0.astype(np.float32), st.per_device["nu"].astype(np.float32)
    g64, nu64 = g32.astype(np.float64), nu32.astype(np.float64)
    q = dk.pcm_read_q(g32, model.config)
    clock = time.process_time
    numpy_ms, stream_ms = paired(lambda: rng.standard_normal(out=z), lambda: fill_rows(state, z, u), clock)
    per = 1e9 / z.size
    print(
        f"256 x 512 normals: numpy {numpy_ms * 1e3:.3f} ms ({numpy_ms * per:.2f} ns per normal), pcg_stream.fill_rows "
        f"{stream_ms * 1e3:.3f} ms ({stream_ms * per:.2f} ns per normal)"
    )
    libm, vec = paired(
        lambda: dk.pcm_read_stats(g64, nu64, 3600.0, model.config, q),
        lambda: dk.pcm_read_stats(g32, nu32, 3600.0, model.config, q),
        clock,
    )
    print(
        f"PCM drift read, 512 x 1024 devices: float64 state (libm exp) {libm * 1e3:.3f} ms, float32 state "
        f"(vectorised exp) {vec * 1e3:.3f} ms"
    )


def main() -> None:
    if "--memory" in sys.argv:
        print(f"{memory_per_weight():.3f}")
        return
    if "--kernels" in sys.argv:
        kernel_times()
        return
    if "--irdrop" in sys.argv:
        irdrop_report(np.random.default_rng(0), direct="--direct" in sys.argv)
        return
    if "--irdrop-one" in sys.argv:
        at = sys.argv.index("--irdrop-one")
        n, rounds = int(sys.argv[at + 1]), int(sys.argv[at + 2])
        default = {IRDROP_DEFAULT: IRDROP_METHODS[IRDROP_DEFAULT]}
        for _ in range(rounds):
            r = relaxation_ms_per_vector(np.random.default_rng(0), n, 1, default)[IRDROP_DEFAULT]
            print(
                f"irdrop {n} x {n}: {r['wall']:.2f} ms/vector wall, {r['cpu']:.2f} CPU, {r['sweeps']} sweeps, "
                f"error {r['error']:.1e}"
            )
        return
    rng = np.random.default_rng(0)
    W = rng.standard_normal((512, 512)).astype(np.float32)
    x = rng.standard_normal((256, 512)).astype(np.float32)
    tile = AnalogTile(load_tile_config("pcm-default"), W, rng)
    tile.mvm(x, t=3600.0)  # compile/load kernels, drift-compensation readouts at t = 1 h
    if "--new-t" in sys.argv:
        for _ in range(int(sys.argv[sys.argv.index("--new-t") + 1])):
            print(f"new_t_overhead={new_t_ratio(tile, x):.3f}")
        return
    if "--loop" in sys.argv:  # for a profiler: N back-to-back cached MVMs, nothing else
        n = int(sys.argv[sys.argv.index("--loop") + 1])
        with threadpool_limits(1, user_api="blas"):
            t0 = time.process_time()
            for _ in range(n):
                tile.mvm(x, t=3600.0)
        print(f"{(time.process_time() - t0) / n * 1e3:.3f} ms process CPU per MVM")
        return
    if "--mvm" in sys.argv:
        for _ in range(int(sys.argv[sys.argv.index("--mvm") + 1])):
            with threadpool_limits(1, user_api="blas"):
                bare, pipe = paired(lambda: x @ W, lambda: tile.mvm(x, t=3600.0), time.process_time)
            print(f"mvm_overhead={pipe / bare:.3f} (bare {bare * 1e3:.3f} ms, mvm {pipe * 1e3:.3f} ms)")
        return
    if "--read-paths" in sys.argv:
        for _ in range(int(sys.argv[sys.argv.index("--read-paths") + 1])):
            print(", ".join(f"{k}: {v:.3f}" for k, v in read_path_ratios(tile, x).items()))
        return

    G = rng.uniform(1e-6, 25e-6, (256, 256))
    V = rng.uniform(-0.2, 0.2, (64, 256))

    def irdrop(method: str) -> np.ndarray:
        return IrDropSolver(G, 1.0, 1e-3, method=method).solve(V)

    irdrop("iterative")
    blas = [f"{p['internal_api']}:{p['num_threads']}" for p in threadpool_info()]
    print(f"thread pools: {', '.join(blas)}")
    res: dict[str, dict[str, float]] = {}
    for label, policy in (("tile BLAS 1 thread (default)", 1), ("tile BLAS untouched", None)):
        set_mvm_blas_threads(policy)
        for blas_label, limit in (("x@W BLAS default", None), ("x@W BLAS 1 thread", 1)):
            with threadpool_limits(limit, user_api="blas"):
                r = {}
                r["bare"], r["pipe"] = paired(lambda: x @ W, lambda: tile.mvm(x, t=3600.0), time.perf_counter)
                r["bare_cpu"], r["pipe_cpu"] = paired(lambda: x @ W, lambda: tile.mvm(x, t=3600.0), time.process_time)
            res[f"{label} | {blas_label}"] = r
            print(
                f"[{label} | {blas_label}] wall: bare {r['bare'] * 1e3:.3f} ms, AnalogTile.mvm "
                f"{r['pipe'] * 1e3:.3f} ms, ratio {r['pipe'] / r['bare']:.2f} | process CPU: bare "
                f"{r['bare_cpu'] * 1e3:.3f} ms, mvm {r['pipe_cpu'] * 1e3:.3f} ms, ratio "
                f"{r['pipe_cpu'] / r['bare_cpu']:.2f}"
            )
    set_mvm_blas_threads(1)
    ir = {}
    for blas_label, limit in (("BLAS default", None), ("BLAS 1 thread", 1)):
        with threadpool_limits(limit, user_api="blas"):
            ir[blas_label] = median_s(lambda: irdrop("iterative"), 5) / 64
        print(
            f"IR drop, line relaxation (2 numba threads, setup included, wall) [{blas_label}]: "
            f"{ir[blas_label] * 1e3:.2f} ms/vector"
        )
    ir512 = irdrop_report(rng) / 1e3
    new_t = new_t_ratio(tile, x)
    quiet = AnalogTile(load_tile_config("pcm-default", drift_compensation={"mode": "none"}), W, rng)
    quiet.mvm(x, t=3600.0)
    print(f"new read time: {new_t:.2f} x a cached one (drift compensation off: {new_t_ratio(quiet, x):.2f} x)")
    out = subprocess.run([sys.executable, __file__, "--memory"], capture_output=True, text=True, check=True)
    bytes_per_weight = float(out.stdout.strip().splitlines()[-1])
    print(f"4096 x 4096 AnalogMatrix, pcm-default, after one MVM at t = 1 h: {bytes_per_weight:.1f} bytes/weight")
    t_direct = median_s(lambda: irdrop("direct"), 1) / 64
    print(f"IR drop, sparse LU (SuperLU, setup included, wall): {t_direct * 1e3:.2f} ms/vector")
    t_sur = median_s(lambda: sur_ir_drop(G, V[:8], 1.0, 1e-3), 1) / 8
    print(f"IR drop, CrossSim-style SUR loop (numpy, v_tol 1e-3, 8 vectors, wall): {t_sur * 1e3:.2f} ms/vector")
    one = res["tile BLAS 1 thread (default) | x@W BLAS 1 thread"]
    two = res["tile BLAS 1 thread (default) | x@W BLAS default"]
    print(
        "chosen: the tile's default policy (BLAS on 1 thread in the MVM path) against a 1-thread bare x@W, "
        f"process-CPU medians (wall-clock ratio {one['pipe'] / one['bare']:.2f}; wall-clock ratio against the "
        f"default-thread bare x@W {two['pipe'] / two['bare']:.2f})"
    )
    print(f"irdrop_ms_per_vector={min(ir.values()) * 1e3:.3f}")
    print(f"irdrop_512_ms_per_vector={ir512 * 1e3:.3f}")
    print(f"new_t_overhead={new_t:.3f}")
    print(f"mvm_bytes_per_weight={bytes_per_weight:.3f}")
    print(f"mvm_overhead={one['pipe_cpu'] / one['bare_cpu']:.3f}")


if __name__ == "__main__":
    main()
