"""QS4D's claims (Siegel et al., arXiv 2507.06079) reproduced as the paper frames them (docs/s4d.md, issue 15
item 4). Called from ``python -m workloads.s4d.experiments -o DIR --only <names>``:

- ``e5arms``: accuracy vs programming noise sigma_p for separate training arms from one float parent with one
  budget (:data:`ARMS`): QAT without noise, noise injection without QAT, QAT with noise, a float fine-tune
  control, HWA with the E5 device model in the loop, and the shipped HWA model (read by name).
- ``pruning``: whole-channel pruning that frees tiles (:mod:`workloads.s4d.qs4d_prune`): accuracy vs tiles.
- ``complexity``: a large FP32 model against a small ternary channel-pruned one: weight bits, MACs, tiles and
  energy from the cost ledger, FP32 digital and on tiles.
- ``e6``: model size against weight precision (d_model x d_state x {FP32, 8, 4, ternary}).
- ``abarq``: Abar held on a k-level grid (:mod:`workloads.s4d.qs4d_abar`): accuracy vs k, recurrence analog
  (on tiles) or digital (near-memory).

Checkpoints trained here go to ``DIR/ckpt`` (``--train`` trains the missing ones with
``workloads.training.s4d_train``, CPU torch), never into the source tree.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.api import load_model
from workloads.data import load_dataset
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.s4d.qs4d_prune import apply_pruning

PARENT = "workloads/models/s4d_digits_float_fastdt.safetensors"
"""The float parent of every E5 arm (Delta 0.1..1, the parent of the shipped QAT + noise model)."""
BUDGET = ("--epochs", "8", "--lr", "0.003", "--lr-ssm", "0.005", "--clip", "1", "--noise-ramp", "4", "--log-every", "4")
"""The same training budget for every arm (8 epochs of 1437 sequences, noise ramped over 4 epochs)."""
HWA_SIGMA_P = 0.02
"""The HWA arm trains on the E5 tile (``experiments.NOISE_TILE``) with programming noise sigma_p = 2 % of G_max."""
ARMS: dict[str, tuple[str, tuple[str, ...]]] = {  # key -> (label, trainer options on top of PARENT + BUDGET)
    "finetune": ("float fine-tune (neither)", ()),
    "qat": ("QAT 4-bit, no noise", ("--w-bits", "4")),
    "noise": ("noise 3 %, no QAT (float)", ("--sigma-tr", "0.03")),
    "qat_noise": ("QAT 4-bit + noise 3 %", ("--w-bits", "4", "--sigma-tr", "0.03")),
    "hwa": (
        "HWA 4-bit, E5 device (sigma_p 2 %) in the loop",
        ("--w-bits", "4", "--hwa-tile", "{tile}", "--hwa-channels-per-tile", "3", "--hwa-recurrence", "analog"),
    ),
}
E5_SIGMAS = (0.0, 0.01, 0.02, 0.05)


def train(out: Path, argv: list[str]) -> Path:
    """Train with ``workloads.training.s4d_train`` (torch, imported here) unless ``out`` exists; returns ``out``."""
    if not out.is_file():
        from workloads.training.s4d_train import main as train_main

        out.parent.mkdir(parents=True, exist_ok=True)
        print("training:", " ".join(argv), flush=True)
        train_main(["--out", str(out), *argv])
    return out


def arm_checkpoint(out_dir: Path, arm: str, seed: int, do_train: bool) -> Path:
    """The checkpoint of E5 arm ``arm`` with training seed ``seed`` (trained if missing and ``do_train``)."""
    path = out_dir / "ckpt" / f"e5_{arm}_s{seed}.safetensors"
    if path.is_file() or not do_train:
        if not path.is_file():
            raise ConfigError("--train", f"{path} is missing; run with --train to train it")
        return path
    opts = list(ARMS[arm][1])
    if "{tile}" in opts:  # the E5 tile as a YAML file for the trainer's --hwa-tile
        import yaml

        from workloads.s4d.experiments import NOISE_TILE
        from workloads.s4d.hardware import hardware_config

        tile = out_dir / "ckpt" / "e5_device_tile.yaml"
        tile.parent.mkdir(parents=True, exist_ok=True)
        cfg = hardware_config({"tile": NOISE_TILE, "prog_noise": HWA_SIGMA_P}).tile_config()
        tile.write_text(yaml.safe_dump(cfg.to_dict()))
        opts = [str(tile) if o == "{tile}" else o for o in opts]
    return train(path, ["--init-from", PARENT, *BUDGET, *opts, "--seed", str(seed)])


def _mean_sem(values: list[float]) -> tuple[float, float]:
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else float("nan")


def _pm(values: list[float]) -> str:
    m, s = _mean_sem([100 * v for v in values])
    return f"{m:.1f} +- {s:.1f}" if np.isfinite(s) else f"{m:.1f}"


BASELINES = {"parent": "float parent", "hwa_shipped": "shipped HWA model (s4d_digits_hwa_pcm, pcm-default)"}
"""E5 rows that are not trained here: the float parent and the shipped HWA model, read by name."""


def e5_arms(
    out_dir: Path, seeds: int, n_test: int | None, train_seeds: int, arms: list[str], do_train: bool, emit: Any
) -> list[dict[str, Any]]:
    """Accuracy vs sigma_p (E5 tile: 128 x 128, HfO2 Gaussian programming noise) for every arm (keys of ARMS or
    BASELINES); each entry is the mean +- s.e.m. over ``train_seeds`` x ``seeds`` (training seed x programming
    seed) evaluations. ``emit(rows)`` is called after every row."""
    from workloads.s4d.experiments import NOISE_TILE

    data = load_dataset("digits_pixel")
    models: dict[str, list[S4DModel]] = {}
    for arm in arms:
        if arm == "parent":
            models[BASELINES[arm]] = [S4DModel.load(PARENT)]
        elif arm == "hwa_shipped":
            models[BASELINES[arm]] = [load_model("s4d_digits_hwa_pcm")]
        else:
            ckpts = [arm_checkpoint(out_dir, arm, s, do_train) for s in range(train_seeds)]
            models[ARMS[arm][0]] = [S4DModel.load(c) for c in ckpts]
    rows = []
    for label, ms in models.items():
        row: dict[str, Any] = {"arm": label, "trained models": len(ms)}
        row["software"] = _pm([m.evaluate(data, n_test, mode="fft") for m in ms])
        for sigma in E5_SIGMAS:
            accs = [
                m.on({"tile": NOISE_TILE, "prog_noise": sigma}).evaluate(data, n_test=n_test, seed=s).accuracy
                for m in ms
                for s in range(1 if sigma == 0 else seeds)
            ]
            row[f"sigma_p {100 * sigma:g} %"] = _pm(accs)
            print(label, sigma, row[f"sigma_p {100 * sigma:g} %"], flush=True)
        rows.append(row)
        emit(rows)
    return rows


def finetune(model: S4DModel, epochs: int, seed: int, lr: float = 0.003, lr_ssm: float = 0.005) -> S4DModel:
    """Fine-tune ``model`` on the digits for ``epochs`` (torch, imported here) with pruned channels held at zero:
    the gradients of C and D of every masked channel are zeroed, so AdamW leaves them at exactly 0."""
    import torch

    from workloads.training.common import train_epoch
    from workloads.training.s4d_torch import TorchS4D

    torch.manual_seed(seed)
    data = load_dataset("digits_pixel")
    net = TorchS4D(model.config, np.random.default_rng(seed))
    with torch.no_grad():
        for k, v in model.weights.items():
            net.p(k).copy_(torch.tensor(v, dtype=torch.float32))
    for i, lay in enumerate(model.layers):  # a masked channel's C and D start at 0 and keep a zero gradient
        keep = torch.tensor(lay.channel_mask, dtype=torch.float32)
        for name, shape in (("C", (-1, 1, 1)), ("D", (-1,))):
            p = net.p(f"layers.{i}.ssm.{name}")
            with torch.no_grad():
                p.mul_(keep.reshape(shape))
            p.register_hook(_times(keep.reshape(shape)))
    ssm = [p for k, p in net.params.items() if k.split("__")[-1] in ("log_dt", "log_A_real", "A_imag")]
    other = [p for p in net.params.values() if all(p is not q for q in ssm)]
    groups = [{"params": other, "lr": lr, "weight_decay": 0.01}, {"params": ssm, "lr": lr_ssm, "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs * int(np.ceil(len(data.y_train) / 64)))
    xt, yt = torch.tensor(data.x_train), torch.tensor(data.y_train)
    for _ in range(epochs):
        train_epoch(net, xt, yt, 64, opt, sched, 1.0)
    meta = {**model.metadata, "finetune": {"epochs": epochs, "seed": seed, "lr": lr, "lr_ssm": lr_ssm}}
    return apply_pruning(S4DModel(model.config, net.state_numpy(), meta))


def _times(mask: Any) -> Any:
    """A gradient hook multiplying the gradient by ``mask``."""
    return lambda g: g * mask


PRUNE_MODELS = {"float S4D": "s4d_digits_float", "ternary QAT + mode pruning": "s4d_digits_ternary_pruned"}
PRUNE_KEEP = (64, 48, 32, 16)


def pruning(n_test: int | None, finetune_epochs: int, emit: Any, random_masks: int = 3) -> list[dict[str, Any]]:
    """Accuracy vs SSM channels kept per layer (importance-ranked, :mod:`workloads.s4d.qs4d_prune`) and the tiles
    that frees: 64 x 64 tiles (one 17-row channel per tile, E9) and ``pcm-default`` (30 channels per tile);
    random channel masks as the control; with ``finetune_epochs`` > 0 also after a fine-tune with the pruned
    channels held at zero. Tile accuracy: 64 x 64 tiles, 8-bit DAC/ADC, no device noise (deterministic)."""
    from aimc_sim.cost import Ledger
    from workloads.s4d.experiments import TILE_64
    from workloads.s4d.qs4d_prune import channel_importance, keep_masks, prune_channels

    data = load_dataset("digits_pixel")
    rows = []
    for label, name in PRUNE_MODELS.items():
        model = load_model(name)
        scores = channel_importance(model, data.x_train[:128])
        for n_keep in PRUNE_KEEP:
            pruned = prune_channels(model, keep_masks(scores, n_keep))
            full = n_keep == model.config.d_model  # nothing pruned: no random control or fine-tune to run
            n_rnd = 0 if full else random_masks
            rnd = [np.random.default_rng(s).permutation(model.config.d_model) < n_keep for s in range(n_rnd)]
            rnd_acc = [prune_channels(model, [r] * model.config.n_layers).evaluate(data, mode="fft") for r in rnd]
            r64 = pruned.on({"tile": TILE_64}).evaluate(data, n_test=n_test, seed=0)
            pcm = pruned.on({"tile": "pcm-default"}).program(np.random.default_rng(0), Ledger(), data.x_train[:8])
            row: dict[str, Any] = {
                "model": label,
                "channels kept / layer": n_keep,
                "software acc": pruned.evaluate(data, mode="fft"),
                "random masks acc": _pm(rnd_acc) if rnd_acc else "",
                "64x64 tiles": r64.n_tiles,
                "64x64 tile acc": r64.accuracy,
                "64x64 nJ/inference": r64.energy_j * 1e9,
                "pcm-default tiles": pcm.n_tiles(),
            }
            row["fine-tuned software acc"] = row["fine-tuned 64x64 tile acc"] = ""  # one set of columns
            if finetune_epochs > 0 and not full:
                tuned = finetune(pruned, finetune_epochs, seed=0)
                row["fine-tuned software acc"] = tuned.evaluate(data, mode="fft")
                row["fine-tuned 64x64 tile acc"] = tuned.on({"tile": TILE_64}).evaluate(data, n_test, seed=0).accuracy
            rows.append(row)
            emit(rows)
    return rows


EXPERIMENTS = ("e5arms", "pruning", "complexity", "e6", "abarq")


def add_arguments(ap: Any) -> None:
    """The options of these experiments on the ``workloads.s4d.experiments`` command line."""
    ap.add_argument("--train", action="store_true", help="QS4D experiments: train missing checkpoints (torch)")
    ap.add_argument("--train-seeds", type=int, default=2, help="QS4D experiments: training seeds per arm / model")
    arms = [*BASELINES, *ARMS]
    ap.add_argument("--arms", default=",".join(arms), help=f"E5 rows (of {', '.join(arms)})")
    ap.add_argument("--finetune-epochs", type=int, default=3, help="pruning: fine-tune epochs after pruning (0: off)")


def run(todo: set[str], args: Any, out_dir: Path, write: Any) -> None:
    """Run the experiments of :data:`EXPERIMENTS` named in ``todo``; ``write(name, rows)`` stores a table."""

    def emit(name: str) -> Any:  # write the table after every row, so that a stopped run keeps its rows
        return lambda rows: write(name, rows)

    if "e5arms" in todo:
        arms = args.arms.split(",")
        bad = [a for a in arms if a not in ARMS and a not in BASELINES]
        if bad:
            raise ConfigError("--arms", f"unknown arm {bad[0]!r}; allowed: {', '.join([*BASELINES, *ARMS])}")
        e5_arms(out_dir, args.seeds, args.n_test, args.train_seeds, arms, args.train, emit("qs4d_e5_arms"))
    if "pruning" in todo:
        pruning(args.n_test, args.finetune_epochs, emit("qs4d_pruning"))
    if "e6" in todo:
        e6_size_precision(out_dir, args.train_seeds, args.train, emit("qs4d_e6_size_precision"))
    if "complexity" in todo:
        complexity(out_dir, args.n_test, args.train, args.finetune_epochs, emit("qs4d_complexity"))
    if "abarq" in todo:
        abar_levels(out_dir, args.seeds, args.n_test, args.train, emit("qs4d_abar_levels"))


E6_SIZES = ((8, 4), (16, 4), (32, 4), (64, 16))  # (d_model H, d_state N)
E6_BITS = ("float", "8", "4", "ternary")
E6_PARENT = ("--epochs", "10", "--dt-min", "0.1", "--dt-max", "1.0")
"""Float parents of E6 from scratch (Delta 0.1..1); every precision (FP32 too) is a child: E6_QAT from the parent."""
E6_QAT = ("--epochs", "6", "--lr", "0.003", "--lr-ssm", "0.005", "--clip", "1")


def e6_checkpoint(out_dir: Path, H: int, N: int, bits: str, seed: int, do_train: bool) -> Path:
    """The E6 model of size (H, N) at ``bits`` (``parent``: the float parent; ``float``: its FP32 child with the same
    budget as the quantised ones), trained if missing and ``do_train``."""
    path = out_dir / "ckpt" / f"e6_H{H}_N{N}_{bits}_s{seed}.safetensors"
    if path.is_file():
        return path
    if not do_train:
        raise ConfigError("--train", f"{path} is missing; run with --train to train it")
    size = ("--d-model", str(H), "--d-state", str(N), "--seed", str(seed))
    if bits == "parent":
        return train(path, [*E6_PARENT, *size])
    parent = e6_checkpoint(out_dir, H, N, "parent", seed, do_train)
    return train(path, ["--init-from", str(parent), "--w-bits", bits, *E6_QAT, *size])


def e6_size_precision(out_dir: Path, train_seeds: int, do_train: bool, emit: Any) -> list[dict[str, Any]]:
    """Model size against weight precision: test accuracy (all 360 digits, mean +- s.e.m. over training seeds),
    weight memory (``S4DModel.complexity``: ternary = log2 3 bits, Abar float) and parameters."""
    data = load_dataset("digits_pixel")
    rows = []
    for H, N in E6_SIZES:
        for bits in E6_BITS:
            ms = [S4DModel.load(e6_checkpoint(out_dir, H, N, bits, s, do_train)) for s in range(train_seeds)]
            accs = [m.evaluate(data, mode="fft") for m in ms]
            cx = ms[0].complexity()
            rows.append(
                {
                    "d_model": H,
                    "d_state": N,
                    "weights": "FP32" if bits == "float" else bits,
                    "params": int(cx["params"]),
                    "weight kbit": cx["weight_bits"] / 1e3,
                    "accuracy": _pm(accs),
                    "acc mean": float(np.mean(accs)),
                    "seeds": len(ms),
                }
            )
            emit(rows)
    return rows


BIG_TILE: dict[str, Any] = {  # pcm-default's 512 x 1024 geometry, noise-free, 8-bit DAC/ADC (calibrated per column)
    "preset": "ideal",
    "dac": {"bits": 8},
    "adc": {"bits": 8, "range": "per_column"},
}
LARGE = {"d_model": 128, "d_state": 64, "n_layers": 4}
"""The large FP32 model: the S4D default block of docs/s4d.md#block (4 layers, H = 128, N = 64)."""
LARGE_TRAIN = ("--d-model", "128", "--d-state", "64", "--n-layers", "4", "--dt-min", "0.1", "--dt-max", "1.0")
SMALL = "s4d_digits_ternary_pruned"
"""The small model: the shipped ternary QAT + mode-pruned model, channel-pruned to SMALL_KEEP and fine-tuned."""
SMALL_KEEP = 32


