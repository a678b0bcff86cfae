"""Experiments that reproduce the TEXEL measurements and simulations (docs/texel.md §5, checklist docs/texel.md §6).

Each function builds small chips, runs them and returns plain arrays in a dict; ``plots.py``
draws them; ``aimc chip EXPERIMENT`` runs both. Sizes are parameters so tests can run them small.
"""

from __future__ import annotations

import numpy as np

from chip_models.texel.aer import SpikeInput
from chip_models.texel.chip import Probes, TexelChip
from chip_models.texel.config import TexelConfig
from chip_models.texel.energy import energy_report
from chip_models.texel.readout import epsc_charge, read_fraction

STRONG = 500e-9  # static weight current (A) that makes one EPSC give one post spike
DRIFT_OFF = {"alpha": 0.0, "beta": 0.0}


def _cfg(neurons: int = 1, plastic: int = 1, static_w: tuple[float, ...] = (STRONG,), **sections) -> TexelConfig:
    base = {
        "inventory": {
            "cores": 1,
            "neurons_per_core": neurons,
            "plastic_per_neuron": plastic,
            "static_per_neuron": len(static_w),
        },
        "synapse": {"static_weights": list(static_w)},
        "mismatch": {"sigma_ln": 0.0},
    }
    for k, v in sections.items():
        base[k] = {**base.get(k, {}), **v}
    return TexelConfig.default(**base)


def _events(t, neuron, synapse) -> SpikeInput:
    t = np.asarray(t, dtype=float)
    order = np.argsort(t, kind="stable")
    n = np.broadcast_to(np.asarray(neuron, dtype=np.int64), t.shape)[order]
    s = np.broadcast_to(np.asarray(synapse, dtype=np.int64), t.shape)[order]
    return SpikeInput(t[order], np.zeros(t.size, dtype=np.int64), n, s)


def _poisson(rate: float, duration: float, rng: np.random.Generator) -> np.ndarray:
    return np.sort(rng.uniform(0.0, duration, rng.poisson(rate * duration)))


# ---------------------------------------------------------------------------- checklist 2
def adaptation(
    rng: np.random.Generator, currents: tuple[float, ...] = (30e-9, 40e-9, 60e-9, 100e-9, 200e-9), duration: float = 1.0
) -> dict:
    """DC step into one neuron (checklist 2): instantaneous rate vs time, and the f–I curve."""
    out = {"currents": np.array(currents), "f0": [], "fss": [], "trains": []}
    for i_dc in currents:
        chip = TexelChip(_cfg(), rng)
        chip.set_dc(0, i_dc)
        st = chip.run(None, duration).spike_t
        rate = 1.0 / np.diff(st) if st.size > 1 else np.zeros(0)
        out["trains"].append(st)
        out["f0"].append(rate.max() if rate.size else 0.0)
        out["fss"].append(rate[-1] if rate.size else 0.0)
    out["f0"], out["fss"] = np.array(out["f0"]), np.array(out["fss"])
    out["t_ref"] = TexelConfig.default().neuron.t_ref
    return out


# ---------------------------------------------------------------------------- checklist 3
def trace_gating(rng: np.random.Generator, duration: float = 1.6, theta_ca_low: float = 0.05) -> dict:
    """F3a: a 20 Hz presynaptic train and EPSC-driven post bursts; traces probed every 0.5 ms."""
    bursts = [(0.2, 0.45), (0.9, 1.15)]
    chip = TexelChip(_cfg(learning={**DRIFT_OFF, "theta_ca_low": theta_ca_low}), rng)
    pre = np.arange(0.01, duration, 0.05)
    post_drive = np.concatenate([np.arange(a, b, 1 / 60.0) for a, b in bursts])
    inp = SpikeInput.concat([_events(pre, 0, 0), _events(post_drive, 0, 1)])
    res = chip.run(inp, duration, probes=Probes(np.arange(0.0, duration, 5e-4), 0, 0))
    return {
        "bursts": np.array(bursts),
        "pre": pre,
        "post": res.spike_t,
        "probes": res.probes,
        "theta_ca_low": theta_ca_low,
    }


