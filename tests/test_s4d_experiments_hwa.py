"""The E11 mapping / E12 drift experiments on a hardware YAML write their tables into -o DIR only."""

from pathlib import Path

from workloads.s4d import experiments

CHIP = Path(__file__).resolve().parent.parent / "workloads/models/s4d_digits_hwa_pcm.hardware.yaml"


def test_e12_on_the_chip_yaml_writes_into_the_output_directory(tmp_path):
    argv = ["-o", str(tmp_path), "--only", "e12", "--seeds", "1", "--n-test", "8", "--e12-models", "hwa"]
    argv += ["--e12-hardware", str(CHIP), "--e12-recurrences", "analog", "--e12-times", "1 h"]
    assert experiments.main(argv) == 0
    table = (tmp_path / "e12_drift.md").read_text().splitlines()
    assert len(table) == 3 and "analog t=1 h" in table[0] and "HWA" in table[2]
    acc = float(table[2].split("|")[2].split("+-")[0])
    assert acc >= 75.0  # 8 digits on the chip the model is trained for (96.8 % on all 360, docs/s4d.md E12)
