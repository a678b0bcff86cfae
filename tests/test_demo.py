"""`aimc demo --quick`: the four jobs run on a shipped S4D model; the one-page index has working links, rendered
Markdown, figures that state model and sample counts, a DSE energy spread of at least 2x and truthful timings."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from aimc_sim.cli import main
from aimc_sim.config import read_yaml
from aimc_sim.sweep import load_results

SWEEPS = Path(__file__).resolve().parents[1] / "aimc_sim" / "data" / "sweeps"


def test_shipped_drift_sweep_reads_from_1_s_to_1_year_at_4_or_more_times():
    spec = read_yaml(SWEEPS / "demo_drift.yaml")
    (axis,) = spec["axes"]
    times = axis["params"]["hardware.t"]
    assert len(times) >= 4 and min(times) == 1.0 and max(times) >= 365 * 86400
    assert set(axis["params"]["hardware.tile.device"]) >= {"pcm", "rram"}
    assert set(axis["params"]["hardware.tile.drift_compensation.mode"]) == {"global", "none"}
    dse = read_yaml(SWEEPS / "demo_dse.yaml")
    swept = {p for a in dse["axes"] for p in a["params"]}
    assert {"hardware.recurrence", "hardware.tile.device", "hardware.tile.adc.bits", "hardware.tile.rows"} <= swept


def test_quick_demo_writes_sweeps_dse_report_and_a_linked_index(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "-o", str(out), "--workers", "2", "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"open {out / 'index.html'}" in printed and "evaluations run, 0 reused" in printed
    drift = load_results(out / "drift" / "results.h5")
    assert len(drift) == 2 * 2 * 2  # devices x compensation x read times (first two of each, one seed)
    assert sorted(set(drift.columns["param/hardware.t"])) == [1.0, 3600.0]
    assert ((drift.columns["accuracy"] >= 0) & (drift.columns["accuracy"] <= 1)).all()
    with (out / "dse" / "dse_pareto.csv").open() as fh:
        energy = [float(r["energy_j_mean"]) for r in csv.DictReader(fh)]
    assert max(energy) / min(energy) >= 2.0  # analog vs digital recurrence: the design choices matter
    page = (out / "index.html").read_text()
    links = re.findall(r'href="([^"]+)"', page)
    assert len(links) >= 8 and all((out / link).is_file() for link in links)
    assert "**" not in page and "](" not in page and "`" not in page
    assert (out / "summary.png").stat().st_size > 50_000  # the four figures on one slide
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", page)
    assert len(captions) == 5 and all("s4d_digits_qat4_noise" in c and "test samples" in c for c in captions)
    index = (out / "index.md").read_text()
    assert index.index("![") < index.index("## Files")  # the page opens with the key results and plots
    report = (out / "report" / "report.md").read_text()
    assert "## Energy per component" in report and "## Cost model" in report and "22nm" in report

    # a rerun reuses every evaluation and says so, instead of claiming it finished the work in seconds
    assert main(["demo", "--quick", "-o", str(out), "--workers", "2", "--no-progress"]) == 0
    assert "(0 evaluations run, " in capsys.readouterr().out
    assert "computed 0 evaluations" in (out / "index.md").read_text()
