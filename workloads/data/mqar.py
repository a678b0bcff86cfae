"""Multi-query associative recall (MQAR), after Arora et al. 2023 ("Zoology").

A sequence opens with ``n_pairs`` key-value pairs (key token, then value token). Then, at
random later positions, each of ``n_queries`` of those keys appears again; the target at that
position is the value that was paired with it. All other positions are blank (zero input) and
carry the ignore label ``-1``. Keys are distinct within a sequence. Tokens are one-hot over
``n_keys + n_values`` inputs (keys first); targets are value indices 0..n_values-1.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.data.base import SequenceDataset


def make_mqar(
    n_keys: int = 16,
    n_values: int = 16,
    n_pairs: int = 4,
    n_queries: int = 4,
    seq_len: int = 32,
    n_train: int = 2000,
    n_test: int = 500,
    seed: int = 0,
) -> SequenceDataset:
    """MQAR data set with per-step labels (n, L); see the module docstring."""
    checks = {
        "n_keys": (n_keys, isinstance(n_keys, int) and n_keys >= 2, "an integer >= 2"),
        "n_values": (n_values, isinstance(n_values, int) and n_values >= 2, "an integer >= 2"),
        "n_pairs": (n_pairs, isinstance(n_pairs, int) and 1 <= n_pairs <= n_keys, f"an integer in 1..{n_keys}"),
        "n_queries": (
            n_queries,
            isinstance(n_queries, int) and 1 <= n_queries <= n_pairs,
            f"an integer in 1..{n_pairs}",
        ),
        "seq_len": (
            seq_len,
            isinstance(seq_len, int) and seq_len >= 2 * n_pairs + n_queries,
            f"an integer >= 2*n_pairs + n_queries = {2 * n_pairs + n_queries}",
        ),
        "n_train": (n_train, isinstance(n_train, int) and n_train >= 1, "an integer >= 1"),
        "n_test": (n_test, isinstance(n_test, int) and n_test >= 1, "an integer >= 1"),
    }
    for name, (value, ok, allowed) in checks.items():
        if not ok:
            raise ConfigError(f"dataset.{name}", f"must be {allowed}, got {value!r}")
    rng = np.random.default_rng(seed)
    n = n_train + n_test
    d_in = n_keys + n_values
    x = np.zeros((n, seq_len, d_in), dtype=np.float32)
    y = np.full((n, seq_len), -1, dtype=np.int64)
    rows = np.arange(n)
    keys = np.argsort(rng.random((n, n_keys)), axis=1)[:, :n_pairs]
    values = rng.integers(0, n_values, size=(n, n_pairs))
    for p in range(n_pairs):
        x[rows, 2 * p, keys[:, p]] = 1.0
        x[rows, 2 * p + 1, n_keys + values[:, p]] = 1.0
    tail = seq_len - 2 * n_pairs
    positions = 2 * n_pairs + np.sort(np.argsort(rng.random((n, tail)), axis=1)[:, :n_queries], axis=1)
    which = np.argsort(rng.random((n, n_pairs)), axis=1)[:, :n_queries]
    for q in range(n_queries):
        pair = which[:, q]
        x[rows, positions[:, q], keys[rows, pair]] = 1.0
        y[rows, positions[:, q]] = values[rows, pair]
    info = dict(n_keys=n_keys, n_values=n_values, n_pairs=n_pairs, n_queries=n_queries, seed=seed)
    return SequenceDataset("mqar", x[:n_train], y[:n_train], x[n_train:], y[n_train:], n_values, info)
