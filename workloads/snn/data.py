"""Spike-encoded sequential digits: a locally generated spiking task at any time resolution.

The 8x8 scikit-learn digits (``workloads.data.load_digits_sequence("row")``) are shown row by
row, each row for ``steps_per_row`` steps of ``dt``. Pixel ``j`` of the current row drives input
channel ``j`` with Bernoulli spikes of probability ``p_max * intensity`` per coarse step. With
``clock`` (default), 8 more channels mark the row being shown (channel ``8 + r`` fires at rate
``p_max`` during row ``r``): a time reference without which a time-invariant SNN with a
time-averaged readout sees little more than a bag of rows. Each
spike is an event in continuous time, uniformly placed inside its coarse bin; binning the same
events at ``dt / k`` (``resolution=k``) gives the finer-resolution version of exactly the same
spike trains (at most one spike per channel per bin at either resolution). The draws depend only
on ``seed``, so every resolution sees the same events.

Output arrays are time-major ``(T, n, 16)`` (``(T, n, 8)`` without clock) float {0, 1}, ready for :meth:`SNNModel.run`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.errors import ConfigError


@dataclass(frozen=True)
class SpikeDataset:
    """Time-major spike trains and labels, train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    resolution: int
    info: dict

    @property
    def steps(self) -> int:
        return int(self.x_train.shape[0])


def _encode(images: np.ndarray, steps_per_row: int, p_max: float, resolution: int, clock: bool, rng):
    n, rows, _ = images.shape
    if clock:  # row-clock channels: channel r fires while row r is shown
        images = np.concatenate([images, np.broadcast_to(np.eye(rows), (n, rows, rows))], axis=2)
    rates = np.repeat(images.transpose(1, 0, 2), steps_per_row, axis=0) * p_max  # (T, n, channels)
    spikes = rng.random(rates.shape) < rates
    phase = rng.integers(0, resolution, rates.shape) if resolution > 1 else None  # which sub-bin
    t_coarse = rates.shape[0]
    out = np.zeros((t_coarse * resolution, n, images.shape[2]))
    for k in range(resolution):
        hit = spikes if phase is None else spikes & (phase == k)
        out[k::resolution] = hit
    return out


def spike_digits(
    seed: int = 0,
    steps_per_row: int = 5,
    p_max: float = 0.9,
    resolution: int = 1,
    n_train: int | None = None,
    n_test: int | None = None,
    clock: bool = True,
) -> SpikeDataset:
    """Spike-encoded sequential digits (1437 train / 360 test), at ``resolution`` sub-steps per step."""
    from workloads.data import load_digits_sequence

    if not isinstance(steps_per_row, int) or steps_per_row < 1:
        raise ConfigError("steps_per_row", f"must be an integer >= 1, got {steps_per_row!r}")
    if not isinstance(resolution, int) or resolution < 1:
        raise ConfigError("resolution", f"must be an integer >= 1, got {resolution!r}")
    if not 0 < p_max <= 1:
        raise ConfigError("p_max", f"must be a number in (0, 1], got {p_max!r}")
    d = load_digits_sequence("row", seed=seed)
    for key, n, have in (("n_train", n_train, len(d.y_train)), ("n_test", n_test, len(d.y_test))):
        if n is not None and (not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= have):
            raise ConfigError(f"dataset.{key}", f"must be an integer in 1..{have}, got {n!r}")
    xs = []
    for i, images in enumerate((d.x_train[:n_train], d.x_test[:n_test])):
        rng = np.random.default_rng([seed, i])
        xs.append(_encode(np.asarray(images, float), steps_per_row, p_max, resolution, clock, rng))
    info = {"steps_per_row": steps_per_row, "p_max": p_max, "resolution": resolution, "seed": seed, "clock": clock}
    return SpikeDataset(xs[0], d.y_train[:n_train], xs[1], d.y_test[:n_test], resolution, info)
