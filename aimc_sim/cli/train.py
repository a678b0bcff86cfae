"""``aimc train``: hardware-aware training (HWA) of a workload model with the tile's device models in the loop."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

COMMAND = "train"
HELP = "hardware-aware training of the S4D-family or SNN models on a tile preset (torch, CPU)"

_MODELS = ("s4d", "snn")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from aimc_sim.hwa.config import add_t_range_argument

    parser.add_argument("model", choices=_MODELS, help="s4d (S4D / Binary S4D / GSU, digits) or snn (LIF, digits)")
    parser.add_argument("-o", "--out-dir", required=True, help="output directory (checkpoint and log)")
    parser.add_argument("--name", default=None, help="checkpoint file stem (default <model>_hwa)")
    parser.add_argument("--tile", default="pcm-default", help="tile preset or YAML path (default pcm-default)")
    add_t_range_argument(parser, "--t", (0.0, 86400.0))
    parser.add_argument("--recurrence", default="analog", choices=["analog", "digital"], help="S4D recurrence")
    parser.add_argument("--channels-per-tile", type=int, default=1, help="S4D channels per recurrent tile")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--trainer-args",
        default="",
        help="further options of workloads.training.<model>_train, one string (e.g. '--init-from CKPT --w-bits 4')",
    )


def run(args: argparse.Namespace) -> int:
    from aimc_sim.hwa import HWAConfig

    HWAConfig.from_dict(  # validate at the boundary: unknown preset, bad read times
        {"tile": args.tile, "t_range": list(args.t), "ssm_channels_per_tile": args.channels_per_tile}, "hwa"
    )
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    extra = shlex.split(args.trainer_args)
    common = ["--hwa-tile", args.tile, "--hwa-t", *map(str, args.t), "--epochs", str(args.epochs)]
    common += ["--seed", str(args.seed)]
    if args.model == "s4d":
        from workloads.training import s4d_train

        path = out / f"{args.name or 's4d_hwa'}.safetensors"
        argv = ["--out", str(path), *common, "--hwa-recurrence", args.recurrence]
        argv += ["--hwa-channels-per-tile", str(args.channels_per_tile)]
        return s4d_train.main(argv + extra)
    from workloads.training import snn_train

    path = out / f"{args.name or 'snn_hwa'}.nir"
    return snn_train.main(["--out", str(path), *common, *extra]) or 0
