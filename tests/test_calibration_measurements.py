"""Measurement loaders (issue 8): CSV/HDF5 formats, SI conversion, and bad-data errors naming the row or column."""

import h5py
import numpy as np
import pytest

from calibration.errors import MeasurementError
from calibration.measurements import KINDS, load_measurement
from device_models.schema import ConfigError


def _programming_csv(tmp_path, rows=None, header="g_target[uS],g_achieved[uS]", meta="# kind: programming\n"):
    if rows is None:
        rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    p = tmp_path / "prog.csv"
    p.write_text(meta + header + "\n" + "\n".join(rows) + "\n")
    return p


def _drift_csv(tmp_path, rows):
    p = tmp_path / "drift.csv"
    p.write_text("# kind: drift\ndevice,t[s],g[uS]\n" + "\n".join(rows) + "\n")
    return p


def _good_drift_rows(n_dev=7, n_t=3):
    return [f"{d},{t},{10 - 0.1 * t}" for d in range(n_dev) for t in (1, 10, 100)[:n_t]]


def test_csv_programming_loads_and_converts_to_si(tmp_path):
    m = load_measurement(_programming_csv(tmp_path))
    assert m.kind == "programming" and len(m) == 25
    assert m["g_target"][0] == pytest.approx(5e-6)
    assert m["g_achieved"][1] == pytest.approx(6.1e-6)


def test_mixed_units_are_converted_per_column(tmp_path):
    rows = [f"{(5 + i % 20) * 1e-6},{(5.1 + i % 20) * 1e3}" for i in range(25)]
    m = load_measurement(_programming_csv(tmp_path, rows, header="g_target[S],g_achieved[nS]"))
    np.testing.assert_allclose(m["g_achieved"] / m["g_target"], [(5.1 + i % 20) / (5 + i % 20) for i in range(25)])


def test_hdf5_matches_csv(tmp_path):
    csv_m = load_measurement(_drift_csv(tmp_path, _good_drift_rows()))
    h5 = tmp_path / "drift.h5"
    with h5py.File(h5, "w") as f:
        g = f.create_group("run1")
        g.attrs["kind"] = "drift"
        g["device"] = csv_m["device"]
        g["t"] = csv_m["t"] * 1e3
        g["t"].attrs["units"] = "ms"
        g["g"] = csv_m["g"]
        g["g"].attrs["units"] = "S"
    h5_m = load_measurement(h5, group="run1")
    for c in ("device", "t", "g"):
        np.testing.assert_allclose(h5_m[c], csv_m[c])
    assert len(h5_m.groups()) == 7


def test_nan_row_is_named(tmp_path):
    rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    rows[6] = "7,nan"
    with pytest.raises(MeasurementError, match=r"row 7 \(line 9\), column 'g_achieved'.*nan"):
        load_measurement(_programming_csv(tmp_path, rows))


def test_empty_cell_is_named(tmp_path):
    rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    rows[2] = ",5"
    with pytest.raises(MeasurementError, match=r"row 3 .*column 'g_target'.*not a number"):
        load_measurement(_programming_csv(tmp_path, rows))


def test_nan_in_hdf5_is_named(tmp_path):
    h5 = tmp_path / "p.h5"
    with h5py.File(h5, "w") as f:
        f.attrs["kind"] = "programming"
        x = np.linspace(1, 20, 30)
        y = x.copy()
        y[11] = np.nan
        f["g_target"] = x
        f["g_target"].attrs["units"] = "uS"
        f["g_achieved"] = y
        f["g_achieved"].attrs["units"] = "uS"
    with pytest.raises(MeasurementError, match=r"row 12, column 'g_achieved'"):
        load_measurement(h5)


def test_inconsistent_units_between_columns(tmp_path):
    rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    with pytest.raises(MeasurementError, match=r"columns 'g_target' and 'g_achieved'.*inconsistent units"):
        load_measurement(_programming_csv(tmp_path, rows, header="g_target[uS],g_achieved[nS]"))


def test_implausible_magnitude_for_unit(tmp_path):
    rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    with pytest.raises(MeasurementError, match=r"row 1 .*column 'g_target'.*unit label"):
        load_measurement(_programming_csv(tmp_path, rows, header="g_target[S],g_achieved[S]"))


