"""Energy report (Markdown + self-contained HTML) and `aimc plot` curves."""

from __future__ import annotations

import base64
import re

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.report.curves import plot_results
from aimc_sim.report.energy import breakdown, flatten_config, write_energy_report
from aimc_sim.sweep import load_results, load_spec, run_sweep


def seed_results(n: int = 4) -> list[dict]:
    rng = np.random.default_rng(7)
    out = []
    for _ in range(n):
        layers = {"encoder": 2e-12, "ssm0": 40e-12 * (1 + 0.05 * rng.standard_normal()), "decoder": 1e-12}
        comps = {"adc": 25e-12, "dac": 8e-12, "array": 6e-12, "digital": 4e-12}
        row = {"accuracy": 0.9 + 0.02 * rng.standard_normal(), "energy_j": sum(comps.values()), "latency_s": 3e-6}
        row.update({f"energy_layer.{k}": v for k, v in layers.items()})
        row.update({f"energy_comp.{k}": v for k, v in comps.items()})
        row.update({"latency_layer.encoder": 1e-6, "latency_layer.ssm0": 2e-6, "n_tiles": 139, "utilisation": 0.14})
        row["complexity.weight_bits"] = 63_000.0
        out.append(row)
    return out


COST = {
    "name": "default-22nm",
    "adc": {"model": "D", "fom_w_j": 10e-15, "source": "docs/cost.md#adc-energy-models, survey-fom (Murmann survey)"},
    "digital": {"add_j": 0.9e-12, "source": "Horowitz ISSCC 2014"},
}


def test_report_has_tables_ci_cost_sources_and_embedded_figures(tmp_path):
    results = seed_results()
    files = write_energy_report(
        results,
        tmp_path,
        title="Energy report: digits S4D on PCM",
        context={"model": "digits"},
        seeds=[0, 1, 2, 3],
        hardware={"tile": {"rows": 64}},
        cost_model=COST,
        cost_model_name="default-22nm",
    )
    md = files.markdown.read_text()
    acc = np.array([r["accuracy"] for r in results])
    half = 3.182446305 * acc.std(ddof=1) / 2  # t_{0.975,3} * s / sqrt(4)
    assert f"{acc.mean():.4f} ± {half:.3f} (95% CI over 4 seeds)" in md
    assert md.index("![Energy per inference") < md.index("## Setup")  # the report opens with its plots
    assert "| adc | 25 | 58.1 % | pJ |" in md  # 25 of 43 pJ
    assert "| ssm0 |" in md and "| encoder | 1 | 33.3 % | µs |" in md
    assert "| adc | model=D, fom_w_j=1e-14 | docs/cost.md#adc-energy-models, survey-fom (Murmann survey) |" in md
    assert "| digital | add_j=9e-13 | Horowitz ISSCC 2014 |" in md and "| name | default-22nm |  |" in md
    assert "| n_tiles | 139 |" in md
    for fig in files.figures:
        assert fig.exists() and f"]({fig.name})" in md
    page = files.html.read_text()
    embedded = re.findall(r'src="data:image/png;base64,([^"]+)"', page)
    assert len(embedded) == len(files.figures) == 2
    assert base64.b64decode(embedded[0])[:8] == b"\x89PNG\r\n\x1a\n"
    assert '<td class="txt">adc</td>' in page and 'src="energy_breakdown.png"' not in page
    assert "**" not in page and "<strong>total</strong>" in page  # Markdown rendered, not shown literally
    assert '<td class="num">25</td>' in page  # numbers right-aligned, prose left-aligned


def test_breakdown_means_over_seeds_and_config_flattening():
    rows = [{"energy_layer.a": 1.0, "energy_layer.b": 2.0}, {"energy_layer.a": 3.0}]
    assert breakdown(rows, "energy_layer") == {"a": 2.0, "b": 1.0}
    assert flatten_config({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": 3}]}) == [("a.b", 1), ("a.c", [1, 2]), ("d[0].e", 3)]


def test_report_input_errors(tmp_path):
    with pytest.raises(ConfigError, match="results: need at least one"):
        write_energy_report([], tmp_path, title="x", context={}, seeds=[])
    with pytest.raises(ConfigError, match=r"seeds: must give one seed per result \(1\), got 2"):
        write_energy_report(seed_results(1), tmp_path, title="x", context={}, seeds=[0, 1])


def test_plot_curves_from_a_sweep(tmp_path, capsys):
    from aimc_sim.cli import main

    spec = {
        "evaluator": "sweep_helpers:noisy_matmul",
        "base": {"size": 16, "noise": 0.0, "bits": 8, "preset": "pcm"},
        "axes": [{"kind": "grid", "params": {"preset": ["pcm", "rram"], "noise": [0.0, 0.1, 0.2]}}],
        "seeds": 3,
        "output": str(tmp_path / "noise.h5"),
    }
    out = run_sweep(load_spec(spec), workers=0, progress=False, allow_code=True).output
    path = plot_results(load_results(out), tmp_path / "acc.png")
    assert path.stat().st_size > 10_000
    assert main(["plot", str(out), "--y", "rel_error", "--x", "noise", "--by", "preset"]) == 0
    assert (tmp_path / "noise_rel_error.png").exists()
    assert main(["plot", str(out), "--y", "power_w"]) == 2
    assert "y: no column 'power_w' in the results" in capsys.readouterr().err