def large_model(out_dir: Path, do_train: bool) -> tuple[S4DModel, bool]:
    """The large FP32 model (trained for 6 epochs with ``--train``, else with its S4D initialisation, seed 0,
    for the counts and the energy only); returns (model, trained)."""
    path = out_dir / "ckpt" / "large_fp32_s0.safetensors"
    if do_train or path.is_file():
        return S4DModel.load(train(path, [*LARGE_TRAIN, "--epochs", "6"])), True
    data = load_dataset("digits_pixel")
    cfg = S4DConfig(d_in=data.d_in, n_classes=data.n_classes, **LARGE)
    return S4DModel.random(cfg, np.random.default_rng(0), dt_range=(0.1, 1.0)), False


def small_pruned(out_dir: Path, finetune_epochs: int) -> S4DModel:
    """The small ternary model, importance-pruned to SMALL_KEEP channels per layer and fine-tuned (cached)."""
    from workloads.s4d.qs4d_prune import channel_importance, keep_masks, prune_channels

    path = out_dir / "ckpt" / f"small_ternary_pruned{SMALL_KEEP}.safetensors"
    if path.is_file():
        return apply_pruning(S4DModel.load(path))
    base = load_model(SMALL)
    data = load_dataset("digits_pixel")
    pruned = prune_channels(base, keep_masks(channel_importance(base, data.x_train[:128]), SMALL_KEEP))
    tuned = finetune(pruned, finetune_epochs, seed=0) if finetune_epochs > 0 else pruned
    tuned.save(path)
    return tuned


