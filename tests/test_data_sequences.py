"""Sequence data sets: digits (pixel / row), grammar task, MQAR."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError, DataError
from workloads.data import check_sequences, load_dataset, make_grammar_task, make_mqar


def test_digits_pixel_split_and_scaling():
    d = load_dataset("digits_pixel")
    assert d.x_train.shape == (1437, 64, 1) and d.x_test.shape == (360, 64, 1)
    assert d.x_train.min() == 0.0 and d.x_train.max() == 1.0
    # stratified: every class has 36 +- 1 test samples
    counts = np.bincount(d.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37


def test_digits_row_is_reshaped_pixel():
    p, r = load_dataset("digits_pixel"), load_dataset("digits_row")
    assert r.x_test.shape == (360, 8, 8)
    np.testing.assert_array_equal(p.x_test.reshape(360, 8, 8), r.x_test)


def test_digits_seed_changes_split_and_subset():
    a, b = load_dataset("digits_pixel", seed=0), load_dataset("digits_pixel", seed=1)
    assert not np.array_equal(a.y_test, b.y_test)
    s = load_dataset("digits_pixel", classes=(3, 8))
    assert set(np.unique(s.y_train)) == {0, 1} and s.n_classes == 2


def test_grammar_deterministic_and_structured():
    a, b = make_grammar_task(seed=3, n_train=50, n_test=10), make_grammar_task(seed=3, n_train=50, n_test=10)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    # without gaps and distractors every transition obeys the grammar of the label
    d = make_grammar_task(seed=1, p_gap=0.0, p_distractor=0.0, n_train=40, n_test=1)
    tables = d.info["tables"]
    tok = d.x_train.argmax(-1)
    for seq, lab in zip(tok, d.y_train):
        for s, t in zip(seq[:-1], seq[1:]):
            assert t in tables[lab, s]


def test_grammar_gaps_and_distractors_rates():
    d = make_grammar_task(seed=2, p_gap=0.3, p_distractor=0.0, n_train=400, n_test=1, seq_len=50)
    gap = d.x_train[..., -1].mean()
    assert abs(gap - 0.3) < 4 * np.sqrt(0.3 * 0.7 / (400 * 50))


def test_mqar_targets_are_paired_values():
    d = make_mqar(n_train=20, n_test=5, seed=0)
    nk = d.info["n_keys"]
    for x, y in zip(d.x_train, d.y_train):
        pairs = {int(x[2 * p, :nk].argmax()): int(x[2 * p + 1, nk:].argmax()) for p in range(d.info["n_pairs"])}
        for t in np.flatnonzero(y >= 0):
            assert y[t] == pairs[int(x[t, :nk].argmax())]
        assert (y >= 0).sum() == d.info["n_queries"]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"n_pairs": 20}, "dataset.n_pairs"),
        ({"seq_len": 5}, "dataset.seq_len"),
        ({"n_queries": 0}, "dataset.n_queries"),
    ],
)
def test_mqar_bad_options(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        make_mqar(**kwargs)


def test_bad_dataset_name_and_options():
    with pytest.raises(ConfigError, match="dataset.name"):
        load_dataset("cifar")
    with pytest.raises(ConfigError, match="dataset.mode"):
        from workloads.data import load_digits_sequence

        load_digits_sequence("col")
    with pytest.raises(ConfigError, match="dataset.p_gap"):
        make_grammar_task(p_gap=1.5)
    with pytest.raises(ConfigError, match="dataset.classes"):
        load_dataset("digits_pixel", classes=(3,))


def test_check_sequences_wrong_shape():
    with pytest.raises(DataError, match=r"must have shape \(n, 64, 1\)"):
        check_sequences(np.zeros((2, 8, 8)), 64, 1)
