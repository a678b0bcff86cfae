"""`aimc report MODEL --hardware HW.yaml` on a shipped S4D model: runs the seeds as a sweep, writes the report."""

from __future__ import annotations

import yaml

from aimc_sim.cli import main
from aimc_sim.sweep import load_results


def test_report_cli_on_the_float_baseline(tmp_path, capsys):
    hw = tmp_path / "hw.yaml"
    hw.write_text(yaml.safe_dump({"backend": "float"}))
    out = tmp_path / "rep"
    args = ["report", "s4d_digits_float", "--hardware", str(hw), "--seeds", "2", "--n-test", "30"]
    assert main([*args, "-o", str(out), "--workers", "0"]) == 0
    assert "wrote" in capsys.readouterr().out
    table = load_results(out / "results.h5")
    assert len(table) == 2 and list(table.columns["seed"]) == [0, 1]
    md = (out / "report.md").read_text()
    acc = table.columns["accuracy"].mean()
    assert f"Accuracy {acc:.4f}" in md and "| model | s4d_digits_float |" in md
    assert "backend: float" in md and (out / "report.html").exists()


def test_report_cli_rejects_bad_hardware_before_running(tmp_path, capsys):
    hw = tmp_path / "hw.yaml"
    hw.write_text(yaml.safe_dump({"backend": "optical"}))
    out = tmp_path / "rep"
    assert main(["report", "s4d_digits_float", "--hardware", str(hw), "-o", str(out), "--workers", "0"]) == 2
    assert "hardware.backend: must be one of 'analog', 'float'" in capsys.readouterr().err
    assert not out.exists()
