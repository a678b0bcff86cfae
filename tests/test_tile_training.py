"""In-memory tile training with pulsed updates (aimc_sim.tile_training)."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.tile_training import train


def test_pulsed_training_learns_and_counts_pulses():
    ref = train(None, epochs=1, max_train=300)
    dev = train("rram", epochs=1, max_train=300)
    assert ref["accuracy"][-1] > 0.7 and ref["pulses"] == 0
    assert 0.4 < dev["accuracy"][-1] <= 1.0  # chance is 0.1
    assert dev["pulses"] > 0 and dev["write_energy"] > 0
    assert not np.array_equal(ref["accuracy"], dev["accuracy"])


def test_bad_epochs_rejected():
    with pytest.raises(ConfigError, match="epochs"):
        train(None, epochs=0)
