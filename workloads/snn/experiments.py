"""The shipped SNN and the experiments of issue 7: float vs hardware accuracy, dt adaptation, delay costs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from workloads.snn.data import spike_digits
from workloads.snn.model import SNNModel

MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
SHIPPED = {
    # name: (file, dt [s], NIR time unit [s], reset mode used in training)
    "snn_digits": ("snn_digits.nir", 1e-3, 1e-3, "to_value"),
}


def load_shipped(name: str = "snn_digits") -> SNNModel:
    """The shipped trained SNN (``workloads/models/<name>.nir``) with the conventions it was trained with."""
    from aimc_sim.errors import ConfigError

    if name not in SHIPPED:
        raise ConfigError("model", f"must be one of {', '.join(SHIPPED)}, got {name!r}")
    file, dt, unit, reset = SHIPPED[name]
    return SNNModel.from_nir(MODELS_DIR / file, dt=dt, time_unit=unit, reset_mode=reset)


def accuracy(model: SNNModel, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of the float model on time-major spikes ``x``."""
    return float(np.mean(model.predict(x) == y))


def dt_adaptation(model: SNNModel, ratio: int = 2, seed: int = 0, n_test: int | None = None) -> dict[str, Any]:
    """Accuracy at the training dt and at dt/ratio (same spike events, finer bins) for each adaptation method."""
    coarse = spike_digits(seed=seed, n_train=1, n_test=n_test)
    fine = spike_digits(seed=seed, n_train=1, n_test=n_test, resolution=ratio)
    out: dict[str, Any] = {
        "dt_s": model.dt,
        "new_dt_s": model.dt / ratio,
        "float_at_dt": accuracy(model, coarse.x_test, coarse.y_test),
    }
    for method, sem in (("mapping", "impulse"), ("mapping", "zoh"), ("tau_scaling", "impulse"), ("naive", "impulse")):
        key = method if method != "mapping" else f"mapping_{sem}"
        adapted = model.at_dt(model.dt / ratio, method, sem)
        out[key] = accuracy(adapted, fine.x_test, fine.y_test)
    return out


def delay_cost_table(n_pre: int, n_post: int, d_max_values: tuple[int, ...], current_bits: int = 16) -> list[dict]:
    """Buffer memory of one layer for each delay kind and maximum delay (docs/snn.md#delay-buffers),
    all delays at D_max."""
    from workloads.snn.delays import buffer_cost

    rows = []
    for d_max in d_max_values:
        for kind, shape in (("axonal", (n_pre,)), ("dendritic", (n_post,)), ("synaptic", (n_pre, n_post))):
            c = buffer_cost(kind, n_pre, n_post, np.full(shape, d_max), current_bits)
            rows.append({"kind": kind, "d_max": d_max, **c})
    return rows


def hardware_accuracy(model: SNNModel, tiles: tuple[str, ...], seeds: tuple[int, ...], n_test: int | None = None):
    """Per tile preset: the hardware :class:`Result` for each seed (programming noise drawn per seed)."""
    from workloads.snn.hardware import HardwareSNN

    d = spike_digits(n_train=1, n_test=n_test)
    return {tile: [HardwareSNN(model, {"tile": tile}).evaluate(d, seed=s) for s in seeds] for tile in tiles}


def main() -> None:
    """Print the issue-7 report for the shipped model: float/hardware accuracy, dt adaptation, delay costs."""
    import argparse

    p = argparse.ArgumentParser(description="Issue-7 SNN report on the shipped model")
    p.add_argument("--seeds", type=int, default=3)
    args = p.parse_args()
    model = load_shipped()
    d = spike_digits(n_train=1)
    print(f"float accuracy (dt = {model.dt * 1e3:g} ms): {accuracy(model, d.x_test, d.y_test):.4f}")
    for tile, results in hardware_accuracy(model, ("pcm-default", "rram-default"), tuple(range(args.seeds))).items():
        acc = [r.accuracy for r in results]
        sd = np.std(acc, ddof=1) if len(acc) > 1 else 0.0
        r0 = results[0]
        spikes, sparsity = r0.extra["spikes_per_sample.layer0"], r0.extra["sparsity.layer0"]
        print(
            f"{tile}: accuracy {np.mean(acc):.4f} +- {sd:.4f} over seeds {acc}; "
            f"energy {r0.energy_j * 1e9:.2f} nJ, latency {r0.latency_s * 1e6:.1f} us per inference (seed 0); "
            f"spikes/sample layer0 {spikes:.1f}, sparsity {sparsity:.4f}"
        )
        comp = ", ".join(f"{k} {v * 1e9:.2f}" for k, v in sorted(r0.energy_per_component_j.items()))
        print(f"  energy per component (nJ): {comp}")
    r = dt_adaptation(model)
    print(
        f"dt/2: float@dt {r['float_at_dt']:.4f}; mapping (impulse) {r['mapping_impulse']:.4f}, "
        f"mapping (zoh) {r['mapping_zoh']:.4f}, tau scaling {r['tau_scaling']:.4f}, naive {r['naive']:.4f}"
    )
    for i, lay in enumerate(model.layers):
        c = lay.buffer_cost()
        if c is not None:
            print(
                f"layer{i} {lay.delay_kind} delays {lay.shape}: D = {c['max_delay_steps']}, history "
                f"{c['history_bits']:.0f} b, indices {c['index_bits']:.0f} b, {c['reads_per_step']:.0f} reads/step"
            )
    n_pre, n_post = model.layers[0].shape[1], model.layers[0].shape[1]
    print(f"delay buffers of a {n_pre}x{n_post} layer vs maximum delay (history + index bits, reads per step):")
    for row in delay_cost_table(n_pre, n_post, (4, 8, 16, 32)):
        print(
            f"  {row['kind']:<9} D={row['d_max']:<3} history {row['history_bits']:>9.0f} b  "
            f"index {row['index_bits']:>9.0f} b  total {row['total_bits']:>9.0f} b  "
            f"reads/step {row['reads_per_step']:.0f}"
        )


if __name__ == "__main__":
    main()
