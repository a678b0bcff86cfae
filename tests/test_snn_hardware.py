"""SNN on crossbar tiles (docs/snn.md#hardware): ideal tile = float reference, ledger counts, presets, bad input."""

import numpy as np
import pytest

from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError, DataError
from workloads.snn import SNNModel, lif_layer
from workloads.snn.data import spike_digits
from workloads.snn.experiments import load_shipped
from workloads.snn.hardware import HardwareSNN, evaluate_float


@pytest.fixture(scope="module")
def shipped():
    return load_shipped()


@pytest.fixture(scope="module")
def data():
    return spike_digits(n_train=1, n_test=24)


def test_ideal_tile_reproduces_float_run(shipped, data):
    """With an ideal tile (no noise, no quantisation) the hardware path equals the float model."""
    hw = HardwareSNN(shipped, {"tile": "ideal"})
    mats = hw.program(np.random.default_rng(0), Ledger())
    readout, counts = hw.run(data.x_test, mats, Ledger())
    ref = shipped.run(data.x_test)
    assert counts == ref.spike_counts
    np.testing.assert_allclose(readout, ref.readout, atol=1e-4)


@pytest.mark.parametrize("kind", ["dendritic", "synaptic"])
def test_ideal_tile_dendritic_and_synaptic_delays(rng, kind):
    """Dendritic delays (after the ADC) and synaptic delays (stacked (N_pre (D+1)) x N_post array) match float."""
    n_in, n_out, dt = 6, 5, 1e-3
    d = rng.integers(0, 4, n_out) if kind == "dendritic" else rng.integers(0, 4, (n_in, n_out))
    model = SNNModel(
        [
            lif_layer(rng.normal(1.0, 1.5, (n_in, n_out)), 0.005, dt, reset="to_value", delay_kind=kind, delays=d),
            lif_layer(rng.normal(0, 1, (n_out, 3)), 0.01, dt, spiking=False),
        ],
        dt,
    )
    x = (rng.random((25, 4, n_in)) < 0.4).astype(float)
    hw = HardwareSNN(model, {"tile": "ideal"})
    stats = Ledger()
    readout, counts = hw.run(x, hw.program(np.random.default_rng(1), Ledger()), Ledger(), stats)
    ref = model.run(x)
    assert counts == ref.spike_counts and counts[0] > 0
    np.testing.assert_allclose(readout, ref.readout, atol=1e-4)
    reads = stats.counts[("layer0", "delay_buffer_read")]
    assert reads == 25 * 4 * (n_out if kind == "dendritic" else n_in * n_out)


def test_pcm_result_statistics_and_ledger(shipped, data):
    """Accuracy, per-layer spikes/sparsity, delay-buffer memory and consistent event counts per inference."""
    res = HardwareSNN(shipped, {"tile": "pcm-default"}).evaluate(data, seed=0)
    n, steps = data.x_test.shape[1], data.x_test.shape[0]
    assert 0.0 <= res.accuracy <= 1.0 and res.n_samples == n
    spikes = res.extra["spikes_per_sample.layer0"]
    assert res.extra["sparsity.layer0"] == pytest.approx(1 - spikes / (128 * steps))
    assert res.extra["count.layer0.neuron_spike"] == pytest.approx(spikes)
    assert res.extra["count.layer0.delay_buffer_write"] == steps * 16
    assert res.extra["count.layer1.delay_buffer_read_bits"] == steps * 128
    assert res.extra["count.layer0.dac_conversion@1b"] == steps * 16  # one 1-bit conversion per row and step
    d_max = shipped.layers[1].delays.max()
    assert res.extra["delay_buffer.layer1.axonal.history_bits"] == d_max * 128
    assert res.energy_j > 0 and res.latency_s > 0 and "unpriced" not in res.extra
    assert res.energy_per_layer_j["layer0"] > 0 and res.energy_per_component_j["neuron"] > 0
    flat = res.to_flat_dict()
    assert flat["extra.backend"] == "analog" and "extra.sparsity.layer0" in flat


