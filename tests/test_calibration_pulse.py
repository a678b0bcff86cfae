"""Pulsed-update fit (issue 8) against device_models.pulsed laws (aihwkit soft bounds), EKF likelihood.

Laws: docs/devices.md#pulsed-update-laws."""

import numpy as np
import pytest

from calibration.errors import FitError
from calibration.measurements import Measurement
from calibration.pulse import fit_pulse, simulate_pulse_trains
from device_models.registry import load_preset

NO_DTOD = {"dw_min": 0.02, "dw_min_dtod": 0.0, "w_min_dtod": 0.0, "w_max_dtod": 0.0, "up_down_dtod": 0.0}
TRUTH = {"dw_min": 0.02, "up_down": 0.0, "dw_min_std": 0.5, "write_noise_std": 1.0}


def truth_model():
    """HfO2 ReRAM soft-bounds preset (Gong 2018) with 100 states, no device-to-device spread."""
    return load_preset("reram-sb", write_noise_std=1.0, update={**NO_DTOD, "dw_min_std": 0.5})


def simulate_sequences(model, rng, n_seq=2, n_pulses=60):
    """Each device: initial read, n_pulses potentiating then n_pulses depressing pulses, read after each."""
    data = simulate_pulse_trains(model, rng, n_seq, n_pulses)
    return Measurement("pulse", data, "sim", np.arange(1, data["g"].size + 1), {})


def test_recovers_soft_bounds_law_and_writes_nested_update(tmp_path, rng):
    """Fit from the shipped reram-sb preset (dw_min 0.002, write noise 56) as the start: recovers the truth."""
    from calibration.api import calibrate

    m = simulate_sequences(truth_model(), rng)
    cal = calibrate("reram-sb", [m])
    fit = cal.fits[0]
    for name, true in TRUTH.items():
        lo, hi = fit.result.ci(name)
        se = (hi - lo) / (2 * 1.96) if name != "dw_min_std" else (np.log(hi) - np.log(lo)) / (2 * 1.96)
        err = fit.result[name] - true if name != "dw_min_std" else np.log(fit.result[name] / true)
        assert abs(err) < 3 * se, (name, lo, hi)
    assert fit.result.gof["ks_p"] > 0.01
    fitted = load_preset(str(cal.write(tmp_path / "sb.yaml")))
    assert fitted.config.update.dw_min == pytest.approx(fit.updates["update"]["dw_min"], rel=1e-12)
    assert fitted.config.update.law == "softbounds" and fitted.config.update.w_min == -0.75  # merged, not replaced


def test_one_polarity_only_is_rejected(rng):
    m = simulate_sequences(truth_model(), rng, n_pulses=10)
    up = np.where(m["polarity"] < 0, 1.0, m["polarity"])
    with pytest.raises(FitError, match=r"column 'polarity'.*both potentiating"):
        fit_pulse(Measurement("pulse", {**m.data, "polarity": up}, "p.csv", m.rows, {}), truth_model())


def test_wrong_model_family(rng):
    m = simulate_sequences(truth_model(), rng, n_pulses=5)
    with pytest.raises(FitError, match=r"'pulsed' model family"):
        fit_pulse(m, load_preset("pcm"))
