"""Data sets: seeded built-ins (sequential digits, grammar classification, MQAR) and user data files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError
from workloads.data.base import SequenceDataset, SplitDataset, check_sequences
from workloads.data.digits import load_digits_sequence
from workloads.data.files import ArrayDataset, is_data_file, load_data_file
from workloads.data.grammar import make_grammar_task
from workloads.data.mqar import make_mqar

_BUILDERS = {
    "digits_pixel": lambda seed, **kw: load_digits_sequence("pixel", seed=seed, **kw),
    "digits_row": lambda seed, **kw: load_digits_sequence("row", seed=seed, **kw),
    "grammar": lambda seed, **kw: make_grammar_task(seed=seed, **kw),
    "mqar": lambda seed, **kw: make_mqar(seed=seed, **kw),
}


def load_dataset(name: str | Path, seed: int = 0, kind: str | None = None, **options: Any) -> Any:
    """A built-in data set by name (digits_pixel, digits_row, grammar, mqar; options go to the builder), or a
    user data file by path (``.npz``, ``.h5``, ``.hdf5``; ``kind`` as in :mod:`workloads.data.files`)."""
    if is_data_file(name):
        if options:
            raise ConfigError("dataset", f"a data file takes no builder options, got {sorted(options)}")
        return load_data_file(name, kind)
    if kind is not None:
        raise ConfigError("dataset.kind", "applies to data files only")
    if name not in _BUILDERS:
        raise ConfigError("dataset.name", f"must be one of {', '.join(map(repr, _BUILDERS))}, got {name!r}")
    try:
        return _BUILDERS[name](seed, **options)
    except TypeError as e:
        raise ConfigError("dataset", f"bad option for {name!r}: {e}") from None


__all__ = [
    "ArrayDataset",
    "load_data_file",
    "SequenceDataset",
    "SplitDataset",
    "check_sequences",
    "load_dataset",
    "load_digits_sequence",
    "make_grammar_task",
    "make_mqar",
]