def test_presets_degrade_gracefully_and_are_seeded(shipped, data):
    """PCM and RRAM runs stay far above chance on this subset; the same seed gives the same result."""
    for tile in ("pcm-default", "rram-default"):
        a = shipped.on({"tile": tile}).evaluate(data, seed=3)
        b = HardwareSNN(shipped, {"tile": tile}).evaluate(data, seed=3)
        assert a.accuracy == b.accuracy and a.extra["spikes_per_sample.layer0"] == b.extra["spikes_per_sample.layer0"]
        assert a.accuracy > 0.5


def test_float_result(shipped, data):
    res = evaluate_float(shipped, data.x_test, data.y_test)
    assert res.accuracy == pytest.approx(np.mean(shipped.predict(data.x_test) == data.y_test))
    assert res.extra["backend"] == "float" and 0 < res.extra["sparsity.layer0"] < 1


def test_bad_hardware_input(shipped, data):
    with pytest.raises(ConfigError, match="tile"):
        HardwareSNN(shipped, {"tile": "no-such-tile"}).evaluate(data)
    with pytest.raises(ConfigError, match="current_bits"):
        HardwareSNN(shipped, {"current_bits": 0})
    with pytest.raises(DataError, match=r"x: must have shape \(T, n, 16\)"):
        HardwareSNN(shipped).evaluate((data.x_test[:, :, :8], data.y_test))
    with pytest.raises(DataError, match="y: must have shape"):
        evaluate_float(shipped, data.x_test, data.y_test[:3])


def test_api_point_evaluation():
    """The sweep entry point: float and analog backends, dt adaptation, bad keys."""
    from workloads.snn.api import evaluate

    point = {"model": "snn_digits", "hardware": {"backend": "float"}, "dataset": {"n_test": 16}}
    res = evaluate(point, seed=0)
    assert res.extra["backend"] == "float" and res.n_samples == 16
    fine = evaluate({**point, "dataset": {"n_test": 16, "resolution": 2}, "dt_adaptation": "naive"}, seed=0)
    assert fine.extra["steps"] == 80 and fine.extra["dt_adaptation"] == "naive"
    analog = evaluate({**point, "hardware": {"backend": "analog", "tile": "rram-default"}}, seed=1)
    assert analog.extra["backend"] == "analog" and analog.energy_j > 0
    with pytest.raises(ConfigError, match="point.colour"):
        evaluate({**point, "colour": 1}, seed=0)
    with pytest.raises(ConfigError, match="point.hardware.backend"):
        evaluate({**point, "hardware": {"backend": "gpu"}}, seed=0)
    with pytest.raises(ConfigError, match="point.dt_adaptation"):
        evaluate({**point, "dt_adaptation": "mapping"}, seed=0)


def test_ideal_tile_recurrent_adlif_layer(rng):
    """A recurrent adLIF layer (second array for W_rec, AdLIFPopulation neurons) matches the float model."""
    from workloads.snn import SNNLayer, adlif

    n_in, n_out, dt = 5, 8, 1e-3
    neurons = adlif(0.9, 0.97, 0.3, 0.5, 1.0, size=n_out)
    hid = SNNLayer(rng.normal(4.0, 6.0, (n_in, n_out)), neurons, recurrent=rng.normal(0, 2.0, (n_out, n_out)))
    model = SNNModel([hid, lif_layer(rng.normal(0, 1, (n_out, 3)), 0.01, dt, spiking=False)], dt)
    x = (rng.random((30, 4, n_in)) < 0.4).astype(float)
    hw = model.on({"tile": "ideal"})
    readout, counts = hw.run(x, hw.program(np.random.default_rng(0), Ledger()), Ledger())
    ref = model.run(x)
    assert counts == ref.spike_counts and counts[0] > 10
    np.testing.assert_allclose(readout, ref.readout, atol=1e-4)
