"""The evaluator registry: shipped entries validate points, packages declare entry points, code needs a flag."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint

import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.sweep import evaluators as ev
from aimc_sim.sweep import load_results, load_spec, run_sweep


def test_every_shipped_evaluator_has_validate_point():
    for name, entry in ev.SHIPPED.items():
        assert ev.resolve_entry(name) is entry and ev.resolve_entry(entry.target) is entry
        assert callable(entry.validator()), name


def test_a_package_entry_point_is_registered_without_import_and_runs_without_the_code_flag(tmp_path, monkeypatch):
    declared = [EntryPoint("mine", "sweep_helpers:noisy_matmul", ev.ENTRY_POINT_GROUP)]
    monkeypatch.setattr(ev, "entry_points", lambda group: declared if group == ev.ENTRY_POINT_GROUP else [])
    monkeypatch.delitem(sys.modules, "sweep_helpers", raising=False)
    entry = ev.resolve_entry("mine")
    assert (entry.target, entry.code, entry.paths) == ("sweep_helpers:noisy_matmul", False, [])
    assert "sweep_helpers" not in sys.modules  # resolving reads names only
    spec = {
        "evaluator": "mine",
        "base": {"size": 8, "noise": 0.0, "bits": 8},
        "axes": [{"kind": "grid", "params": {"noise": [0.0, 0.2]}}],
        "output": str(tmp_path / "out.h5"),
    }
    summary = run_sweep(load_spec(spec), workers=0, progress=False)
    assert len(load_results(summary.output)) == 2
    spec["base"]["noise"] = -1.0  # the module's validate_point runs for entry points too
    spec["axes"] = []
    with pytest.raises(ConfigError, match=r"point 0 \(base\): noise: must be >= 0"):
        run_sweep(load_spec(spec), output=tmp_path / "b.h5", workers=0, progress=False)


def test_arbitrary_code_needs_the_flag_and_is_not_imported_before(monkeypatch):
    monkeypatch.delitem(sys.modules, "sweep_helpers", raising=False)
    with pytest.raises(ConfigError, match="not a registered evaluator.*--allow-code"):
        ev.resolve_entry("sweep_helpers:noisy_matmul")
    assert "sweep_helpers" not in sys.modules
    entry = ev.resolve_entry("sweep_helpers:noisy_matmul", allow_code=True)
    assert entry.code and entry.paths  # the working directory goes on sys.path, for this case only
