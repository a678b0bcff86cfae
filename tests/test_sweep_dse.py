"""DSE: grouping over seeds, the Pareto front of the design points, the files `aimc dse` writes."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from test_sweep_pareto import brute_force

from aimc_sim.cli import main
from aimc_sim.errors import ConfigError
from aimc_sim.sweep import load_results, load_spec, run_sweep
from aimc_sim.sweep.analysis import aggregate, parse_objectives
from aimc_sim.sweep.dse import analyze_dse


def dse_spec(tmp_path):
    return {
        "evaluator": "sweep_helpers:noisy_matmul",
        "base": {"size": 16, "noise": 0.03, "bits": 8},
        "axes": [{"kind": "grid", "params": {"bits": [3, 5, 8], "size": [8, 16]}}],
        "seeds": 3,
        "output": str(tmp_path / "dse.h5"),
    }


def test_groups_average_over_seeds_and_front_is_non_dominated(tmp_path):
    out = run_sweep(load_spec(dse_spec(tmp_path)), workers=0, progress=False, allow_code=True).output
    table = load_results(out)
    groups = aggregate(table)
    assert len(groups) == 6 and all(g.stats["accuracy"].n == 3 for g in groups)
    g = groups[0]
    rows = (table.columns["param/bits"] == g.params["bits"]) & (table.columns["param/size"] == g.params["size"])
    assert g.mean("rel_error") == pytest.approx(table.columns["rel_error"][rows].mean())
    summary = analyze_dse(table, tmp_path / "dse")
    assert [o.column for o in summary.objectives] == ["accuracy", "energy_j", "latency_s", "area_m2"]
    values = np.array([[g.mean(o.column) for o in summary.objectives] for g in summary.groups])
    assert summary.on_front.tolist() == brute_force(values, [True, False, False, False]).tolist()
    assert 1 <= summary.on_front.sum() < len(groups)


def test_cli_writes_table_figure_and_csv(tmp_path, capsys):
    spec_file = tmp_path / "dse.yaml"
    spec_file.write_text(yaml.safe_dump(dse_spec(tmp_path)))
    assert (
        main(["dse", str(spec_file), "--workers", "0", "--allow-code", "--objectives", "accuracy:max,energy_j:min"])
        == 0
    )
    printed = capsys.readouterr().out
    assert "6 design points" in printed and "accuracy (max), energy_j (min)" in printed
    md = (tmp_path / "dse_pareto.md").read_text()
    assert "![Pareto front](dse_pareto.png)" in md and "\n| 1 |" in md
    assert (tmp_path / "dse_pareto.png").stat().st_size > 10_000
    csv_lines = (tmp_path / "dse_pareto.csv").read_text().splitlines()
    assert csv_lines[0].startswith("on_front,bits,size,accuracy_mean,energy_j_mean") and len(csv_lines) == 7


def test_objective_errors_name_the_item(tmp_path):
    table = load_results(run_sweep(load_spec(dse_spec(tmp_path)), workers=0, progress=False, allow_code=True).output)
    with pytest.raises(ConfigError, match=r"objectives\[1\]: must be NAME:max or NAME:min"):
        parse_objectives("accuracy:max,energy_j", table)
    with pytest.raises(ConfigError, match=r"objectives\[1\]: no numeric result column 'power_w'"):
        parse_objectives("accuracy:max,power_w:min", table)
    alt = parse_objectives("accuracy:max,area_mm2|area_m2:min", table)
    assert [(o.column, o.maximize) for o in alt] == [("accuracy", True), ("area_m2", False)]
    with pytest.raises(ConfigError, match="need at least two objectives"):
        parse_objectives("accuracy:max,power_w:min", table, required=False)


def test_all_nan_objective_column_is_skipped_not_poisoning_the_front():
    """A metric every point lacks (stored as NaN, e.g. area on a float backend) is treated as absent."""
    import numpy as np

    from aimc_sim.sweep.analysis import parse_objectives
    from aimc_sim.sweep.store import ResultTable

    cols = {
        "hash": np.array(["a", "b"]),
        "accuracy": np.array([0.9, 0.8]),
        "energy_j": np.array([1.0, 0.5]),
        "area_mm2": np.array([np.nan, np.nan]),
    }
    objs = parse_objectives("accuracy:max,energy_j:min,area_mm2:min", ResultTable(cols, {}), required=False)
    assert [o.column for o in objs] == ["accuracy", "energy_j"]
