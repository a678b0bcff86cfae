"""The sequence tasks of the seed papers on simulated hardware: S4D, GSU and the gated linear recurrence (GLR,
selective and with fixed forgetting) trained on the grammar task and on MQAR, evaluated in float, on analog tiles
and after hardware-aware training (HWA). Run::

    python -m workloads.sequence_tasks -o DIR

For each task and architecture it trains a float model (``workloads.training.s4d_train`` / ``glr_train``, one
core), fine-tunes it with HWA on ``--tile`` (read times log-uniform in [0, 1 day]), and evaluates both on the
tiles at ``--t`` over ``--seeds`` programming seeds. Projections are on tiles, the recurrence digital (FP32) for
every architecture; S4D and GSU are also run with the recurrence on tiles. Checkpoints already in DIR/ckpt are
reused. Writes DIR/data/*.npz, DIR/ckpt/*.safetensors, DIR/results.json and DIR/table.md (also printed).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from workloads.data import load_dataset, make_grammar_task, make_mqar

TASKS = {
    "grammar": lambda: make_grammar_task(
        n_grammars=8, n_symbols=8, branching=3, seq_len=32, p_gap=0.2, p_distractor=0.2, n_train=3000, seed=0
    ),
    "mqar": lambda: make_mqar(n_keys=8, n_values=8, n_pairs=4, n_queries=4, seq_len=24, n_train=4000, seed=0),
}
"""Task name -> data set (harder than the builders' defaults, so float accuracy is below the ceiling)."""

ARCHS = {
    "s4d": ("s4d_train", ["--variant", "s4d", "--d-model", "32", "--d-state", "16"]),
    "gsu": ("s4d_train", ["--variant", "gsu", "--d-model", "32", "--d-state", "16"]),
    "glr": ("glr_train", ["--d-model", "32"]),
    "glr-fixed": ("glr_train", ["--d-model", "32", "--no-selective"]),
}
"""Architecture -> (training module, its options)."""

EPOCHS = {"grammar": (4, 2), "mqar": (6, 2)}
"""Task -> (float epochs, HWA fine-tuning epochs)."""


def write_task(name: str, path: Path) -> Path:
    d = TASKS[name]()
    np.savez(path, x_train=d.x_train, y_train=d.y_train, x_test=d.x_test, y_test=d.y_test, kind="sequences")
    return path


def train(arch: str, data: Path, out: Path, epochs: int, extra: list[str], seed: int) -> list[str]:
    """Train (unless ``out`` exists); returns the command line."""
    module, opts = ARCHS[arch]
    argv = ["--dataset", str(data), "--out", str(out), "--epochs", str(epochs), "--seed", str(seed), *opts, *extra]
    if module == "s4d_train":
        argv += ["--log-every", "1"]
    cmd = f"python -m workloads.training.{module} " + " ".join(argv)
    if not out.exists():
        print(f"$ {cmd}", flush=True)
        mod = __import__(f"workloads.training.{module}", fromlist=["main"])
        mod.main(argv)
    return cmd


def load_model(arch: str, path: Path) -> Any:
    if arch.startswith("glr"):
        from workloads.glr import GLRModel

        return GLRModel.load(path)
    from workloads.s4d.model import S4DModel

    return S4DModel.load(path)


def fast_forgetting(model: Any, x: np.ndarray) -> float:
    """Fraction of per-step decay factors below 0.5 (GLR: the gates a_t on ``x``; S4D / GSU: |Abar| of every
    mode), i.e. how much of the state is forgotten within one or two steps."""
    if hasattr(model, "layers"):
        return float(np.mean(np.concatenate([np.abs(lay.dA).ravel() for lay in model.layers]) < 0.5))
    gates: list[np.ndarray] = []
    from workloads.glr.model import float_linear, gated_scan

    def rec(i: int, a: np.ndarray, z: np.ndarray) -> np.ndarray:
        gates.append(a.ravel())
        return gated_scan(a, z)

    model.run(model.check_input(x), float_linear, rec)
    return float(np.mean(np.concatenate(gates) < 0.5))


def on_tiles(model: Any, arch: str, data: Any, hw: dict[str, Any], seeds: int) -> dict[str, Any]:
    if arch.startswith("glr"):
        hw = {k: v for k, v in hw.items() if k != "recurrence"}
    accs = [model.on(hw).evaluate(data, seed=s).accuracy for s in range(seeds)]
    return {"accs": accs, "mean": float(np.mean(accs)), "sem": float(np.std(accs, ddof=1) / math.sqrt(len(accs)))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", required=True, help="output directory")
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--archs", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    ap.add_argument("--tile", default="pcm-default")
    ap.add_argument("--t", type=float, default=3600.0, help="read time after programming (s)")
    ap.add_argument("--seeds", type=int, default=3, help="programming seeds (>= 2)")
    ap.add_argument("--train-seed", type=int, default=0)
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    out = Path(args.out)
    for sub in ("data", "ckpt"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    for task in args.tasks:
        data_path = out / "data" / f"{task}.npz"
        if not data_path.exists():
            write_task(task, data_path)
        data = load_dataset(data_path)
        n_float, n_hwa = EPOCHS[task]
        for arch in args.archs:
            t0 = time.time()
            ck_float = out / "ckpt" / f"{arch}_{task}_float.safetensors"
            ck_hwa = out / "ckpt" / f"{arch}_{task}_hwa.safetensors"
            ck_ft = out / "ckpt" / f"{arch}_{task}_ft.safetensors"  # the control: the same fine-tuning in float
            cmd_float = train(arch, data_path, ck_float, n_float, [], args.train_seed)
            lr = ["--lr", "0.002" if arch in ("s4d", "gsu") else "0.001"]
            tune = ["--init-from", str(ck_float), *lr]
            hwa_only = ["--hwa-tile", args.tile, "--hwa-t", "0", "86400"]
            if arch in ("s4d", "gsu"):
                hwa_only += ["--hwa-recurrence", "digital"]
            cmd_hwa = train(arch, data_path, ck_hwa, n_hwa, tune + hwa_only, args.train_seed)
            cmd_ft = train(arch, data_path, ck_ft, n_hwa, tune, args.train_seed)
            row: dict[str, Any] = {"task": task, "arch": arch, "train_float": cmd_float, "train_hwa": cmd_hwa}
            row["train_ft"] = cmd_ft
            hw = {"tile": args.tile, "t": args.t, "recurrence": "digital"}
            for kind, ck in (("float", ck_float), ("ft", ck_ft), ("hwa", ck_hwa)):
                model = load_model(arch, ck)
                row[f"{kind}_trained.float"] = model.evaluate(data)
                row[f"{kind}_trained.hw"] = on_tiles(model, arch, data, hw, args.seeds)
                if arch in ("s4d", "gsu") and kind != "ft":
                    row[f"{kind}_trained.hw_analog_rec"] = on_tiles(
                        model, arch, data, hw | {"recurrence": "analog"}, args.seeds
                    )
                row[f"{kind}_trained.fast_forgetting"] = fast_forgetting(model, data.x_test)
            row["seconds"] = time.time() - t0
            rows.append(row)
            print(json.dumps(row, default=float), flush=True)
    meta = {"command": "python -m workloads.sequence_tasks " + " ".join(sys.argv[1:] if argv is None else argv)}
    meta |= {"tile": args.tile, "t": args.t, "seeds": args.seeds}
    (out / "results.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1, default=float))
    table = format_table(rows, meta)
    (out / "table.md").write_text(table)
    print(table)
    return 0


def _ms(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "n/a"
    return f"{100 * entry['mean']:.1f} ± {100 * entry['sem']:.1f}"


def format_table(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    """Markdown table: accuracy (%) per task and architecture, float / on tiles / HWA on tiles."""
    t_h = meta["t"] / 3600
    head = (
        f"| task | arch | float | tiles, t = {t_h:g} h | float ft: float | float ft: tiles | HWA: float | HWA: tiles "
        "| tiles, analog rec. | HWA: tiles, analog rec. | decay < 0.5 |\n" + "|---" * 11 + "|\n"
    )
    lines = []
    for r in rows:
        cells = [
            r["task"],
            r["arch"],
            f"{100 * r['float_trained.float']:.1f}",
            _ms(r["float_trained.hw"]),
            f"{100 * r['ft_trained.float']:.1f}",
            _ms(r["ft_trained.hw"]),
            f"{100 * r['hwa_trained.float']:.1f}",
            _ms(r["hwa_trained.hw"]),
            _ms(r.get("float_trained.hw_analog_rec")),
            _ms(r.get("hwa_trained.hw_analog_rec")),
            f"{r['float_trained.fast_forgetting']:.2f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return head + "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
