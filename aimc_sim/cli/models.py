"""``aimc models``: the shipped models, their family, size and what each one is."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

COMMAND = "models"
HELP = "list the shipped models (usable as MODEL in aimc report and in sweep points) and what each one is"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", help="list one model family only (s4d, snn, network, glr)")


def _descriptions(folder: Path) -> dict[str, str]:
    """File stem -> the 'what' column of the tables in the models' README files."""
    out: dict[str, str] = {}
    for readme in sorted(folder.glob("*README.md")):
        lines = readme.read_text().splitlines()
        for line in lines:  # table rows: | `file` | what | ...
            m = re.match(r"\|\s*`([^`]+)`\s*\|\s*((?:[^|\\]|\\.)+?)\s*\|", line)
            if m:
                out[Path(m.group(1)).stem] = m.group(2).replace("\\|", "|")
        stem = readme.name.removesuffix("_README.md")  # a single-model README: its first paragraph line
        prose = [ln for ln in lines if ln.strip() and not ln.startswith(("#", "|"))]
        if stem not in out and prose:
            out[stem] = prose[0].strip()
    return out


def _size(model: Any) -> str:
    """A short size summary of a loaded model (layer widths or S4D dimensions)."""
    if hasattr(model, "layers") and hasattr(model, "dt"):  # SNNModel
        widths = [model.layers[0].shape[0], *(lay.shape[1] for lay in model.layers)]
        return " -> ".join(map(str, widths)) + " neurons"
    cfg = getattr(model, "config", None)
    if cfg is not None and hasattr(cfg, "d_state"):
        return f"{cfg.variant}, H={cfg.d_model}, N={cfg.d_state}, {cfg.n_layers} layers"
    return type(model).__name__


def shipped_models() -> list[dict[str, Any]]:
    """One row per shipped model (``workloads.registry.shipped_models``): name, family, size, description."""
    from workloads.registry import MODEL_DIR, family_for, load, shipped_models

    text = _descriptions(MODEL_DIR)
    return [
        {"name": n, "family": family_for(n).name, "size": _size(load(n)), "what": text.get(n, "")}
        for n in shipped_models()
    ]


def run(args: argparse.Namespace) -> int:
    rows = [r for r in shipped_models() if args.family in (None, r["family"])]
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['family']:<4}  {r['size']}")
        if r["what"]:
            print(f"{'':<{width}}        {r['what']}")
    print("\nUse a name as MODEL (aimc report NAME) or as a sweep point's model:. Files work too: an S4D checkpoint")
    print("(.safetensors/.npz/.h5/.pt, incl. the state-spaces reference keys) or an .nir file (docs/snn.md).")
    return 0
