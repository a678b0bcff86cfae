"""User data files (workloads.data.load_dataset(path)): npz / HDF5, each kind and split form, and bad input."""

import h5py
import numpy as np
import pytest

from aimc_sim.errors import ConfigError, DataError
from workloads.data import ArrayDataset, SequenceDataset, load_dataset
from workloads.snn.data import SpikeDataset


def _write(path, **arrays):
    if path.suffix == ".npz":
        np.savez(path, **arrays)
    else:
        with h5py.File(path, "w") as f:
            for k, v in arrays.items():
                f[k] = v
    return path


@pytest.mark.parametrize("suffix", [".npz", ".h5"])
def test_images_both_split_forms(tmp_path, rng, suffix):
    x = rng.random((10, 3, 5, 5)).astype(np.float32)
    y = rng.integers(0, 4, 10)
    ds = load_dataset(_write(tmp_path / f"a{suffix}", x_train=x[:6], y_train=y[:6], x_test=x[6:], y_test=y[6:]))
    assert isinstance(ds, ArrayDataset) and ds.kind == "images" and ds.input_shape == (3, 5, 5)
    np.testing.assert_array_equal(ds.x_test, x[6:])
    assert ds.n_classes == int(y.max()) + 1 and ds.x_train.dtype == np.float32
    ds = load_dataset(_write(tmp_path / f"b{suffix}", x=x[:, 0], y=y, kind="images", n_classes=7))
    assert ds.x_test.shape == (10, 1, 5, 5) and ds.x_train.shape == (0, 1, 5, 5) and ds.n_classes == 7
    x_sub, y_sub = ds.test_subset(3)
    assert x_sub.shape[0] == 3 and list(y_sub) == list(y[:3])


def test_sequences_per_step_labels_and_float64(tmp_path, rng):
    x = rng.random((8, 12, 3))
    y = rng.integers(-1, 5, (8, 12))
    ds = load_dataset(_write(tmp_path / "s.npz", x=x, y=y))
    assert isinstance(ds, SequenceDataset) and ds.per_step and ds.x_test.dtype == np.float64
    assert (ds.seq_len, ds.d_in) == (12, 3)


def test_spike_rasters_become_time_major(tmp_path, rng):
    x = (rng.random((6, 20, 4)) < 0.3).astype(np.uint8)
    y = rng.integers(0, 3, 6)
    ds = load_dataset(_write(tmp_path / "k.h5", x=x, y=y), kind="spikes")
    assert isinstance(ds, SpikeDataset) and ds.x_test.shape == (20, 6, 4)
    np.testing.assert_array_equal(ds.x_test[:, 2], x[2])
    with pytest.raises(DataError, match=r"k2\.npz:x: a spike raster must hold only 0 and 1"):
        load_dataset(_write(tmp_path / "k2.npz", x=x * 0.5, y=y), kind="spikes")


@pytest.mark.parametrize(
    ("arrays", "kind", "match"),
    [
        ({"x": np.ones((4, 2, 3, 3, 3)), "y": np.zeros(4)}, None, r"bad\.npz:x: x must have shape"),
        ({"x": np.ones((4, 5)), "y": np.zeros(4)}, "sequences", r"bad\.npz:x: sequences must have shape \(N, L, D\)"),
        ({"x": np.full((4, 5), np.nan), "y": np.zeros(4)}, None, r"bad\.npz:x: contains NaN or inf"),
        ({"x": np.ones((4, 5)), "y": np.zeros(5)}, None, r"bad\.npz:y: labels must have shape \(4,\)"),
        ({"x": np.ones((4, 5)), "y": np.full(4, 0.5)}, None, r"bad\.npz:y: labels must be integers"),
        ({"x": np.ones((4, 5)), "y": -np.ones(4)}, None, r"bad\.npz:y: labels must be >= 0"),
        ({"x": np.ones((4, 5)), "labels": np.zeros(4)}, None, r"bad\.npz: must hold x, y or x_train"),
        ({"x": np.ones((4, 5)), "y": np.zeros(4)}, "audio", r"bad\.npz:x: kind must be one of"),
        ({"x": np.ones((4, 5)), "y": np.array([0, 1, 2, 3]), "n_classes": 2}, None, r"n_classes: must be >"),
        (
            {"x_train": np.ones((4, 5)), "y_train": np.zeros(4), "x_test": np.ones((2, 6)), "y_test": np.zeros(2)},
            None,
            r"bad\.npz:x_train: sample shape \(5,\) differs",
        ),
    ],
)
def test_bad_data_named(tmp_path, arrays, kind, match):
    with pytest.raises(DataError, match=match):
        load_dataset(_write(tmp_path / "bad.npz", **arrays), kind=kind)


def test_unreadable_and_missing_files(tmp_path):
    (tmp_path / "t.h5").write_text("not hdf5")
    with pytest.raises(DataError, match=r"t\.h5: cannot read data file"):
        load_dataset(tmp_path / "t.h5")
    with pytest.raises(DataError, match=r"none\.npz: data file not found"):
        load_dataset(tmp_path / "none.npz")
    with pytest.raises(ConfigError, match="no builder options"):
        load_dataset(tmp_path / "none.npz", n_test=3)
    with pytest.raises(ConfigError, match=r"dataset\.kind: applies to data files only"):
        load_dataset("digits_row", kind="images")