def _n_tiles(model: S4DModel, tile: dict[str, Any], x_cal: np.ndarray) -> int:
    from aimc_sim.cost import Ledger

    hw = {"tile": tile, "ssm_sim": "dense"}  # dense: also channels larger than one tile
    return model.on(hw).program(np.random.default_rng(0), Ledger(), x_cal).n_tiles()


def complexity(
    out_dir: Path, n_test: int | None, do_train: bool, finetune_epochs: int, emit: Any
) -> list[dict[str, Any]]:
    """A large FP32 S4D against a small ternary channel-pruned one, FP32 digital and on tiles (cost model
    ``22nm``), plus the same-size float vs ternary pair of E9 on 64 x 64 tiles: accuracy, parameters, weight
    bits, MACs / accumulates per step, tiles, energy per inference and its largest components."""
    from workloads.s4d.experiments import TILE_64

    data = load_dataset("digits_pixel")
    large, trained = large_model(out_dir, do_train)
    small = small_pruned(out_dir, finetune_epochs)
    name = "large FP32 (4 x 128, N 64" + ("" if trained else ", untrained: counts and energy only") + ")"
    configs = (
        (f"{name}, FP32 digital", large, {"backend": "float"}),
        (f"{name}, 512x1024 tiles", large, {"tile": BIG_TILE}),
        (f"small ternary (2 x 64, N 16, {SMALL_KEEP} ch / layer), 512x1024 tiles", small, {"tile": BIG_TILE}),
        ("small ternary pruned, 64x64 tiles", small, {"tile": TILE_64}),
        ("small ternary pruned, 64x64 tiles, digital Abar x", small, {"tile": TILE_64, "recurrence": "digital"}),
        ("E9 float S4D (2 x 64, N 16), 64x64 tiles", load_model("s4d_digits_float"), {"tile": TILE_64}),
        ("E9 ternary QAT + mode pruning, 64x64 tiles", load_model("s4d_digits_ternary_pruned"), {"tile": TILE_64}),
    )
    rows = []
    for label, model, hw in configs:
        r = model.on(hw).evaluate(data, n_test=n_test, seed=0)
        c = r.complexity
        top = sorted(r.energy_per_component_j.items(), key=lambda kv: -kv[1])[:4]
        rows.append(
            {
                "configuration": label,
                "accuracy": r.accuracy,
                "params": int(c["params"]),
                "weight kbit": c["weight_bits"] / 1e3,
                "MACs/step": c["macs_per_step"],
                "ACs/step": c["acs_per_step"],
                "tiles": r.n_tiles,
                "64x64 tiles": _n_tiles(model, TILE_64, data.x_train[:4]) if hw.get("backend") else "",
                "nJ/inference": r.energy_j * 1e9,
                "largest components (nJ)": ", ".join(f"{k} {v * 1e9:.0f}" for k, v in top),
            }
        )
        emit(rows)
    return rows


