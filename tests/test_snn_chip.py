"""SNN on the TEXEL chip model where it fits (workloads.snn.chip)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.snn import SNNModel, lif_layer
from workloads.snn.chip import run_layer_on_texel, texel_fit
from workloads.snn.experiments import load_shipped


def test_shipped_model_does_not_fit_and_says_why():
    fit = texel_fit(load_shipped())
    assert not fit.fits and fit.neurons_needed == 128 and fit.neurons_available == 180
    text = "\n".join(fit.reasons)
    assert "layers[0]: signed weights" in text and "weight levels" in text and "axonal delays" in text


def test_binary_excitatory_layer_fits():
    dt = 1e-3
    hidden = lif_layer((np.arange(20 * 6).reshape(20, 6) % 3 == 0).astype(float), 0.01, dt)
    model = SNNModel([hidden, lif_layer(np.ones((6, 2)), 0.01, dt, spiking=False)], dt)
    assert texel_fit(model).fits
    wide = lif_layer(np.ones((60, 6)), 0.01, dt)
    fit = texel_fit(SNNModel([wide, lif_layer(np.ones((6, 2)), 0.01, dt, spiking=False)], dt))
    assert fit.reasons == ["layers[0]: fan-in 60 > 54 plastic synapses per neuron"]


def test_run_layer_spike_counts_follow_high_synapses(rng):
    """Neuron j has 3(j+1) high synapses; with the same input its output count grows with j; 0 high -> silent."""
    w = np.zeros((20, 7))
    for j in range(1, 7):
        w[: 3 * j, j] = 1.0
    x = (rng.random((150, 20)) < 0.3).astype(float)
    counts, res = run_layer_on_texel(w, x, 1e-3, np.random.default_rng(0))
    assert counts[0] == 0 and counts[-1] > 0
    assert np.all(np.diff(counts[1:]) >= 0)
    assert res.ledger.total("synaptic_event") == x.sum() * 7
    assert res.ledger.total("neuron_spike") == counts.sum()


def test_run_layer_bad_input(rng):
    x = np.zeros((5, 3))
    with pytest.raises(ConfigError, match="does not fit"):
        run_layer_on_texel(np.ones((60, 2)), np.zeros((5, 60)), 1e-3, rng)
    with pytest.raises(ConfigError, match="non-negative"):
        run_layer_on_texel(-np.ones((3, 2)), x, 1e-3, rng)
    with pytest.raises(ConfigError, match=r"spikes: must have shape \(T, 3\)"):
        run_layer_on_texel(np.ones((3, 2)), np.zeros((5, 4)), 1e-3, rng)
    with pytest.raises(ConfigError, match="dt"):
        run_layer_on_texel(np.ones((3, 2)), x, 0.0, rng)
