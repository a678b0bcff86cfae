"""``aimc chip NAME -o DIR``: figure, CSV table and key=value headline lines."""

import csv

from aimc_sim.cli import main


def test_chip_experiment_writes_figure_table_and_headline(tmp_path, capsys):
    assert main(["chip", "read", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert (tmp_path / "texel_read.png").stat().st_size > 10_000
    rows = list(csv.reader(open(tmp_path / "texel_read.csv")))
    assert rows[0][0] == "r_neg_ohm" and len(rows) == 122
    key, value = out[-1].split("=")
    assert key == "reference_output" and 0.99 < float(value) < 1.0


def test_chip_list_and_unknown_experiment(capsys):
    assert main(["chip", "list"]) == 0
    listed = capsys.readouterr().out
    for name in ("device-learning", "compat-map", "routing", "eprop", "metaplasticity", "rule-overwrite", "vsa"):
        assert name in listed
    assert main(["chip", "nope"]) == 2
    assert "experiment" in capsys.readouterr().err
