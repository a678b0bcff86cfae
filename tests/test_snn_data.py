"""Spike-encoded sequential digits and surrogate gradients (docs/snn.md#surrogate-gradients, SG-1)."""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from workloads.snn import surrogates as sg
from workloads.snn.data import spike_digits


def test_spike_digits_shapes_binary_and_clock():
    d = spike_digits(n_train=20, n_test=10)
    assert d.x_train.shape == (40, 20, 16) and d.x_test.shape == (40, 10, 16)
    assert set(np.unique(d.x_train)) <= {0.0, 1.0}
    clock = d.x_train[:, :, 8:]
    for r in range(8):  # channel 8 + r fires only while row r is shown
        outside = np.delete(clock[:, :, r], np.arange(5 * r, 5 * r + 5), axis=0)
        assert not outside.any() and clock[5 * r : 5 * r + 5, :, r].any()
    assert spike_digits(n_train=5, n_test=5, clock=False).x_train.shape[2] == 8


def test_finer_resolution_bins_the_same_events():
    """The dt/2 version holds the same spikes, each in one of the two sub-bins of its coarse bin."""
    coarse = spike_digits(n_train=30, n_test=5)
    fine = spike_digits(n_train=30, n_test=5, resolution=2)
    assert fine.steps == 2 * coarse.steps
    rebinned = fine.x_train[0::2] + fine.x_train[1::2]
    np.testing.assert_array_equal(rebinned, coarse.x_train)
    assert fine.x_train[0::2].any() and fine.x_train[1::2].any()  # sub-bin timing is really jittered


def test_rates_follow_intensity():
    d = spike_digits(n_train=300, n_test=5, clock=False, p_max=0.5)
    from workloads.data import load_digits_sequence

    img = load_digits_sequence("row").x_train[:300]  # (n, 8 rows, 8 cols)
    rate = d.x_train.reshape(8, 5, 300, 8).mean(axis=1).transpose(1, 0, 2)
    expect = 0.5 * img
    se = np.sqrt(expect * (1 - expect) / 5).mean()
    assert abs((rate - expect).mean()) < 3 * se / np.sqrt(rate.size) + 1e-3


@pytest.mark.parametrize(
    ("kw", "field"),
    [({"steps_per_row": 0}, "steps_per_row"), ({"resolution": 0}, "resolution"), ({"p_max": 1.5}, "p_max")],
)
def test_bad_encoding_args(kw, field):
    with pytest.raises(ConfigError, match=field):
        spike_digits(**kw)


@pytest.mark.parametrize(
    ("fwd", "grad", "kw"),
    [(sg.atan, sg.atan_grad, {"alpha": 2.0}), (sg.atan, sg.atan_grad, {"alpha": 5.0}),
     (sg.fast_sigmoid, sg.fast_sigmoid_grad, {"alpha": 25.0})],
)  # fmt: skip
def test_sg1_surrogates_match_finite_differences(fwd, grad, kw):
    """SG-1: each g' equals the derivative of its forward shape to 1e-6 (central differences)."""
    x = np.linspace(-2, 2, 401)
    x = x[np.abs(x) > 1e-3]  # the fast sigmoid's |x| has a kink at 0
    h = 1e-5
    fd = (fwd(x + h, **kw) - fwd(x - h, **kw)) / (2 * h)
    np.testing.assert_allclose(grad(x, **kw), fd, atol=1e-6, rtol=0)


def test_surrogate_peaks():
    assert sg.atan_grad(np.array(0.0), 5.0) == pytest.approx(2.5)
    assert sg.fast_sigmoid_grad(np.array(0.0)) == pytest.approx(1.0)
    np.testing.assert_array_equal(sg.boxcar_grad(np.array([-0.6, -0.4, 0.0, 0.49, 0.5])), [0, 1, 1, 1, 0])
