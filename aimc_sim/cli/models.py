"""``aimc models``: the shipped models, their family, size and what each one is."""

from __future__ import annotations

import argparse
import re
from pathlib import Path
from typing import Any

COMMAND = "models"
HELP = "list the shipped models (usable as MODEL in aimc report and in sweep points) and what each one is"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", choices=("s4d", "snn"), help="list one family only")


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


def shipped_models() -> list[dict[str, Any]]:
    """One row per shipped model file: name, family, size summary and description."""
    from workloads.registry import MODEL_DIR
    from workloads.io import load_weights
    from workloads.snn.experiments import SHIPPED, load_shipped

    text = _descriptions(MODEL_DIR)
    rows = []
    for name in sorted(SHIPPED):
        m = load_shipped(name)
        sizes = " -> ".join(str(n) for n in [m.layers[0].shape[0], *(lay.shape[1] for lay in m.layers)])
        rows.append({"name": name, "family": "snn", "size": f"{sizes} neurons", "what": text.get(name, "")})
    for path in sorted(MODEL_DIR.glob("*.safetensors")):
        cfg = load_weights(path)[1].get("model", {})
        size = (
            f"{cfg.get('variant', '?')}, H={cfg.get('d_model')}, N={cfg.get('d_state')}, {cfg.get('n_layers')} layers"
        )
        rows.append({"name": path.stem, "family": "s4d", "size": size, "what": text.get(path.stem, "")})
    return rows


def run(args: argparse.Namespace) -> int:
    rows = [r for r in shipped_models() if args.family in (None, r["family"])]
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        print(f"{r['name']:<{width}}  {r['family']:<3}  {r['size']}")
        if r["what"]:
            print(f"{'':<{width}}       {r['what']}")
    print("\nUse a name as MODEL (aimc report NAME) or as a sweep point's model:. Files work too: an S4D checkpoint")
    print("(.safetensors/.npz/.h5/.pt, incl. the state-spaces reference keys) or an .nir file (docs/snn.md).")
    return 0
