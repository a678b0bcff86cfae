"""TEXEL chip: inventory (checklist 1), energy (11), bistability/power cycle (7), bad AER input.

Checklist of docs/texel.md §6; numbers from ON (Open Neuromorphic TEXEL entry) and F4 (Greatorex et al.,
Nat. Commun. 16, 2025).
"""

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from chip_models.texel import AerError, SpikeInput, TexelChip, TexelConfig, energy_report
from chip_models.texel import _kernels as K


def small(**sections):
    base = {
        "inventory": {"cores": 1, "neurons_per_core": 2, "plastic_per_neuron": 3, "static_per_neuron": 1},
        "synapse": {"static_weights": [500e-9]},
        "mismatch": {"sigma_ln": 0.0},
    }
    for k, v in sections.items():
        base[k] = {**base.get(k, {}), **v}
    return TexelConfig.default(**base)


def test_checklist1_inventory_and_parallel_write(rng):
    """TEXEL-1: 2 x 90 neurons, 54 + 4 synapses each, 10 440 synapses, 19 440 device sites, one parallel write."""
    cfg = TexelConfig.default(devices={"kind": "binary"})
    inv = cfg.inventory
    assert (inv.cores, inv.neurons_per_core, inv.neurons) == (2, 90, 180)
    assert (inv.plastic_per_neuron, inv.static_per_neuron, inv.synapses_per_neuron) == (54, 4, 58)
    assert (inv.plastic_synapses, inv.static_synapses, inv.synapses) == (9720, 720, 10440)
    assert inv.device_sites == 19440
    assert (inv.config_arrays_per_core, inv.config_word_bits, inv.bias_dac_bits) == (64, 23, 12)
    assert (inv.die_area, inv.core_area) == (67.5e-6, 44.98e-6)
    chip = TexelChip(cfg, rng)
    assert chip.sockets.n == 9720 and chip.sockets.resistances()[0].shape == (9720,)
    assert chip.parallel_write() == 9720
    assert chip.ledger.total("parallel_write") == 1
    assert chip.ledger.total("device_write") == 19440


def test_checklist11_energy_numbers_exact():
    """TEXEL-11 / E-1: 27.4 uW static + 180 x 80 Hz x 25.9 pJ = 27.77 uW (model consistency)."""
    cfg = TexelConfig.default()
    assert cfg.energy.static_power == 27.4e-6
    assert cfg.energy.e_spike == 25.9e-12
    assert cfg.energy.e_synaptic_event == 0.0 and cfg.energy.e_router_event == 0.0
    from aimc_sim.cost import Ledger

    led = Ledger()
    led.add("neuron_spike", 180 * 80)
    rep = energy_report(led, 1.0, cfg.energy)
    assert rep["total"] == pytest.approx(27.4e-6 + 180 * 80 * 25.9e-12, rel=1e-15)
    assert rep["total"] == pytest.approx(27.77e-6, abs=0.005e-6)
    assert rep["static"] > 50 * rep["spikes"]


def test_checklist11_energy_of_a_running_chip(rng):
    """TEXEL-11 on the simulated chip: 180 DC-driven neurons near 80 Hz for 1 s."""
    cfg = TexelConfig.default(mismatch={"sigma_ln": 0.0}, neuron={"adaptation": False})
    probe = TexelChip(
        TexelConfig.default(
            inventory={"cores": 1, "neurons_per_core": 1}, mismatch={"sigma_ln": 0.0}, neuron={"adaptation": False}
        ),
        rng,
    )
    lo, hi = 20e-9, 200e-9  # bisection on the DC current of one identical neuron for 80 Hz
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        one = TexelChip(probe.config, rng)
        one.set_dc(0, mid)
        n = len(one.run(None, 1.0).spike_t)
        lo, hi = (mid, hi) if n < 80 else (lo, mid)
    chip = TexelChip(cfg, rng)
    chip.set_dc(np.arange(180), hi)
    res = chip.run(None, 1.0)
    n_spk = len(res.spike_t)
    assert abs(n_spk - 180 * 80) <= 180 * 2
    rep = energy_report(chip.ledger, 1.0, cfg.energy)
    assert rep["power"] == pytest.approx(27.4e-6 + n_spk * 25.9e-12, rel=1e-12)
    assert rep["power"] == pytest.approx(27.77e-6, abs=0.02e-6)
    assert chip.ledger.total("neuron_spike") == n_spk == chip.ledger.total("router_event")


