"""Bit-for-bit regression of the crossbar pipeline against another tree (issue 16).

``PYTHONPATH=<tree> python benchmarks/crossbar_regression.py capture OUT.npz [--state-dtype float64]`` records
the outputs (``mvm`` on two batches after ADC calibration where needed, ``weights_at``, ``run_feedback``) of 17 tile
configurations on ``AnalogMatrix`` at three read times and 5 on ``BlockDiagonalMatrix`` at two;
``python benchmarks/crossbar_regression.py compare A.npz B.npz`` prints every array that differs and, last,
``identical=<n>/<total>``. Run ``capture`` under the old tree (``git archive <rev> | tar -x -C DIR``) and the
new one, then ``compare``. ``--state-dtype`` is passed only to trees that know the field.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar import AnalogMatrix, load_tile_config
from aimc_sim.crossbar.blockdiag import BlockDiagonalMatrix


def capture(state_dtype: str | None) -> dict[str, np.ndarray]:
    """Outputs of every case (keys: case/t/what)."""
    extra = {} if state_dtype is None else {"state_dtype": state_dtype}
    out = {}
    rng0 = np.random.default_rng(1)
    W = rng0.uniform(-1, 1, (40, 24))
    X = rng0.uniform(-1, 1, (16, 40))
    Wb = rng0.uniform(-1, 1, (13, 6, 5))
    Xb = rng0.uniform(-1, 1, (7, 13, 6))
    Ub = rng0.uniform(-1, 1, (5, 3, 13, 3))

    CASES = {
        "pcm": ("pcm-default", {}),
        "pcm_small": ("pcm-default", {"rows": 16, "cols": 20}),
        "rram": ("rram-default", {}),
        "ideal_out": ("ideal", {"noise": {"out_noise": 0.05, "w_noise": 0.01}}),
        "pcm_percol": ("pcm-default", {"drift_compensation": {"mode": "per_column"}, "adc": {"range": "per_column"}}),
        "pcm_cal": (
            "pcm-default",
            {"adc": {"range": "calibrated", "gain_std": 0.02, "offset_std": 0.01, "cap_mismatch": 0.01}},
        ),
        "pcm_max": ("pcm-default", {"adc": {"range": "max"}, "management": {"noise": "average_abs_max"}}),
        "pcm_bs": ("pcm-default", {"dac": {"bit_serial": True, "bits": 4}}),
        "pcm_sr": ("pcm-default", {"dac": {"stochastic_rounding": True}}),
        "pcm_bm": ("pcm-default", {"management": {"bound": "iterative"}, "adc": {"bound": 2.0}}),
        "pcm_off": ("pcm-default", {"mapping": {"scheme": "offset", "reference": "column"}}),
        "pcm_dig": ("pcm-default", {"mapping": {"subtract": "digital", "slices": 2}}),
        "pcm_sym": ("pcm-default", {"mapping": {"variant": "symmetric"}, "access_resistance": 15e3}),
        "pcm_const": ("pcm-default", {"management": {"noise": "constant", "constant_scale": 1.5}}),
        "pcm_pwm": ("pcm-default", {"dac": {"encoding": "pwm", "signed": False}}),
        "ir_exact": ("pcm-default", {"ir_drop": {"mode": "exact"}, "rows": 48, "cols": 64}),
        "ir_approx": ("pcm-default", {"ir_drop": {"mode": "approx", "approx_limit": 100.0}}),
    }
    for key, (preset, ov) in CASES.items():
        cfg = load_tile_config(preset, **ov, **extra)
        for t in (0.0, 3600.0, 86400.0):
            led = Ledger()
            M = AnalogMatrix(cfg, W, np.random.default_rng(5), ledger=led, name="L")
            xin = np.abs(X) if cfg.dac.encoding == "pwm" else X
            if cfg.adc.range in ("calibrated", "per_column"):
                M.calibrate_adc(xin, t)
            out[f"{key}/{t}/y1"] = M.mvm(xin, t)
            out[f"{key}/{t}/y2"] = M.mvm(xin[:3], t)
            out[f"{key}/{t}/w"] = M.weights_at(t)

    BD = {
        "bd_pcm": ("pcm-default", {"rows": 20, "cols": 24}),
        "bd_rram": ("rram-default", {"rows": 20, "cols": 24, "noise": {"out_noise": 0.02}}),
        "bd_cal": (
            "pcm-default",
            {
                "rows": 20,
                "cols": 24,
                "adc": {"range": "per_column", "gain_std": 0.02, "cap_mismatch": 0.01},
                "drift_compensation": {"mode": "per_column"},
            },
        ),
        "bd_avg": (
            "pcm-default",
            {"rows": 20, "cols": 24, "management": {"noise": "average_abs_max"}, "adc": {"range": "max"}},
        ),
        "bd_ideal": ("ideal", {"rows": 20, "cols": 24, "noise": {"out_noise": 0.05, "w_noise": 0.01}}),
    }
    for key, (preset, ov) in BD.items():
        cfg = load_tile_config(preset, **ov, **extra)
        for t in (0.0, 3600.0):
            M = BlockDiagonalMatrix(cfg, Wb, np.random.default_rng(6), ledger=Ledger(), name="B")
            if cfg.adc.range in ("calibrated", "per_column"):
                M.calibrate_adc(Xb, t)
            out[f"{key}/{t}/y1"] = M.mvm(Xb, t)
            out[f"{key}/{t}/w"] = M.weights_at(t)
            out[f"{key}/{t}/fb"] = M.run_feedback(Ub, 3, t)

    return out


def compare(a_path: str, b_path: str) -> None:
    a, b = np.load(a_path), np.load(b_path)
    same = 0
    for k in a.files:
        x, y = a[k], b[k]
        if x.shape == y.shape and np.array_equal(x, y):
            same += 1
            continue
        d = np.abs(x.astype(float) - y.astype(float)) if x.shape == y.shape else None
        print(
            f"differs: {k} "
            + (f"shape {x.shape} vs {y.shape}" if d is None else f"max {d.max():.3g}, {int((d > 0).sum())}/{d.size}")
        )
    print(f"identical={same}/{len(a.files)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("capture")
    c.add_argument("out")
    c.add_argument("--state-dtype", default=None)
    p = sub.add_parser("compare")
    p.add_argument("a")
    p.add_argument("b")
    args = ap.parse_args()
    if args.cmd == "capture":
        warnings.simplefilter("ignore")
        np.savez(args.out, **capture(args.state_dtype))
    else:
        compare(args.a, args.b)


if __name__ == "__main__":
    main()
