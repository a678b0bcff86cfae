"""Results out: ResultTable.to_pandas / to_xarray and `aimc export` (CSV equal to the HDF5 numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from aimc_sim.cli import main
from aimc_sim.sweep import load_results, load_spec, run_sweep


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "sweep.h5"
    spec = {
        "evaluator": "sweep_helpers:noisy_matmul",
        "base": {"size": 8, "noise": 0.0, "bits": 8, "preset": "pcm"},
        "axes": [
            {"kind": "grid", "params": {"noise": [0.0, 0.1, 0.3], "preset": ["pcm", "rram"]}},
            {"kind": "zip", "params": {"size": [4, 8], "bits": [4, 6]}},
        ],
        "seeds": 2,
        "output": str(out),
    }
    return run_sweep(load_spec(spec), workers=0, progress=False, allow_code=True).output


def test_csv_has_one_row_per_point_and_seed_with_the_hdf5_numbers(results, tmp_path, capsys):
    csv = tmp_path / "out.csv"
    assert main(["export", str(results), "-o", str(csv)]) == 0
    assert "24 rows" in capsys.readouterr().out
    table = load_results(results)
    frame = pd.read_csv(csv)
    assert len(frame) == len(table) == 3 * 2 * 2 * 2  # noise x preset x zip(size, bits) x seeds
    # the evaluator also returns a column "preset": the swept parameter keeps its "param/" prefix
    assert not frame.duplicated(["noise", "param/preset", "size", "bits", "seed"]).any()
    for column in table.columns:
        if column == "config":
            assert column not in frame
            continue
        got, want = (
            frame[column if column == "param/preset" else column.removeprefix("param/")].to_numpy(),
            table.columns[column],
        )
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(got.astype(float), want)  # bit for bit, NaNs in the same places
        else:
            assert [str(v) for v in got] == [str(v) for v in want], column


def test_parquet_without_an_engine_is_a_clear_error(results, tmp_path, capsys):
    try:
        import pyarrow  # noqa: F401

        pytest.skip("pyarrow is installed: Parquet works")
    except ImportError:
        pass
    assert main(["export", str(results), "-o", str(tmp_path / "x.parquet")]) == 2
    assert "Parquet needs pyarrow or fastparquet" in capsys.readouterr().err
    assert main(["export", str(results), "-o", str(tmp_path / "x.xlsx")]) == 2
    assert not (tmp_path / "x.parquet").exists()


def test_to_xarray_has_sweep_axes_and_seed_as_dimensions(results):
    table = load_results(results)
    ds = table.to_xarray()
    assert dict(ds.sizes) == {"noise": 3, "param/preset": 2, "size": 2, "seed": 2}
    assert ds["bits"].dims == ("size",) and ds["bits"].sel(size=8).item() == 6  # zip partner rides along
    frame = table.to_pandas()
    for _, row in frame.iterrows():
        at = {"noise": row["noise"], "param/preset": row["param/preset"], "size": row["size"], "seed": row["seed"]}
        cell = ds["rel_error"].sel(at)
        assert cell.item() == row["rel_error"]
    assert ds.attrs["format"] == "aimc-sweep/1"
    assert "config" not in frame and "config" in table.to_pandas(config=True)
