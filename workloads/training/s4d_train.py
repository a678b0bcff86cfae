"""Train an S4D / Binary S4D / GSU classifier on a sequence data set (CPU torch) and write a checkpoint.

Modes: float training; QAT (``--w-bits`` / ``--a-bits``, STE, optional noise injection ``--sigma-tr``);
PTQ needs no training (load a float checkpoint with ``S4DModel.load(path, w_bits=4)``). ``--init-from``
fine-tunes from a checkpoint (e.g. QAT starting from a float model). ``--prune`` marks the exported model
for structural pruning of zero modes and channels (applied at load time, docs/s4d.md#quantisation).

Example (the shipped float model)::

    python -m workloads.training.s4d_train --out workloads/models/s4d_digits_float.safetensors --epochs 40

The exact command line, the seed and the final accuracies go into the checkpoint metadata ("training").
After training the checkpoint is re-loaded with the numpy model and its test accuracy is printed too.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch

from aimc_sim.errors import ConfigError
from aimc_sim.hwa.config import add_t_range_argument
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.training.common import copy_weights, data_fields, save_trained, start, train_epoch
from workloads.training.s4d_torch import TorchS4D


def _bits(text: str) -> int | str | None:
    if text in ("float", "none", "32"):
        return None
    return "ternary" if text == "ternary" else int(text)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="checkpoint path (.npz, .h5 or .safetensors)")
    ap.add_argument("--dataset", default="digits_pixel")
    ap.add_argument("--classes", default=None, help="digit subset, e.g. 3,8 (the binary task of E8)")
    ap.add_argument("--variant", default="s4d", choices=["s4d", "binary", "gsu"])
    ap.add_argument("--d-model", type=int, default=64)
    ap.add_argument("--d-state", type=int, default=16)
    ap.add_argument("--n-layers", type=int, default=2)
    ap.add_argument("--init", default="lin", choices=["lin", "inv"])
    ap.add_argument("--dt-min", type=float, default=1e-3)
    ap.add_argument("--dt-max", type=float, default=1e-1)
    ap.add_argument("--discretisation", default="zoh", choices=["zoh", "bilinear"])
    ap.add_argument("--no-residual", action="store_true")
    ap.add_argument("--w-bits", type=_bits, default=None, help="float | 8 | 6 | 4 | 3 | 2 | ternary")
    ap.add_argument("--a-bits", type=_bits, default=None, help="bits of Abar (default float)")
    ap.add_argument("--sigma-tr", type=float, default=0.0, help="noise injection, fraction of max|w|")
    ap.add_argument("--surrogate", default="arctan", choices=["arctan", "fast_sigmoid"])
    ap.add_argument("--prune", action="store_true")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--lr-ssm", type=float, default=0.001)
    ap.add_argument("--dropout", type=float, default=0.0)
    ap.add_argument("--clip", type=float, default=0.0, help="gradient-norm clip (0: off)")
    ap.add_argument("--noise-ramp", type=int, default=1, help="epochs over which sigma_tr ramps up linearly")
    ap.add_argument("--abar-max", type=float, default=None, help="bound every pole |Abar| <= this (zoh)")
    ap.add_argument("--init-from", default=None, help="checkpoint to start from (QAT fine-tuning)")
    ap.add_argument("--hwa-tile", default=None, help="hardware-aware training on this tile preset (e.g. pcm-default)")
    add_t_range_argument(ap, "--hwa-t", (0.0, 0.0))
    ap.add_argument("--hwa-recurrence", default="analog", choices=["analog", "digital"])
    ap.add_argument("--hwa-channels-per-tile", type=int, default=1, help="SSM channels packed per recurrent tile")
    ap.add_argument(
        "--hwa-hardware",
        default=None,
        help="S4D hardware YAML (workloads.s4d.hardware.S4DHardwareConfig) whose tile, recurrence, channels per "
        "tile and state replicas the training uses (instead of --hwa-tile / --hwa-recurrence / "
        "--hwa-channels-per-tile)",
    )
    ap.add_argument("--epoch-size", type=int, default=None, help="train on this many random sequences per epoch")
    ap.add_argument("--hwa-eval-t", type=float, default=None, help="also report the analog test accuracy at this t")
    ap.add_argument("--log-every", type=int, default=5, help="print test accuracies every this many epochs")
    ap.add_argument("--checkpoint-every-log", action="store_true", help="also write --out at every log line")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    return ap.parse_args(argv)


def evaluate_torch(net: TorchS4D, x: np.ndarray, y: np.ndarray, analog: bool = False) -> float:
    """Eval-mode accuracy (no noise injection, no dropout; analog layers in float unless ``analog``)."""
    was = net.analog
    net.eval()
    net.analog = was and analog
    with torch.no_grad():
        pred = net(torch.tensor(x)).argmax(-1).numpy()
    net.train()
    net.analog = was
    valid = y >= 0
    return float((pred[valid] == y[valid]).mean())


def hwa_config(args: argparse.Namespace, t_range: tuple[float, float] | None = None) -> Any:
    """The :class:`aimc_sim.hwa.HWAConfig` of the ``--hwa-*`` options (None without ``--hwa-tile`` or
    ``--hwa-hardware``)."""
    if args.hwa_tile is None and args.hwa_hardware is None:
        return None
    from aimc_sim.hwa import HWAConfig

    fields = {
        "tile": args.hwa_tile,
        "t_range": list(t_range or args.hwa_t),
        "seed": args.seed,
        "ssm_recurrence": args.hwa_recurrence,
        "ssm_channels_per_tile": args.hwa_channels_per_tile,
    }
    if args.hwa_hardware is not None:
        fields |= _hwa_fields(args.hwa_hardware)
    return HWAConfig.from_dict(fields, "hwa")


def _hwa_fields(path: str) -> dict[str, Any]:
    """HWAConfig fields of an S4D hardware YAML: tile preset and tile overrides, recurrence, channels per tile."""
    from workloads.s4d.hardware import hardware_config

    hw = hardware_config(path)
    if hw.ssm_tile or hw.prog_noise is not None or hw.backend != "analog" or hw.ssm_adc_range != "per_column":
        raise ConfigError(
            "hwa_hardware", "ssm_tile, prog_noise, backend and ssm_adc_range other than the defaults are not trained"
        )
    tile = {"preset": hw.tile} if isinstance(hw.tile, str) else dict(hw.tile)
    return {
        "tile": tile.pop("preset", "pcm-default"),
        "tile_overrides": tile,
        "ssm_recurrence": hw.recurrence,
        "ssm_channels_per_tile": hw.ssm_channels_per_tile or 1,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    opts = {"classes": tuple(int(c) for c in args.classes.split(","))} if args.classes else {}
    data = start(args, **opts)
    rng = np.random.default_rng(args.seed)
    cfg = S4DConfig(
        **data_fields(data),
        d_model=args.d_model,
        d_state=args.d_state,
        n_layers=args.n_layers,
        variant=args.variant,
        init=args.init,
        discretisation=args.discretisation,
        residual=not args.no_residual,
        w_bits=args.w_bits,
        a_bits=args.a_bits,
        prune=args.prune,
    )
    net = TorchS4D(cfg, rng, args.surrogate, args.dropout, (args.dt_min, args.dt_max), args.abar_max)
    if args.init_from:
        copy_weights(net, S4DModel.load(args.init_from).weights)
    net.sigma = 0.0
    hwa = hwa_config(args)
    if hwa is not None:
        from aimc_sim.hwa import convert_to_analog

        convert_to_analog(net, hwa)
        if args.hwa_hardware is not None:
            from workloads.s4d.hardware import hardware_config

            net.ssm_replicas = hardware_config(args.hwa_hardware).ssm_replicas
    ssm_keys = {"log_dt", "log_A_real", "A_imag"}
    ssm_p = [p for k, p in net.params.items() if k.split("__")[-1] in ssm_keys]
    other = [p for k, p in net.params.items() if k.split("__")[-1] not in ssm_keys]
    opt = torch.optim.AdamW(
        [
            {"params": other, "lr": args.lr, "weight_decay": 0.01},
            {"params": ssm_p, "lr": args.lr_ssm, "weight_decay": 0.0},
        ]
    )
    n_epoch = min(args.epoch_size or len(data.y_train), len(data.y_train))
    steps = args.epochs * int(np.ceil(n_epoch / args.batch))
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    xt, yt = torch.tensor(data.x_train), torch.tensor(data.y_train)
    t0 = time.time()
    for epoch in range(args.epochs):
        net.sigma = args.sigma_tr * min(1.0, (epoch + 1) / max(1, args.noise_ramp))  # noise curriculum
        if n_epoch < len(yt):  # a fresh random subset each epoch
            sub = torch.randperm(len(yt))[:n_epoch]
            loss = train_epoch(net, xt[sub], yt[sub], args.batch, opt, sched, args.clip)
        else:
            loss = train_epoch(net, xt, yt, args.batch, opt, sched, args.clip)
        if (epoch + 1) % args.log_every == 0 or epoch == args.epochs - 1:
            acc = evaluate_torch(net, data.x_test, data.y_test)
            line = f"epoch {epoch + 1} loss {loss:.4f} test {acc:.4f}"
            if hwa is not None and args.hwa_eval_t is not None:
                line += f" analog@{args.hwa_eval_t:g}s {_analog_accuracy(net, args, data):.4f}"
            print(f"{line} ({time.time() - t0:.0f} s)", flush=True)
            if args.checkpoint_every_log:  # a usable checkpoint even if the run is stopped early
                S4DModel(cfg, net.state_numpy()).save(args.out, training={"epochs_done": epoch + 1})
    acc_torch = evaluate_torch(net, data.x_test, data.y_test)
    model = S4DModel(cfg, net.state_numpy())
    acc_np = model.evaluate(data)
    save_trained(model, "s4d_train", args, argv, (acc_torch, acc_np), t0)
    return 0


def _analog_accuracy(net: TorchS4D, args: argparse.Namespace, data: Any) -> float:
    """Test accuracy of the torch analog forward read at ``--hwa-eval-t`` (one fresh programming)."""
    from aimc_sim.hwa import convert_to_analog

    cores, recs = net.cores, net.recurrences
    convert_to_analog(net, hwa_config(args, (args.hwa_eval_t, args.hwa_eval_t)).replace(seed=args.seed + 1000))
    acc = evaluate_torch(net, data.x_test, data.y_test, analog=True)
    net.cores, net.recurrences = cores, recs
    return acc


if __name__ == "__main__":
    raise SystemExit(main())