def test_checklist7_bistable_drift_and_readout(rng):
    """TEXEL-7: without activity rho drifts to 1 above theta at alpha/tau_rho, to 0 below at beta/tau_rho."""
    cfg = small(learning={"alpha": 0.5, "beta": 0.25, "tau_rho": 2.0})
    chip = TexelChip(cfg, rng)
    rho0 = np.array([[0.49, 0.5, 0.51], [0.1, 0.9, 0.55]])
    chip.set_rho(rho0)
    w0 = chip.weights().copy()
    for t in (0.2, 0.5, 1.0, 4.0, 9.0):
        chip.run(None, t - chip.now)
        rho = chip.rho.reshape(2, 3)
        exp = np.where(rho0 > 0.5, np.minimum(1.0, rho0 + 0.5 * t / 2.0), np.maximum(0.0, rho0 - 0.25 * t / 2.0))
        np.testing.assert_allclose(rho, exp, rtol=0, atol=1e-12)
        assert np.array_equal(chip.weights(), w0)  # the readout never changes without crossing theta
    assert np.array_equal(chip.rho.reshape(2, 3), np.where(rho0 > 0.5, 1.0, 0.0))


def test_checklist7_state_survives_power_cycle(rng):
    """TEXEL-7: with devices, a power cycle resets the capacitors and restores them from the devices."""
    chip = TexelChip(small(devices={"kind": "binary"}), rng)
    rho = np.array([[0.9, 0.1, 0.7], [0.2, 0.6, 0.3]])
    chip.set_rho(rho)
    chip.parallel_write()
    chip.set_rho(np.full((2, 3), 0.5))  # capacitor disturbed / lost
    restored = chip.power_cycle()
    assert np.array_equal(restored, rho > 0.5)
    assert np.array_equal(chip.rho.reshape(2, 3), (rho > 0.5).astype(float))


def snapshot(chip):
    return (chip.now, chip.ns.copy(), chip.rho.copy(), chip.x_pre.copy(), chip.t_syn.copy(), chip.counters.copy())


def assert_same(a, b):
    assert a[0] == b[0]
    for x, y in zip(a[1:], b[1:]):
        assert np.array_equal(x, y)


@pytest.mark.parametrize(
    "field,inp,match",
    [
        (
            "core",
            SpikeInput(np.array([0.1]), np.array([1]), np.array([0]), np.array([0])),
            r"inputs\.core\[0\]: .*0\.\.0, got 1",
        ),
        (
            "neuron",
            SpikeInput(np.array([0.1]), np.array([0]), np.array([5]), np.array([0])),
            r"inputs\.neuron\[0\]: .*0\.\.1, got 5",
        ),
        (
            "synapse",
            SpikeInput(np.array([0.1, 0.2]), np.array([0, 0]), np.array([0, 1]), np.array([0, 4])),
            r"inputs\.synapse\[1\]: address must be an integer in 0\.\.3, got 4",
        ),
        (
            "negative",
            SpikeInput(np.array([-0.1]), np.array([0]), np.array([0]), np.array([0])),
            r"inputs\.t\[0\]: .*>= 0 s",
        ),
        (
            "order",
            SpikeInput(np.array([0.2, 0.1]), np.array([0, 0]), np.array([0, 0]), np.array([0, 0])),
            r"inputs\.t\[1\]: events must be in time order",
        ),
        (
            "nan",
            SpikeInput(np.array([np.nan]), np.array([0]), np.array([0]), np.array([0])),
            r"inputs\.t\[0\]: .*finite",
        ),
    ],
)
def test_bad_aer_input_is_rejected_and_state_is_kept(rng, field, inp, match):
    """Out-of-range addresses, negative or unordered times: clear AerError, chip state unchanged."""
    chip = TexelChip(small(), rng)
    chip.set_dc(0, 40e-9)
    chip.run(SpikeInput(np.array([0.05]), np.array([0]), np.array([1]), np.array([3])), 0.1)
    before = snapshot(chip)
    with pytest.raises(AerError, match=match):
        chip.run(inp if field not in ("order", "nan") else inp, 0.5)
    assert_same(before, snapshot(chip))
    chip.run(SpikeInput(np.array([0.15]), np.array([0]), np.array([1]), np.array([3])), 0.1)  # still usable


def test_event_earlier_than_chip_time_is_rejected(rng):
    chip = TexelChip(small(), rng)
    chip.run(None, 0.3)
    before = snapshot(chip)
    with pytest.raises(AerError, match=r"inputs\.t\[0\]: event at 0\.1 s is earlier than the chip's current time"):
        chip.run(SpikeInput(np.array([0.1]), np.array([0]), np.array([0]), np.array([0])), 0.1)
    with pytest.raises(AerError, match=r"after the end of this run"):
        chip.run(SpikeInput(np.array([0.35, 0.9]), np.array([0, 0]), np.array([0, 0]), np.array([0, 0])), 0.1)
    assert_same(before, snapshot(chip))


