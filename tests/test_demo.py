"""`aimc demo --quick`: the three jobs run on the shipped S4D model and the index opens with the figures."""

from __future__ import annotations

from aimc_sim.cli import main
from aimc_sim.sweep import load_results


def test_quick_demo_writes_sweep_dse_and_report(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "-o", str(out), "--workers", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"open {out / 'index.html'}" in printed
    noise = load_results(out / "noise" / "results.h5")
    assert len(noise) == 2 * 2  # presets x first two noise values, one seed (quick)
    assert set(noise.columns["param/hardware.tile.preset"]) == {"pcm-default", "rram-default"}
    assert ((noise.columns["accuracy"] >= 0) & (noise.columns["accuracy"] <= 1)).all()
    assert (noise.columns["energy_j"] > 0).all()
    dse = load_results(out / "dse" / "results.h5")
    assert len(dse) == 2 * 2 and "param/hardware.tile.adc.bits" in dse.columns
    index = (out / "index.md").read_text()
    figures = ["noise/accuracy_vs_noise.png", "dse/dse_pareto.png", "report/energy_breakdown.png"]
    for fig in figures:
        assert (out / fig).stat().st_size > 10_000
        assert f"]({fig})" in index
    assert index.index("![") < index.index("## Files")  # the page opens with the plots
    report = (out / "report" / "report.md").read_text()
    assert "## Energy per component" in report and "## Cost model" in report and "22nm" in report
    assert "data:image/png;base64," in (out / "index.html").read_text()
