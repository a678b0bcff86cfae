"""The two walkthroughs of docs/byo.md (workloads/network/byo_walkthroughs.py) on a tiny setting: one read
time, one seed, a few test samples. The float checks run on the full shipped inputs."""

import json
import re

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.network import byo_walkthroughs as walk


def _table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines() if line.startswith("| pcm")]


def test_snn_walkthrough_matches_snntorch_and_reports(tmp_path):
    walk.main(["snn", "-o", str(tmp_path), "--seeds", "1", "--n-test", "8", "--times", "1 s"])
    text = (tmp_path / "snn.md").read_text()
    ref = json.loads((walk.SNN_DIR / "snntorch_result.json").read_text())
    ours = re.search(r"float accuracy ([\d.]+) %, (\d+) output spikes", text)
    assert float(ours.group(1)) == pytest.approx(ref["accuracy"] * 100, abs=0.005)  # the same digits right
    assert int(ours.group(2)) == ref["output_spikes"]  # the same spikes
    (row,) = _table_rows(text)
    assert row[1] == "1 s" and 0.0 <= float(row[2].split(" ± ")[0]) <= 100.0 and float(row[3]) > 0
    assert (tmp_path / "report_1s" / "report.md").exists()


def test_s4d_walkthrough_matches_reference_and_reports(tmp_path):
    walk.main(["s4d", "-o", str(tmp_path), "--seeds", "1", "--n-test", "4", "--times", "1 s"])
    text = (tmp_path / "s4d.md").read_text()
    devs = [float(v) for v in re.findall(r"deviation from the reference logits ([\d.e+-]+)", text)]
    assert len(devs) == 2 and max(devs) < 1e-5  # .pt and .safetensors
    rows = _table_rows(text)
    assert [r[0] for r in rows] == ["pcm-default, recurrence: analog", "pcm-default, recurrence: digital"]
    assert all(float(r[3]) > 0 and float(r[4]) > 0 for r in rows)


def test_s4d_data_file_without_x_train_names_the_calibration_inputs(tmp_path):
    """An x, y data file has no training split; a tile with calibrated ADC ranges then says what it needs
    (it used to fail inside the model with a reshape error)."""
    import workloads
    from workloads.data import load_dataset

    d = np.load(walk.S4D_DIR / "s4d_reference.npz")
    np.savez(tmp_path / "xy.npz", x=d["x"], y=d["y"])
    data = load_dataset(tmp_path / "xy.npz")
    model = workloads.load(walk.S4D_DIR / "s4d_reference.pt")
    with pytest.raises(ConfigError, match="adc_calibration.*x_train"):
        model.on({"tile": "pcm-default"}).evaluate(data, n_test=2)
