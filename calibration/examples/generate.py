"""Generate the example measurement files in this directory from known device-model parameters.

Every file is GENERATED (simulated with ``device_models``), not measured; its header records the
generating preset, the parameters, the seed and this command. Regenerate all with:

    python -m calibration.examples.generate
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from calibration.measurements import Measurement, save_csv
from calibration.pulse import simulate_pulse_trains
from device_models.fefet import threshold_voltage
from device_models.registry import load_preset

HERE = Path(__file__).resolve().parent
COMMAND = "python -m calibration.examples.generate"


def _meta(preset: str, params: str, seed: int) -> dict[str, str]:
    return {
        "GENERATED": f"simulated with device_models preset '{preset}', NOT measured data",
        "parameters": params,
        "seed": str(seed),
        "command": COMMAND,
    }


def _rows(n: int) -> np.ndarray:
    return np.arange(1, n + 1)


def programming(seed: int = 1, n: int = 400) -> Path:
    """Target vs achieved conductance of n PCM devices (aihwkit PCMLike programming noise)."""
    rng = np.random.default_rng(seed)
    model = load_preset("pcm")
    gt = rng.uniform(0.5e-6, model.config.g_max, n)
    gp = model.program(gt, rng).g0
    m = Measurement("programming", {"g_target": gt, "g_achieved": gp}, "generated", _rows(n))
    out = HERE / "pcm_programming.csv"
    params = f"pcm preset: prog_coeffs={list(model.config.prog_coeffs)} S, g_max={model.config.g_max} S"
    save_csv(m, out, {"g_target": "uS", "g_achieved": "uS"}, _meta("pcm", params, seed))
    return out


def drift(seed: int = 2, n: int = 120) -> Path:
    """PCM conductance of n devices read 6 times from 1 s to 1 day after programming (drift + 1/f read noise)."""
    rng = np.random.default_rng(seed)
    model = load_preset("pcm")
    times = np.array([1.0, 10.0, 100.0, 1e3, 1e4, 86400.0])
    gt = rng.uniform(2e-6, model.config.g_max, n)
    st = model.program(gt, rng)
    g = np.stack([model.conductance(st, float(t), rng) for t in times], axis=1)
    k = len(times)
    data = {
        "device": np.repeat(np.arange(n), k).astype(float),
        "t": np.tile(times, n),
        "g": g.ravel(),
        "g_target": np.repeat(gt, k),
    }
    c = model.config
    params = f"pcm preset: t0={c.t0} s, nu_mean={list(c.nu_mean)}, nu_std={list(c.nu_std)}, q_read={list(c.q_read)}"
    out = HERE / "pcm_drift.csv"
    save_csv(
        Measurement("drift", data, "generated", _rows(g.size)),
        out,
        {"t": "s", "g": "uS", "g_target": "uS"},
        _meta("pcm", params, seed),
    )
    return out


def switching(seed: int = 3, n: int = 100) -> Path:
    """SET switching of fresh HRS binary-RRAM devices: n devices per (voltage, width) condition."""
    rng = np.random.default_rng(seed)
    model = load_preset("rram-binary")
    v, w = (a.ravel() for a in np.meshgrid(np.linspace(0.7, 1.1, 9), [3e-9, 30e-9, 300e-9, 3e-6, 30e-6]))
    k = [model.pulse(model.program(np.zeros(n), rng), 1, vi, wi, rng).per_device["lrs"].sum() for vi, wi in zip(v, w)]
    data = {"voltage": v, "width": w, "n_trials": np.full(len(v), float(n)), "n_switched": np.array(k, float)}
    c = model.config
    params = (
        f"rram-binary preset: v_set={c.v_set} V, v_set_dtod={c.v_set_dtod} V, v0={c.v0} V, beta={c.beta}, "
        f"t_ref={c.t_ref} s"
    )
    out = HERE / "rram_switching.csv"
    save_csv(
        Measurement("switching", data, "generated", _rows(len(v))),
        out,
        {"voltage": "V", "width": "ns"},
        {**_meta("rram-binary", params, seed), "transition": "set"},
    )
    return out


def fefet(seed: int = 4, per_amp: int = 8) -> Path:
    """FeFET V_T after one 1 µs gate pulse from the erased state; 16 amplitudes x per_amp fresh devices; 10 mV noise."""
    rng = np.random.default_rng(seed)
    model = load_preset("fefet")
    amps = np.repeat(np.linspace(1.0, 4.0, 16), per_amp)
    width = np.full(len(amps), 1e-6)
    st = model.pulse(model.program(np.full(len(amps), model.g_min), rng), 1, amps, width, rng)
    vt = threshold_voltage(model.polarization(st), model.config) + 0.01 * rng.standard_normal(len(amps))
    c = model.config
    params = (
        f"fefet preset: n_domains={c.n_domains}, ea_mean={c.ea_mean} V, ea_std={c.ea_std} V, "
        f"v_t0={c.v_t0} V, memory_window={c.memory_window} V; V_T measurement noise 0.01 V"
    )
    out = HERE / "fefet_vt_amplitude.csv"
    m = Measurement("fefet", {"amplitude": amps, "width": width, "vt": vt}, "generated", _rows(len(amps)))
    save_csv(m, out, {"amplitude": "V", "width": "us", "vt": "V"}, _meta("fefet", params, seed))
    return out


def pulse(seed: int = 5, n_seq: int = 2, n_pulses: int = 60) -> Path:
    """Soft-bounds ReRAM: n_seq devices, n_pulses potentiating then n_pulses depressing pulses, read after each."""
    rng = np.random.default_rng(seed)
    upd = {
        "dw_min": 0.02,
        "dw_min_dtod": 0.0,
        "w_min_dtod": 0.0,
        "w_max_dtod": 0.0,
        "up_down_dtod": 0.0,
        "dw_min_std": 0.5,
    }
    model = load_preset("reram-sb", write_noise_std=1.0, update=upd)
    data = simulate_pulse_trains(model, rng, n_seq, n_pulses)
    params = f"reram-sb preset with write_noise_std=1.0 and update overrides {upd}"
    out = HERE / "reram_pulse.csv"
    m = Measurement("pulse", data, "generated", _rows(data["g"].size))
    save_csv(m, out, {"g": "uS"}, _meta("reram-sb", params, seed))
    return out


def main() -> None:
    for gen in (programming, drift, switching, fefet, pulse):
        print(f"wrote {gen()}")


if __name__ == "__main__":
    main()
