"""Bring your own network, two more walkthroughs of ``docs/byo.md``: a conv SNN exported by snnTorch through
NIR, and an S4D checkpoint written by the state-spaces reference code. Every number of those sections:

    python -m workloads.network.byo_walkthroughs snn -o aimc-out/byo-snn [--seeds 3] [--n-test 360]
    python -m workloads.network.byo_walkthroughs s4d -o aimc-out/byo-s4d [--seeds 3] [--n-test 397]

``snn``: imports ``workloads/examples/snntorch_conv_digits/conv_snn.nir`` (trained and exported by snnTorch,
``train_snntorch.py`` there) with ``convention="snntorch"``, compares the float accuracy and output spike count
with snnTorch's own simulation (``snntorch_result.json``), then runs ``aimc report`` on ``pcm-default`` at
each read time on the shipped test rasters.

``s4d``: loads ``tests/data/s4d_reference/s4d_reference.pt`` (and ``.safetensors``) with ``workloads.load``,
compares its float logits with the reference code's, writes the digits as pixel sequences
(``DIR/digits_pixel.npz``: train = the samples it trained on, test = the held-out rest) and runs
``aimc report`` on ``pcm-default`` at each read time.

Each writes ``DIR/<name>.md`` (the tables) and one ``aimc report`` folder per read time.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SNN_DIR = ROOT / "workloads" / "examples" / "snntorch_conv_digits"
S4D_DIR = ROOT / "tests" / "data" / "s4d_reference"
TIMES = {"1 s": 1.0, "1 h": 3600.0, "1 day": 86400.0, "1 year": 3.156e7}
# The reference fixture trained on samples 0..1399 of scikit-learn's digits (make_fixture.py); the rest is held out.
S4D_TRAIN_END = 1400


def _rel(path: Path) -> str:
    """``path`` relative to the repository root when it is inside it (for the printed commands)."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def report_rows(
    model: Path, options: list[str], data: Path, out: Path, seeds: int, n_test: int, times: dict, extra: str = ""
) -> list[str]:
    """``aimc report`` on pcm-default at each read time; one Markdown table row per time (mean ± std).
    ``extra``: more hardware YAML fields (``key: value``), named in the file and the folder."""
    from aimc_sim.cli import main as aimc
    from aimc_sim.errors import DataError
    from aimc_sim.sweep import load_results

    rows = []
    for label, t in times.items():
        tag = f"_{extra.split(': ')[-1]}" if extra else ""
        hw = out / f"pcm_{t:g}s{tag}.yaml"
        hw.write_text(f"tile: pcm-default\nt: {t}\n" + (f"{extra}\n" if extra else ""))
        folder = out / f"report_{t:g}s{tag}"
        argv = [
            "report", _rel(model), *(a for o in options for a in ("--model-option", o)),
            "--data", _rel(data), "--hardware", _rel(hw), "-o", _rel(folder),
            "--n-test", str(n_test), "--seeds", str(seeds), "--workers", "1", "--no-progress",
        ]  # fmt: skip
        print("aimc " + " ".join(argv))
        if aimc(argv) != 0:
            raise DataError(str(folder), "aimc report failed (its error is printed above)")
        r = load_results(folder / "results.h5").rows()
        acc = np.array([x["accuracy"] for x in r]) * 100
        e = np.mean([x["energy_j"] for x in r]) * 1e9
        lat = np.mean([x["latency_s"] for x in r]) * 1e6
        tile = f"pcm-default, {extra}" if extra else "pcm-default"
        spikes = [sum(v for k, v in x.items() if k.startswith("extra.spikes_per_sample.")) for x in r]
        cells = f"{acc.mean():.2f} ± {acc.std():.2f} | {e:.2f} | {lat:.2f}"
        rows.append(f"| {tile} | {label} | {cells} |" + (f" {np.mean(spikes):.0f} |" if any(spikes) else ""))
    return rows


HEADER = [
    "| tile | time after programming | accuracy (%) mean ± std over seeds | energy / sample (nJ) "
    "| latency / sample (µs) |",
    "|---|---|---|---|---|",
]