# ---------------------------------------------------------------------------- checklist 4, 5
def stdp(rng: np.random.Generator, dts: np.ndarray | None = None, **learning) -> dict:
    """Isolated pairs (F3b/c): Δρ on the analog weight vs Δt = t_pre − t_post, drift off.

    One post spike is evoked by a strong static EPSC; the pre spike is placed Δt after the
    measured post-spike time. ``learning`` overrides rule biases (e.g. ``rho_neg=0``)."""
    dts = np.linspace(-0.1, 0.1, 81) if dts is None else np.asarray(dts, dtype=float)
    cfg = _cfg(learning={**DRIFT_OFF, **learning})
    t_drive = 0.3
    probe = TexelChip(cfg, rng)
    t_post = probe.run(_events([t_drive], 0, 1), 0.6).spike_t[0]
    actual, drho, n_post = [], [], []
    for dt in dts:
        chip = TexelChip(cfg, rng)
        rho0 = chip.rho[0]
        ev = SpikeInput.concat([_events([t_drive], 0, 1), _events([t_post + dt], 0, 0)])
        res = chip.run(ev, 0.7)
        n_post.append(res.spike_t.size)
        actual.append(t_post + dt - res.spike_t[0])
        drho.append(res.rho[0] - rho0)
    return {
        "dt_set": dts,
        "dt": np.array(actual),
        "drho": np.array(drho),
        "n_post": np.array(n_post),
        "cfg": cfg.learning,
    }


# ---------------------------------------------------------------------------- checklist 6
def srdp(
    rng: np.random.Generator,
    rates_pre: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0),
    rates_post: tuple[float, ...] = (0.0, 20.0, 40.0, 60.0, 80.0, 100.0),
    trials: int = 20,
    duration: float = 1.0,
    theta_ca_high: float | None = None,
    warmup: float = 0.3,
) -> dict:
    """F3d: P(transition) vs (ν_pre, ν_post) from both initial states; one neuron per trial, all in one run.

    The post drive starts ``warmup`` seconds before the pre train so that the Ca trace (and its
    gate) is at its steady state when pairing starts (no update can happen without pre spikes)."""
    n_pre, n_post = len(rates_pre), len(rates_post)
    n = n_pre * n_post * 2 * trials
    cfg = _cfg(neurons=n, learning={"theta_ca_high": theta_ca_high})
    chip = TexelChip(cfg, rng)
    idx = np.arange(n).reshape(n_pre, n_post, 2, trials)
    rho0 = np.zeros((n, 1))
    rho0[idx[:, :, 1].ravel()] = 1.0
    chip.set_rho(rho0)
    parts = []
    for a, nu_pre in enumerate(rates_pre):
        for b, nu_post in enumerate(rates_post):
            for k in idx[a, b].ravel():
                parts.append(_events(warmup + _poisson(nu_pre, duration, rng), k, 0))
                parts.append(_events(_poisson(nu_post, duration + warmup, rng), k, 1))
    res = chip.run(SpikeInput.concat(parts), duration + warmup)
    high = res.weights[:, 0]
    p_up = (high[idx[:, :, 0]]).mean(axis=-1)
    p_down = (~high[idx[:, :, 1]]).mean(axis=-1)
    post_rate = np.bincount(res.spike_neuron, minlength=n)[idx].mean(axis=(-1, -2)) / (duration + warmup)
    return {
        "rates_pre": np.array(rates_pre),
        "rates_post": np.array(rates_post),
        "p_up": p_up,
        "p_down": p_down,
        "post_rate": post_rate,
        "theta_ca_high": theta_ca_high,
    }


# ---------------------------------------------------------------------------- checklist 7
def retention(rng: np.random.Generator, rho0: tuple[float, ...] = (0.05, 0.3, 0.45, 0.55, 0.7, 0.95)) -> dict:
    """Bistable drift after a partial update, then a simulated power cycle with binary devices."""
    p = len(rho0)
    chip = TexelChip(_cfg(plastic=p, devices={"kind": "binary"}), rng)
    chip.set_rho(np.array([rho0]))
    times = np.linspace(0.0, 1.0, 101)
    traj = [chip.rho.copy()]
    for t in times[1:]:
        chip.run(None, t - chip.now)
        traj.append(chip.rho.copy())
    chip.parallel_write()
    before = chip.weights()[0].copy()
    chip.set_rho(np.full((1, p), 0.5))  # power lost: the capacitors are gone
    after = chip.power_cycle()[0]
    return {"t": times, "rho": np.array(traj), "rho0": np.array(rho0), "before": before, "after": after}


