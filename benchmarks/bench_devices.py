"""Device-model speed: PCM program + read of 1e6 devices against the random draws it cannot avoid.

(a) program 10^6 PCM devices (preset ``pcm``) and read them at t = 1 h;
(b) ``rng.standard_normal(3_000_000)``: the three normal draws per device that (a) needs
    (programming noise, drift exponent, read noise).
Also times the plain-numpy equations (the kernels' reference) for comparison.
Prints medians and, as the last line, ``device_overhead=<a/b>`` (target <= 4).
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from device_models import load_preset
from device_models import pcm as P

N = 1_000_000
REPEATS = 9


def program_and_read(model, g, rng):
    state = model.program(g, rng)
    return model.conductance(state, 3600.0, rng)


def numpy_reference(cfg, g, rng):
    xi = rng.standard_normal((2, g.size))
    gp = np.maximum(0.0, g + P.programming_sigma(g, cfg) * xi[0])
    mu, sd = P.drift_exponent_stats(g, cfg)
    nu = np.abs(mu + sd * xi[1])
    gd = gp * P.drift_factor(nu, 3600.0, cfg)
    return np.maximum(0.0, gd + np.abs(gd) * P.read_noise_sigma(gp, 3600.0, cfg) * rng.standard_normal(g.size))


def main() -> None:
    model = load_preset("pcm")
    rng = np.random.default_rng(0)
    g = rng.uniform(0.0, model.g_max, N)
    program_and_read(model, g[:10], rng)  # compile / load the numba cache
    t_a, t_b, t_np = [], [], []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        program_and_read(model, g, rng)
        t1 = time.perf_counter()
        rng.standard_normal(3_000_000)
        t2 = time.perf_counter()
        numpy_reference(model.config, g, rng)
        t3 = time.perf_counter()
        t_a.append(t1 - t0)
        t_b.append(t2 - t1)
        t_np.append(t3 - t2)
    a, b, ref = statistics.median(t_a), statistics.median(t_b), statistics.median(t_np)
    print(f"(a) program + read 1e6 PCM devices (numba kernels): median {a * 1e3:.1f} ms")
    print(f"(b) rng.standard_normal(3_000_000):                 median {b * 1e3:.1f} ms")
    print(f"    same physics in plain numpy (reference):        median {ref * 1e3:.1f} ms  ({ref / b:.2f} x (b))")
    print(f"device_overhead={a / b:.2f}")


if __name__ == "__main__":
    main()