ABAR_K = (3, 7, 15, 63, None)
ABAR_QAT = {3: "2", 7: "3", 15: "4"}
"""Abar levels k trained in the loop (trainer ``--a-bits b``: k = 2^b - 1 levels), from PARENT with BUDGET."""


def abar_checkpoint(out_dir: Path, k: int, do_train: bool) -> Path:
    """QAT 4-bit with Abar quantised to k levels in training, from PARENT with the E5 budget."""
    path = out_dir / "ckpt" / f"abar_qat4_k{k}_s0.safetensors"
    if path.is_file() or not do_train:
        if not path.is_file():
            raise ConfigError("--train", f"{path} is missing; run with --train to train it")
        return path
    return train(path, ["--init-from", PARENT, *BUDGET, "--w-bits", "4", "--a-bits", ABAR_QAT[k], "--seed", "0"])


def abar_levels(out_dir: Path, seeds: int, n_test: int | None, do_train: bool, emit: Any) -> list[dict[str, Any]]:
    """Accuracy vs k levels of Abar (:mod:`workloads.s4d.qs4d_abar`, on the grid, stability-stepped): software,
    on E5 tiles (128 x 128, 8-bit DAC/ADC) with the recurrence analog (Abar in the cells) at sigma_p 0 and 2 %,
    and with the recurrence digital (Abar in SRAM) at sigma_p 2 %; mean +- s.e.m. over ``seeds`` programmings."""
    from workloads.s4d.experiments import NOISE_TILE
    from workloads.s4d.qs4d_abar import with_abar_levels

    data = load_dataset("digits_pixel")
    models = {"float parent (Delta 0.1..1)": S4DModel.load(PARENT)}
    models["QAT 4 + noise 3 % (shipped)"] = load_model("s4d_digits_qat4_noise")
    for k in ABAR_QAT:  # trained with --train; without it only the checkpoints already there
        if do_train or (out_dir / "ckpt" / f"abar_qat4_k{k}_s0.safetensors").is_file():
            ckpt = abar_checkpoint(out_dir, k, do_train)
            models[f"QAT 4, Abar k = {k} in training"] = S4DModel.load(ckpt, a_bits=None)
    rows = []
    for label, base in models.items():
        for k in ABAR_K:
            m, n_stepped = with_abar_levels(base, k)
            row: dict[str, Any] = {"model": label, "k": "float" if k is None else k, "stepped modes": n_stepped}
            row["Abar kbit"] = (
                sum(2 * int(lay.mode_mask.sum()) for lay in m.layers)
                * (32 if k is None else float(np.ceil(np.log2(k))))
                / 1e3
            )
            row["software"] = m.evaluate(data, mode="fft")
            for rec, sigma, n in (("analog", 0.0, 1), ("analog", 0.02, seeds), ("digital", 0.02, seeds)):
                hw = m.on({"tile": NOISE_TILE, "prog_noise": sigma, "recurrence": rec})
                accs = [hw.evaluate(data, n_test=n_test, seed=s).accuracy for s in range(n)]
                row[f"{rec}, sigma_p {100 * sigma:g} %"] = _pm(accs)
            rows.append(row)
            emit(rows)
    return rows
