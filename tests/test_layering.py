"""The import order of ARCHITECTURE.md: a package imports only from the layers below it.

``aimc_sim.cli`` and ``aimc_sim.sweep`` sit on top of the stack and may import anything.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LAYER = {"device_models": 1, "calibration": 2, "aimc_sim": 3, "chip_models": 4, "workloads": 5}
TOP = ("aimc_sim/cli", "aimc_sim/sweep")


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append((node.lineno, node.module))
    return out


def _sources():
    for pkg in LAYER:
        for f in sorted((ROOT / pkg).rglob("*.py")):
            yield pkg, f


def test_every_package_exists():
    for pkg in LAYER:
        assert (ROOT / pkg / "__init__.py").is_file(), pkg


@pytest.mark.parametrize("pkg", list(LAYER))
def test_imports_point_downward(pkg):
    bad = []
    for owner, f in _sources():
        if owner != pkg:
            continue
        rel = f.relative_to(ROOT).as_posix()
        if rel.startswith(TOP):
            continue
        for line, mod in _imports(f):
            target = mod.split(".")[0]
            if target in LAYER and target != owner and LAYER[target] > LAYER[owner]:
                bad.append(f"{rel}:{line} imports {mod} (layer {LAYER[target]} > {LAYER[owner]})")
    assert not bad, "\n".join(bad)


def test_checker_catches_an_upward_import(tmp_path):
    f = tmp_path / "x.py"
    f.write_text("import workloads.s4d\nfrom chip_models import texel\n")
    assert [m for _, m in _imports(f)] == ["workloads.s4d", "chip_models"]