# ---------------------------------------------------------------------------- checklist 8, 9
def read_sweep(c_devs: tuple[float, ...] = (0.0, 100e-15)) -> dict:
    """F4b: R_pos = 1 GΩ, T = 500 µs, R_neg swept 0.1–100 GΩ; output as a fraction of norm_bias."""
    cfg = TexelConfig.default(read={"i_floor": 0.0})
    r_neg = np.logspace(8, 11, 121)
    out = {"r_neg": r_neg, "c_dev": np.array(c_devs)}
    out["ratio"] = np.array([read_fraction(1e9, r_neg, c, cfg.read) for c in c_devs])
    hard = cfg.read.replace(law="hard_threshold")
    out["hard"] = read_fraction(1e9, r_neg, 100e-15, hard)
    return out


def compatibility_map(n: int = 41) -> dict:
    """F4c/d: high-state output vs device capacitance and on/off ratio at R_on = 1 GΩ (I_floor 1 pA)."""
    cfg = TexelConfig.default()
    c = np.logspace(-15, -10, n)
    ratio = np.logspace(0, 3, n)
    cc, rr = np.meshgrid(c, ratio, indexing="ij")
    out = read_fraction(1e9, 1e9 * rr, cc, cfg.read)
    return {"c_dev": c, "on_off": ratio, "out": out, "t_read": cfg.read.t_read, "ref": (100e-15, 100.0)}


# ---------------------------------------------------------------------------- checklist 10
FEFET_4V = {"kind": "fefet", "set_amplitude": 4.0, "reset_amplitude": 4.0}  # Dutta et al. 2022 scheme: up to 4 V, 1 us


def _cycle(devices: dict, n_cycles: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, float]:
    """POT/DEP cycles of one synapse, one read spike after every write; EPSC charge per read."""
    cfg = _cfg(devices=devices, learning={"plastic_enable": False})
    chip = TexelChip(cfg, rng)
    q = {True: [], False: []}
    for k in range(2 * n_cycles):
        high = k % 2 == 0
        chip.set_rho(np.array([[1.0 if high else 0.0]]))
        chip.parallel_write()
        chip.run(_events([chip.now + 1e-3], 0, 0), 0.01)
        frac = chip.device_read()[0, 0]
        q[high].append(epsc_charge(frac, cfg.read.norm_bias, cfg.synapse.gain_ratio, cfg.read.t_read))
    return np.array(q[True]), np.array(q[False]), chip.ledger.total("device_write")


def write_cycling(
    rng: np.random.Generator,
    n_cycles: int = 200,
    sigmas: tuple[float, ...] = (0.3, 1.0, 2.0),
    presets: tuple[dict, ...] = ({"kind": "rram-binary"}, FEFET_4V),
) -> dict:
    """F5: alternate POT and DEP on one synapse's device pair, one presynaptic read spike after
    each write; the EPSC charge Q = (I_gain/I_tau)·I_norm·T_read per read spike. First with the
    socket's binary device at each σ_C2C, then with the ``device_models`` presets (2-terminal
    RRAM SET/RESET, 3-terminal FeFET gate pulses) mapped onto the F4 reference window."""
    runs = [_cycle({"kind": "binary", "sigma_c2c": sg}, n_cycles, rng) for sg in sigmas]
    pre = [_cycle(d, n_cycles, rng) for d in presets]
    return {
        "sigmas": np.array(sigmas),
        "q_high": np.array([r[0] for r in runs]),
        "q_low": np.array([r[1] for r in runs]),
        "writes": [r[2] for r in runs],
        "preset_labels": [d["kind"] for d in presets],
        "q_preset_high": np.array([r[0] for r in pre]).reshape(len(pre), -1),
        "q_preset_low": np.array([r[1] for r in pre]).reshape(len(pre), -1),
    }


# ---------------------------------------------------------------------------- checklist 11
def energy(rng: np.random.Generator, rate: float = 80.0, duration: float = 1.0) -> dict:
    """All neurons DC-driven near ``rate`` Hz; energy from the ledger and the docs/texel.md §5 prices."""
    one = _cfg(neuron={"adaptation": False}, static_w=(0.0, 0.0, 0.0, 0.0))
    lo, hi = 20e-9, 300e-9
    for _ in range(14):  # bisection of the DC current on one identical neuron
        mid = 0.5 * (lo + hi)
        chip = TexelChip(one, rng)
        chip.set_dc(0, mid)
        lo, hi = (mid, hi) if chip.run(None, duration).spike_t.size < rate * duration else (lo, mid)
    cfg = TexelConfig.default(mismatch={"sigma_ln": 0.0}, neuron={"adaptation": False})
    chip = TexelChip(cfg, rng)
    chip.set_dc(np.arange(chip.n_neurons), hi)
    res = chip.run(None, duration)
    rep = energy_report(chip.ledger, duration, cfg.energy)
    expected = cfg.energy.static_power + cfg.inventory.neurons * rate * cfg.energy.e_spike
    return {"report": rep, "spikes": res.spike_t.size, "expected_power": expected, "rate": rate, "i_dc": hi}


