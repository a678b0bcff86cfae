"""``aimc calibrate MODEL DATA... -o preset.yaml [--report DIR]``: fit a device preset to measurements."""

from __future__ import annotations

import argparse
import shlex
import sys

COMMAND = "calibrate"
HELP = "fit a device-model preset to measured data (CSV/HDF5) and write a new preset YAML"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("model", help="base preset: a shipped name (e.g. pcm) or a preset YAML file")
    parser.add_argument("data", nargs="+", help="measurement files (.csv, .h5); see docs/calibration.md")
    parser.add_argument("-o", "--output", required=True, help="fitted preset YAML to write")
    parser.add_argument("--report", metavar="DIR", help="write report.txt and residual plots here")
    parser.add_argument("--name", help="name of the fitted preset (default: <base>-calibrated)")
    parser.add_argument("--ci", choices=("wald", "profile", "bootstrap"), default="profile", help="interval method")
    parser.add_argument("--level", type=float, default=0.95, help="confidence level (default 0.95)")
    parser.add_argument("--n-boot", type=int, default=200, help="bootstrap refits (with --ci bootstrap)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap generator")


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from calibration.api import calibrate

    rng = np.random.default_rng(args.seed)
    cal = calibrate(args.model, args.data, level=args.level, ci=args.ci, n_boot=args.n_boot, rng=rng)
    command = "aimc " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:] else ""
    out = cal.write(args.output, name=args.name, command=command)
    for fit in cal.fits:
        print(f"== {fit.kind} fit to {fit.source} ==")
        print(fit.result.table())
    print(f"wrote {out}")
    if args.report:
        from calibration.report import write_report

        for path in write_report(cal.fits, args.report, header=f"base preset: {args.model}\noutput: {out}"):
            print(f"wrote {path}")
    return 0