def test_bad_config_and_arguments_name_the_field(rng):
    with pytest.raises(ConfigError, match=r"^inventory\.cores: must be an integer in 1\.\.4096, got 0$"):
        TexelConfig.default(inventory={"cores": 0})
    with pytest.raises(ConfigError, match=r"synapse\.static_weights: must have inventory\.static_per_neuron = 2"):
        TexelConfig.default(inventory={"static_per_neuron": 2})
    with pytest.raises(ConfigError, match=r"learning\.theta_rho: must be a finite number in \(0, 1\)"):
        TexelConfig.default(learning={"theta_rho": 1.0})
    with pytest.raises(ConfigError, match=r"devices\.r_off: must be > r_on"):
        TexelConfig.default(devices={"r_off": 1e8})
    chip = TexelChip(small(), rng)
    with pytest.raises(ConfigError, match=r"^duration: must be a finite number > 0 s"):
        chip.run(None, -1.0)
    with pytest.raises(ConfigError, match=r"^neurons: must be integer neuron indices in 0\.\.1"):
        chip.set_dc(7, 1e-9)
    with pytest.raises(ConfigError, match=r"^devices\.kind: parallel_write needs devices"):
        chip.parallel_write()
    with pytest.raises(ConfigError, match=r"^rng: must be a numpy\.random\.Generator"):
        TexelChip(small(), None)


def test_output_arbiter_serialises_simultaneous_spikes(rng):
    """Router/arbiter: spikes of two cores at the same time leave one service time apart (simpy.Resource)."""
    cfg = small(
        inventory={"cores": 2, "neurons_per_core": 1},
        aer={"output_service_time": 1e-4, "output_latency": 2e-6},
    )
    chip = TexelChip(cfg, rng)
    inp = SpikeInput(np.array([0.01, 0.01]), np.array([0, 1]), np.array([0, 0]), np.array([3, 3]))
    res = chip.run(inp, 0.2)
    assert len(res.spike_t) == 2 and res.spike_t[0] == res.spike_t[1]
    assert np.allclose(np.diff(res.out_t), 1e-4)
    assert res.out_t[0] == pytest.approx(res.spike_t[0] + 1e-4 + 2e-6)


def test_fifo_input_bus_matches_simpy_resource(rng):
    """K-1 for ``fifo_departures``: the Lindley recursion equals a simpy.Resource FIFO queue."""
    import simpy

    arr = np.sort(rng.uniform(0, 1e-3, 200))
    s = 7e-6
    env = simpy.Environment()
    res = simpy.Resource(env, capacity=1)
    out = np.empty_like(arr)

    def job(i):
        yield env.timeout(arr[i])
        with res.request() as req:
            yield req
            yield env.timeout(s)
        out[i] = env.now

    for i in range(arr.size):
        env.process(job(i))
    env.run()
    np.testing.assert_allclose(K.fifo_departures(arr, s), out, rtol=0, atol=1e-15)


def test_mismatch_is_frozen_seeded_and_switchable():
    """Mismatch (docs/circuits.md §2): log-normal per-instance factors, σ(ln τ) ≈ σ_ln, same seed → same chip."""
    cfg = TexelConfig.default(inventory={"cores": 4, "neurons_per_core": 250, "plastic_per_neuron": 4})
    a = TexelChip(cfg, np.random.default_rng(3))
    b = TexelChip(cfg, np.random.default_rng(3))
    assert np.array_equal(a.npar, b.npar) and np.array_equal(a.jump_cap, b.jump_cap)
    assert np.std(np.log(a.npar[:, K.TAU_MEM])) == pytest.approx(0.1, abs=0.01)
    assert np.std(np.log(a.tau_pre)) == pytest.approx(0.1, abs=0.01)
    off = TexelChip(TexelConfig.default(mismatch={"sigma_ln": 0.0}), np.random.default_rng(3))
    assert np.ptp(off.npar, axis=0).max() == 0.0 and np.ptp(off.tau_pre) == 0.0


def test_ledger_counts_every_event(rng):
    """Ledger: one synaptic_event per delivered input, one neuron_spike and router_event per output spike."""
    from chip_models.texel import poisson_input

    cfg = TexelConfig.default(inventory={"cores": 2, "neurons_per_core": 4, "plastic_per_neuron": 10})
    chip = TexelChip(cfg, rng)
    chip.set_rho(np.ones((8, 10)))
    inp = poisson_input(60.0, 0.5, 0.0, cfg.inventory, rng, plastic_only=False)
    res = chip.run(inp, 0.5)
    assert chip.ledger.total("synaptic_event") == len(inp) == res.counts["plastic_events"] + res.counts["static_events"]
    assert chip.ledger.total("neuron_spike") == res.spike_t.size == chip.ledger.total("router_event") > 0
    assert set(chip.ledger.layers()) == {"texel"}