# ---------------------------------------------------------------------------- checklist 12
def vsa(
    rng: np.random.Generator,
    per_pop: int = 8,
    items_per_set: int = 3,
    k_active: int = 6,
    rate_train: float = 50.0,
    rate_teacher: float = 150.0,
    rate_test: float = 100.0,
    t_item: float = 0.5,
    epochs: int = 2,
    devices: dict | None = None,
    n_test: int = 1,
    theta_response: float = 5.0,
) -> dict:
    """ON demo: two populations learn two sets of sparse 54-dim vectors with a teacher.

    Item vectors are k-hot over the 54 plastic inputs, drawn without shared components; a probe
    item is drawn from the unused components. Training: each item's active inputs fire Poisson
    trains at ``rate_train`` while the population of its set is driven by a teacher (static synapse,
    Poisson at ``rate_teacher``, the high-ν_post corner of the SRDP map); the other population
    receives the item without teacher. Test: learning off, no teacher, inputs at ``rate_test``,
    each item (in-set ones and the probe) presented ``n_test`` times. A population responds when
    its mean rate exceeds ``theta_response`` Hz; a presentation is correct when exactly the
    population of its set responds (none for the probe), the criterion of checklist 12.

    ``devices``: a ``devices`` config section; with it the chip runs in device mode (read spikes
    through the normaliser, POT/DEP pulses on every flip of a binary weight) and the learned
    weights are the devices' binary states [I_pos > I_neg], else the capacitor readout [ρ > θ_ρ]."""
    p = 54
    sections = {"learning": {"alpha": 1.0, "beta": 1.0}}
    if devices is not None:
        sections["devices"] = devices
    cfg = _cfg(neurons=2 * per_pop, plastic=p, **sections)
    perm = rng.permutation(p)
    n_items = 2 * items_per_set + 1
    if n_items * k_active > p:
        raise ValueError("k_active too large for disjoint items")
    items = [perm[i * k_active : (i + 1) * k_active] for i in range(n_items)]
    sets = [items[:items_per_set], items[items_per_set : 2 * items_per_set]]
    probe_item = items[-1]
    chip = TexelChip(cfg, rng)
    chip.set_rho(np.zeros((2 * per_pop, p)))
    pops = [np.arange(per_pop), np.arange(per_pop, 2 * per_pop)]

    def present(item, teacher_pop, t0, rate):
        parts = []
        for nrn in range(2 * per_pop):
            for s in item:
                parts.append(_events(t0 + _poisson(rate, t_item, rng), nrn, s))
        if teacher_pop is not None:
            for nrn in pops[teacher_pop]:
                parts.append(_events(t0 + _poisson(rate_teacher, t_item, rng), nrn, p))
        return SpikeInput.concat(parts)

    def pop_rates(item) -> list[float]:
        res = chip.run(present(item, None, chip.now + 1e-6, rate_test), t_item + 0.2)
        counts = np.bincount(res.spike_neuron, minlength=2 * per_pop)
        return [counts[pops[0]].mean() / t_item, counts[pops[1]].mean() / t_item]

    for _ in range(epochs):
        for which in (0, 1):
            for item in sets[which]:
                chip.run(present(item, which, chip.now + 1e-6, rate_train), t_item + 0.3)
    learned = chip.weights().copy() if devices is None else chip.device_read() > 0.0
    chip.set_plastic_enable(False)
    responses, labels, correct = [], [], []
    tests = [(item, which, f"{'AB'[which]}{k + 1}") for which in (0, 1) for k, item in enumerate(sets[which])]
    for rep in range(n_test):
        for item, which, label in tests + [(probe_item, None, "out")]:
            r = pop_rates(item)
            wanted = [which == 0, which == 1]
            correct.append([rate > theta_response for rate in r] == wanted)
            if rep == 0:
                responses.append(r)
                labels.append(label)
    return {
        "responses": np.array(responses),
        "labels": labels,
        "weights": learned,
        "rho_weights": chip.weights().copy(),
        "sets": sets,
        "probe": probe_item,
        "accuracy": float(np.mean(correct)),
        "device_writes": chip.ledger.total("device_write"),
    }
