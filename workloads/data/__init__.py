"""Seeded sequence data sets: sequential digits, grammar classification, MQAR."""

from __future__ import annotations

from typing import Any

from aimc_sim.errors import ConfigError
from workloads.data.base import SequenceDataset, check_sequences
from workloads.data.digits import load_digits_sequence
from workloads.data.grammar import make_grammar_task
from workloads.data.mqar import make_mqar

_BUILDERS = {
    "digits_pixel": lambda seed, **kw: load_digits_sequence("pixel", seed=seed, **kw),
    "digits_row": lambda seed, **kw: load_digits_sequence("row", seed=seed, **kw),
    "grammar": lambda seed, **kw: make_grammar_task(seed=seed, **kw),
    "mqar": lambda seed, **kw: make_mqar(seed=seed, **kw),
}


def load_dataset(name: str, seed: int = 0, **options: Any) -> SequenceDataset:
    """Build a data set by name: digits_pixel, digits_row, grammar or mqar (options go to the builder)."""
    if name not in _BUILDERS:
        raise ConfigError("dataset.name", f"must be one of {', '.join(map(repr, _BUILDERS))}, got {name!r}")
    try:
        return _BUILDERS[name](seed, **options)
    except TypeError as e:
        raise ConfigError("dataset", f"bad option for {name!r}: {e}") from None


__all__ = [
    "SequenceDataset",
    "check_sequences",
    "load_dataset",
    "load_digits_sequence",
    "make_grammar_task",
    "make_mqar",
]
