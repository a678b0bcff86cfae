"""FeFET amplitude-sweep fit (issue 8) against device_models.fefet (Preisach S-curve, docs/devices.md#fefet)."""

import numpy as np
import pytest

from calibration.errors import FitError
from calibration.fefet_vt import fit_fefet
from calibration.measurements import Measurement
from device_models.fefet import threshold_voltage
from device_models.registry import load_preset

TRUTH = {"v_t0": 0.8, "memory_window": 1.6, "ea_mean": 2.3, "ea_std": 0.4}


def simulate_sweep(model, rng, per_amp=8, noise=0.01, column="vt"):
    """Erased fresh devices, one 1 µs pulse each at amplitudes 1..4 V; V_T read with ``noise`` V, or G."""
    amps = np.repeat(np.linspace(1.0, 4.0, 16), per_amp)
    width = np.full(len(amps), 1e-6)
    st = model.pulse(model.program(np.full(len(amps), model.g_min), rng), 1, amps, width, rng)
    if column == "vt":
        y = threshold_voltage(model.polarization(st), model.config) + noise * rng.standard_normal(len(amps))
    else:
        y = model.conductance(st, 0.0, rng)
    return Measurement("fefet", {"amplitude": amps, "width": width, column: y}, "sim", np.arange(1, len(amps) + 1), {})


@pytest.mark.parametrize("column", ["vt", "g"])
def test_recovers_fefet_parameters(rng, column):
    """Both read-outs recover the Deng et al. 2020 values (Ea ~ N(2.3 V, 0.4 V)) and the 1.6 V window."""
    model = load_preset("fefet")
    fit = fit_fefet(simulate_sweep(model, rng, column=column), model)
    for name, true in TRUTH.items():
        lo, hi = fit.result.ci(name)
        se = (hi - lo) / (2 * 1.96)
        assert abs(fit.result[name] - true) < 3 * se, (name, lo, hi)
    noise = fit.result["sigma_vt" if column == "vt" else "read_noise"]
    assert noise == pytest.approx(0.01, rel=0.25)
    assert ("read_noise" in fit.updates) == (column == "g")


def test_fitted_fefet_preset_reproduces_the_s_curve(tmp_path, rng):
    """A preset fitted to a shifted device (ea_mean 2.6 V) programs the shifted S-curve."""
    from calibration.api import calibrate

    shifted = load_preset("fefet", ea_mean=2.6)
    cal = calibrate("fefet", [simulate_sweep(shifted, rng)])
    fitted = load_preset(str(cal.write(tmp_path / "fefet.yaml")))
    assert fitted.config.ea_mean == pytest.approx(2.6, abs=0.08)
    n = 4000
    st = fitted.pulse(fitted.program(np.full(n, fitted.g_min), rng), 1, 2.5, 1e-6, rng)
    st_true = shifted.pulse(shifted.program(np.full(n, shifted.g_min), rng), 1, 2.5, 1e-6, rng)
    assert fitted.polarization(st).mean() == pytest.approx(shifted.polarization(st_true).mean(), abs=0.05)


def test_constant_data_is_rejected(rng):
    m = simulate_sweep(load_preset("fefet"), rng)
    flat = Measurement("fefet", {**m.data, "vt": np.full(len(m), 0.5)}, "f.csv", m.rows, {})
    with pytest.raises(FitError, match=r"f.csv: column 'vt'.*all values are equal"):
        fit_fefet(flat, load_preset("fefet"))
