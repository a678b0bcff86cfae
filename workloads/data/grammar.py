"""Synthetic grammar-classification task in the spirit of SymSeq / SelectivBench.

Each of ``n_grammars`` classes is a random rule-based grammar: a first-order transition table
over ``n_symbols`` symbols in which every symbol has exactly ``branching`` allowed successors
(the complexity knob: more successors = less predictable sequences, more overlap between
grammars). A sequence is a walk through one grammar. Two perturbations make the task harder:

- irregular gaps: with probability ``p_gap`` a step is a blank (gap token) and the walk pauses;
- distractors: with probability ``p_distractor`` a step emits a uniformly random symbol that
  breaks the transition rules (the walk then continues from the last rule-conforming symbol).

Inputs are one-hot over ``n_symbols + 1`` tokens (the last is the gap); the label is the grammar.
Everything is drawn from ``numpy.random.default_rng(seed)``.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.data.base import SequenceDataset


def _check(name: str, value: object, ok: bool, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"dataset.{name}", f"must be {allowed}, got {value!r}")


def make_grammars(n_grammars: int, n_symbols: int, branching: int, rng: np.random.Generator) -> np.ndarray:
    """Allowed-successor tables, shape (n_grammars, n_symbols, branching)."""
    return np.stack(
        [
            np.stack([rng.choice(n_symbols, size=branching, replace=False) for _ in range(n_symbols)])
            for _ in range(n_grammars)
        ]
    )


def sample_sequences(
    tables: np.ndarray, labels: np.ndarray, seq_len: int, p_gap: float, p_distractor: float, rng: np.random.Generator
) -> np.ndarray:
    """Token indices (n, L) of walks through ``tables[labels]``; the gap token is ``n_symbols``."""
    n_symbols, branching = tables.shape[1], tables.shape[2]
    n = len(labels)
    tokens = np.empty((n, seq_len), dtype=np.int64)
    state = rng.integers(0, n_symbols, size=n)
    for t in range(seq_len):
        gap = rng.random(n) < p_gap
        distract = (rng.random(n) < p_distractor) & ~gap
        nxt = tables[labels, state, rng.integers(0, branching, size=n)]
        emit = np.where(distract, rng.integers(0, n_symbols, size=n), nxt)
        tokens[:, t] = np.where(gap, n_symbols, emit)
        state = np.where(gap | distract, state, nxt)
    return tokens


def make_grammar_task(
    n_grammars: int = 4,
    n_symbols: int = 8,
    branching: int = 2,
    seq_len: int = 32,
    p_gap: float = 0.1,
    p_distractor: float = 0.05,
    n_train: int = 2000,
    n_test: int = 500,
    seed: int = 0,
) -> SequenceDataset:
    """Grammar classification data set; see the module docstring for the parameters."""
    _check("n_grammars", n_grammars, isinstance(n_grammars, int) and n_grammars >= 2, "an integer >= 2")
    _check("n_symbols", n_symbols, isinstance(n_symbols, int) and n_symbols >= 2, "an integer >= 2")
    _check(
        "branching",
        branching,
        isinstance(branching, int) and 1 <= branching <= n_symbols,
        f"an integer in 1..{n_symbols}",
    )
    _check("seq_len", seq_len, isinstance(seq_len, int) and seq_len >= 2, "an integer >= 2")
    for name, p in (("p_gap", p_gap), ("p_distractor", p_distractor)):
        _check(name, p, isinstance(p, (int, float)) and 0.0 <= p < 1.0, "a probability in [0, 1)")
    for name, n in (("n_train", n_train), ("n_test", n_test)):
        _check(name, n, isinstance(n, int) and n >= 1, "an integer >= 1")
    rng = np.random.default_rng(seed)
    tables = make_grammars(n_grammars, n_symbols, branching, rng)
    labels = rng.integers(0, n_grammars, size=n_train + n_test)
    tokens = sample_sequences(tables, labels, seq_len, p_gap, p_distractor, rng)
    x = np.eye(n_symbols + 1, dtype=np.float32)[tokens]
    info = dict(n_symbols=n_symbols, branching=branching, p_gap=p_gap, p_distractor=p_distractor, seed=seed)
    return SequenceDataset(
        "grammar", x[:n_train], labels[:n_train], x[n_train:], labels[n_train:], n_grammars, info | {"tables": tables}
    )