def snn(out: Path, seeds: int, n_test: int, times: dict[str, float]) -> str:
    """The snnTorch conv SNN: float import against snnTorch, then ``aimc report`` per read time."""
    import workloads

    nir_file, data_file = SNN_DIR / "conv_snn.nir", SNN_DIR / "spikes_test.npz"
    ref = json.loads((SNN_DIR / "snntorch_result.json").read_text())
    model = workloads.load(nir_file, convention="snntorch")
    d = np.load(data_file)
    run = model.run(d["x"].transpose(1, 0, 2).astype(np.float64))  # (N, T, D) -> time-major (T, N, D)
    acc = float(np.mean(run.logits.argmax(axis=1) == d["y"]))
    lines = [
        f"snnTorch ({ref['versions']}): test accuracy {ref['accuracy'] * 100:.2f} % on {ref['n_test']}, "
        f"{ref['output_spikes']:.0f} output spikes",
        f"workloads.load(convention='snntorch'): {len(model.layers)} layers, float accuracy {acc * 100:.2f} %, "
        f"{run.readout.sum():.0f} output spikes",
        "",
        HEADER[0] + " spikes / sample (all layers) |",
        HEADER[1] + "---|",
        *report_rows(nir_file, ["convention=snntorch"], data_file, out, seeds, n_test, times),
    ]
    return "\n".join(lines)


def s4d(out: Path, seeds: int, n_test: int, times: dict[str, float]) -> str:
    """The reference-code S4D: float logits against the reference, then ``aimc report`` per read time."""
    from sklearn.datasets import load_digits

    import workloads

    d = np.load(S4D_DIR / "s4d_reference.npz")
    lines = []
    for suffix in (".pt", ".safetensors"):
        model = workloads.load(S4D_DIR / f"s4d_reference{suffix}")
        logits = model.forward(d["x"])
        err = float(np.abs(logits - d["logits32"]).max() / np.abs(d["logits32"]).max())
        agree = float(np.mean(logits.argmax(1) == d["logits32"].argmax(1)))
        lines.append(
            f"workloads.load('s4d_reference{suffix}'): max relative deviation from the reference logits "
            f"{err:.1e} (float32, {len(d['y'])} digits), same class on {agree * 100:.0f} %"
        )
    digits = load_digits()
    x = (digits.images.reshape(-1, 64, 1) / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    cut = S4D_TRAIN_END
    data = out / "digits_pixel.npz"  # train: what the reference run trained on (ADC calibration); test: the rest
    np.savez(data, x_train=x[:cut], y_train=y[:cut], x_test=x[cut:], y_test=y[cut:])
    x, y = x[cut:], y[cut:]
    n = min(n_test, len(y))
    float_acc = float(np.mean(model.forward(x[:n]).argmax(1) == y[:n]))
    lines += [
        f"held-out digits {cut}..{cut + len(y) - 1} as pixel sequences (N, 64, 1): "
        f"float accuracy {float_acc * 100:.2f} % on {n}",
        "",
        *HEADER,
        *(
            row
            for recurrence in ("analog", "digital")
            for row in report_rows(
                S4D_DIR / "s4d_reference.pt", [], data, out, seeds, n, times, f"recurrence: {recurrence}"
            )
        ),
    ]
    return "\n".join(lines)


WALKTHROUGHS = {"snn": (snn, 360), "s4d": (s4d, 397)}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("walkthrough", choices=tuple(WALKTHROUGHS))
    p.add_argument("-o", "--out", required=True, type=Path, help="output directory")
    p.add_argument("--seeds", type=int, default=3, help="hardware seeds per read time")
    p.add_argument("--n-test", type=int, default=None, help="test samples (default: all)")
    p.add_argument("--times", nargs="+", choices=tuple(TIMES), default=None, help="read times (default: all)")
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    times = {k: v for k, v in TIMES.items() if not args.times or k in args.times}
    run, n_default = WALKTHROUGHS[args.walkthrough]
    text = run(args.out, args.seeds, args.n_test or n_default, times)
    (args.out / f"{args.walkthrough}.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
