"""``aimc calibrate`` (issue 8): preset output, report with residual plots, bootstrap intervals, bad input."""

from pathlib import Path

import pytest

from aimc_sim.cli import main
from calibration.measurements import load_measurement
from device_models.registry import load_preset

EXAMPLES = Path(__file__).resolve().parents[1] / "calibration" / "examples"


def test_cli_writes_loadable_preset_and_report(tmp_path, capsys):
    out = tmp_path / "fitted.yaml"
    rc = main(
        ["calibrate", "pcm", str(EXAMPLES / "pcm_programming.csv"), "-o", str(out), "--report", str(tmp_path / "r")]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "95% CI low" in printed and f"wrote {out}" in printed
    model = load_preset(str(out))
    assert model.name == "pcm-calibrated"
    assert (tmp_path / "r" / "report.txt").read_text().count("c0") == 1
    png = tmp_path / "r" / "00_programming_residuals.png"
    assert png.stat().st_size > 10_000


def test_cli_bootstrap_intervals(tmp_path, capsys):
    out = tmp_path / "b.yaml"
    args = ["calibrate", "pcm", str(EXAMPLES / "pcm_programming.csv"), "-o", str(out), "--ci", "bootstrap"]
    assert main(args + ["--n-boot", "40", "--seed", "3"]) == 0
    assert "bootstrap (40 refits)" in capsys.readouterr().out


def test_cli_reports_bad_data_with_row(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    lines = (EXAMPLES / "pcm_programming.csv").read_text().splitlines()
    data_start = next(i for i, line in enumerate(lines) if line.startswith("g_target"))
    lines[data_start + 3] = "5.0,nan"
    bad.write_text("\n".join(lines) + "\n")
    assert main(["calibrate", "pcm", str(bad), "-o", str(tmp_path / "x.yaml")]) == 2
    err = capsys.readouterr().err
    assert f"row 3 (line {data_start + 4}), column 'g_achieved'" in err
    assert not (tmp_path / "x.yaml").exists()


def test_cli_unknown_preset(tmp_path, capsys):
    assert (
        main(["calibrate", "no-such-device", str(EXAMPLES / "pcm_programming.csv"), "-o", str(tmp_path / "x.yaml")])
        == 2
    )
    assert "unknown preset 'no-such-device'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "base, example",
    [("pcm", "pcm_drift"), ("rram-binary", "rram_switching"), ("fefet", "fefet_vt_amplitude")],
)
def test_cli_fits_each_shipped_example(tmp_path, capsys, base, example):
    """Every kind's example round-trips through the CLI (the pulse example is covered by test_calibration_pulse)."""
    out = tmp_path / f"{example}.yaml"
    assert main(["calibrate", base, str(EXAMPLES / f"{example}.csv"), "-o", str(out), "--ci", "wald"]) == 0
    assert load_preset(str(out)).name == f"{base}-calibrated"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.csv")), ids=lambda p: p.name)
def test_shipped_examples_load_and_are_labelled_generated(path):
    text = path.read_text()
    assert text.startswith("# GENERATED: simulated with device_models preset")
    assert "# command: python -m calibration.examples.generate" in text
    load_measurement(path)
