"""The sequence data-set container shared by every workload.

A :class:`SequenceDataset` holds inputs ``x`` of shape (n, L, d_in) and integer labels ``y``:
either one class per sequence, shape (n,), or one target per time step, shape (n, L), where
``-1`` marks steps that are not scored (used by MQAR).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from aimc_sim.errors import DataError


@dataclass(frozen=True)
class SplitDataset:
    """Inputs and integer labels, train and test split (the common part of every data set type)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    info: dict = field(default_factory=dict)

    def test_subset(self, n_test: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``n_test`` test samples (all if None)."""
        if n_test is None:
            return self.x_test, self.y_test
        if not isinstance(n_test, int) or isinstance(n_test, bool) or not 1 <= n_test <= len(self.y_test):
            raise DataError("dataset.n_test", f"must be an integer in 1..{len(self.y_test)}, got {n_test!r}")
        return self.x_test[:n_test], self.y_test[:n_test]


@dataclass(frozen=True)
class SequenceDataset(SplitDataset):
    """Seeded, in-memory sequence data set (train and test split): x (n, L, d_in), labels (n,) or (n, L)."""

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"x_{split}"), getattr(self, f"y_{split}")
            if x.ndim != 3:
                raise DataError(f"{self.name}.x_{split}", f"must have shape (n, L, d_in), got {x.shape}")
            if y.shape[0] != x.shape[0] or y.ndim not in (1, 2) or (y.ndim == 2 and y.shape[1] != x.shape[1]):
                raise DataError(
                    f"{self.name}.y_{split}", f"must have shape (n,) or (n, L) for x {x.shape}, got {y.shape}"
                )

    @property
    def seq_len(self) -> int:
        """Sequence length L."""
        return int(self.x_train.shape[1])

    @property
    def d_in(self) -> int:
        """Input features per step."""
        return int(self.x_train.shape[2])

    @property
    def per_step(self) -> bool:
        """True if the labels are per time step (sequence-to-sequence task)."""
        return self.y_train.ndim == 2


def check_sequences(x: np.ndarray, seq_len: int, d_in: int, name: str = "x") -> np.ndarray:
    """Return ``x`` as (n, L, d_in) float32, or float64 if given float64, else raise :class:`DataError`.

    float64 stays float64 so that a float64 reference comparison is not limited by float32 rounding.
    """
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[1] != seq_len or x.shape[2] != d_in:
        raise DataError(
            name, f"must have shape (n, {seq_len}, {d_in}) (batch, sequence length, features), got {x.shape}"
        )
    if x.dtype.kind not in "biuf" or not np.all(np.isfinite(x)):
        raise DataError(name, "must be a finite real array")
    return x.astype(np.float64 if x.dtype == np.float64 else np.float32, copy=False)