def test_unit_of_wrong_dimension(tmp_path):
    p = tmp_path / "d.csv"
    p.write_text("# kind: drift\ndevice,t[V],g[uS]\n" + "\n".join(_good_drift_rows()) + "\n")
    with pytest.raises(MeasurementError, match=r"column 't'.*not a time unit; use s, ms"):
        load_measurement(p)


def test_missing_unit_is_an_error(tmp_path):
    with pytest.raises(MeasurementError, match=r"column 'g_target'.*unit '' is not a conductance unit"):
        load_measurement(_programming_csv(tmp_path, header="g_target,g_achieved[uS]"))


def test_too_few_points(tmp_path):
    rows = [f"{5 + i},{5.1 + i}" for i in range(5)]
    with pytest.raises(MeasurementError, match=r"too few points: kind 'programming' needs at least 20 rows, got 5"):
        load_measurement(_programming_csv(tmp_path, rows))


def test_too_few_points_per_device(tmp_path):
    rows = _good_drift_rows() + ["9,1,10", "9,10,9.9"]
    with pytest.raises(MeasurementError, match=r"column 'device'.*too few points: device 9 has 2 rows"):
        load_measurement(_drift_csv(tmp_path, rows))


def test_non_monotone_time_stamps(tmp_path):
    rows = _good_drift_rows()
    rows[4] = "1,0.5,9.9"  # device 1: t = 1, 0.5, 100
    with pytest.raises(MeasurementError, match=r"row 5 \(line 7\), column 't'.*increase strictly within device 1"):
        load_measurement(_drift_csv(tmp_path, rows))


def test_negative_time(tmp_path):
    rows = _good_drift_rows()
    rows[0] = "0,-1,10"
    with pytest.raises(MeasurementError, match=r"row 1 .*column 't'.*time must be >= 0"):
        load_measurement(_drift_csv(tmp_path, rows))


def test_unknown_and_missing_columns(tmp_path):
    with pytest.raises(MeasurementError, match=r"column 'colour'.*unknown for kind 'programming'"):
        load_measurement(
            _programming_csv(tmp_path, [f"{i},{i},1" for i in range(1, 30)], "g_target[uS],g_achieved[uS],colour")
        )
    with pytest.raises(MeasurementError, match=r"column 'g_achieved'.*required"):
        load_measurement(_programming_csv(tmp_path, [str(i) for i in range(1, 30)], "g_target[uS]"))


def test_kind_must_be_known_and_consistent(tmp_path):
    with pytest.raises(MeasurementError, match=r"metadata 'kind'.*must be one of"):
        load_measurement(_programming_csv(tmp_path, meta="# kind: magic\n"))
    with pytest.raises(MeasurementError, match=r"file says kind 'programming' but 'drift'"):
        load_measurement(_programming_csv(tmp_path), kind="drift")
    with pytest.raises(MeasurementError, match=r"kind is not given"):
        load_measurement(_programming_csv(tmp_path, meta=""))


def test_switching_counts_checked(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(
        "# kind: switching\nvoltage[V],width[ns],n_trials,n_switched\n1,100,10,3\n2,100,10,11\n3,100,10,5\n4,1,1,1\n"
    )
    with pytest.raises(MeasurementError, match=r"row 2 .*column 'n_switched'.*0..n_trials=10, got 11"):
        load_measurement(p)


def test_ragged_row(tmp_path):
    rows = [f"{5 + i % 20},{5.1 + i % 20}" for i in range(25)]
    rows[3] = "1,2,3"
    with pytest.raises(MeasurementError, match=r"row 4 \(line 6\).*3 fields, header has 2"):
        load_measurement(_programming_csv(tmp_path, rows))


def test_fefet_needs_exactly_one_of_vt_or_g(tmp_path):
    p = tmp_path / "f.csv"
    rows = "\n".join(f"{2 + 0.2 * i},1,{1 - 0.1 * i},{1e-6}" for i in range(10))
    p.write_text("# kind: fefet\namplitude[V],width[us],vt[V],g[uS]\n" + rows + "\n")
    with pytest.raises(MeasurementError, match=r"exactly one of these columns"):
        load_measurement(p)


def test_errors_are_config_errors_and_every_kind_is_documented():
    assert issubclass(MeasurementError, ConfigError)
    assert set(KINDS) == {"programming", "drift", "pulse", "switching", "fefet"}
    assert all(c.doc for k in KINDS.values() for c in k.columns)
