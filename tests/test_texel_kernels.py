"""K-1 for the chip kernels: ``run_events``/``advance_neuron``/``flush_active`` against a plain-python
reference event loop that uses the numpy learning rule of ``chip_models.texel.learning``."""

import math

import numpy as np
import pytest

from chip_models.texel import SpikeInput, TexelChip, TexelConfig
from chip_models.texel import _kernels as K
from chip_models.texel import learning as L


class RefChip:
    """Plain-python re-statement of the chip semantics (one neuron advance at a time)."""

    def __init__(self, chip: TexelChip):
        self.c = chip.config.learning
        self.npar = chip.npar.copy()
        self.ns = chip.ns.copy()
        self.x_pre = chip.x_pre.copy()
        self.rho = chip.rho.copy()
        self.importance = chip.importance.copy()
        self.t_syn = chip.t_syn.copy()
        self.tau_pre = chip.tau_pre.copy()
        self.jump_cap = chip.jump_cap.copy()
        self.jump_static = chip.jump_static.copy()
        self.p, self.s = chip.n_plastic, chip.n_static
        self.spikes = []

    def sync(self, j, t):
        dt = t - self.t_syn[j]
        if dt > 0:
            self.x_pre[j] = float(L.decay(self.x_pre[j], dt, self.tau_pre[j]))
            self.rho[j] = float(L.drift(self.rho[j], dt, self.c))
            self.t_syn[j] = t

    def decay(self, n, dt):
        q, s = self.npar[n], self.ns[n]
        e = math.exp(-dt / q[K.TAU_SYN])
        s[K.I_EXC] *= e
        s[K.I_INH] *= e
        s[K.I_AHP] *= math.exp(-dt / q[K.TAU_AHP])
        s[K.X_POST] *= math.exp(-dt / q[K.TAU_POST])
        s[K.X_CA] *= math.exp(-dt / q[K.TAU_CA])

    def drive(self, n, i_mem, s, q):
        i_inf = q[K.I_GAIN] / q[K.I_TAU] * (s[K.I_DC] + s[K.I_EXC] - s[K.I_INH] - s[K.I_AHP] - q[K.I_TAU])
        fb = 0.0
        if q[K.I_A_GAIN] > 0:
            i_a = q[K.I_A_GAIN] / (1.0 + math.exp(-(i_mem - q[K.I_A_TH]) / q[K.I_A_NORM]))
            fb = i_a / q[K.I_TAU] * (i_mem + q[K.I_GAIN])
        return i_inf + fb, 1.0 + s[K.I_AHP] / q[K.I_TAU]

    def asleep(self, n):
        q, s = self.npar[n], self.ns[n]
        if s[K.I_MEM] > q[K.I_SLEEP]:
            return False
        i_inf = q[K.I_GAIN] / q[K.I_TAU] * (s[K.I_DC] + s[K.I_EXC] - q[K.I_TAU])
        fb = 0.0
        if q[K.I_A_GAIN] > 0:
            fl = q[K.I_SLEEP]
            fb = q[K.I_A_GAIN] / (1.0 + math.exp(-(fl - q[K.I_A_TH]) / q[K.I_A_NORM])) / q[K.I_TAU] * (fl + q[K.I_GAIN])
        return i_inf + fb <= q[K.I_SLEEP]

    def post_spike(self, n, t):
        s = self.ns[n]
        base = n * self.p
        for k in range(self.p):
            self.sync(base + k, t)
        sl = slice(base, base + self.p)
        self.rho[sl], self.importance[sl], s[K.X_POST], s[K.X_CA] = L.on_post(
            self.x_pre[sl], self.rho[sl], self.importance[sl], s[K.X_POST], s[K.X_CA], self.c
        )

    def advance(self, n, t):
        q, s = self.npar[n], self.ns[n]
        t0 = s[K.T]
        while t0 < t:
            if s[K.REF_UNTIL] > t0:
                te = min(s[K.REF_UNTIL], t)
                self.decay(n, te - t0)
                s[K.I_MEM] = q[K.I_RESET]
                t0 = te
                continue
            if self.asleep(n):
                self.decay(n, t - t0)
                break
            i_mem = s[K.I_MEM]
            drive, leak = self.drive(n, i_mem, s, q)
            rate = i_mem / (q[K.TAU_MEM] * (i_mem + q[K.I_GAIN]))
            h = min(q[K.DT_MAX], t - t0)
            slope = abs(rate * (drive - i_mem * leak))
            if slope * h > i_mem:
                h = min(max(i_mem / slope, 1e-9), t - t0)
            i_eq = drive / leak
            i_new = i_eq + (i_mem - i_eq) * math.exp(-rate * leak * h)
            if i_new > q[K.I_SPKTHR]:
                h *= (q[K.I_SPKTHR] - i_mem) / (i_new - i_mem)
            s[K.I_MEM] = max(i_new, q[K.I_ZERO])
            self.decay(n, h)
            t0 += h
            if s[K.I_MEM] > q[K.I_SPKTHR]:
                self.spikes.append((t0, n))
                s[K.I_MEM] = q[K.I_RESET]
                s[K.REF_UNTIL] = t0 + q[K.T_REF]
                s[K.I_AHP] += q[K.AHP_JUMP]
                self.post_spike(n, t0)
        s[K.T] = max(s[K.T], t)

    def event(self, t, n, syn):
        self.advance(n, t)
        s = self.ns[n]
        if syn < self.p:
            j = n * self.p + syn
            self.sync(j, t)
            self.x_pre[j], self.rho[j], self.importance[j] = L.on_pre(
                self.x_pre[j], self.rho[j], self.importance[j], s[K.X_POST], s[K.X_CA], self.c
            )
            if self.rho[j] > self.c.theta_rho:
                s[K.I_EXC] += self.jump_cap[j]
        else:
            w = self.jump_static[n * self.s + syn - self.p]
            if w >= 0:
                s[K.I_EXC] += w
            else:
                s[K.I_INH] -= w


@pytest.mark.parametrize("rule", ["bcall", "metaplastic"])
def test_kernel_matches_reference_event_loop(rule):
    """K-1: chip kernels vs the python reference on random events, with mismatch and every rule branch,
    for each learning rule of the synapse (rules.py: the reference applies the rule's numpy ``apply``)."""
    rng = np.random.default_rng(5)
    cfg = TexelConfig.default(
        inventory={"cores": 1, "neurons_per_core": 3, "plastic_per_neuron": 5, "static_per_neuron": 2},
        synapse={"static_weights": [400e-9, -100e-9], "w_max": 150e-9},
        mismatch={"sigma_ln": 0.15},
        learning={"theta_ca_high": 0.6, "rule": rule, "importance_gain": 3.0},
    )
    chip = TexelChip(cfg, rng)
    chip.set_rho(rng.uniform(0, 1, (3, 5)))
    chip.set_dc(np.array([1]), 30e-9)
    ref = RefChip(chip)
    n_ev = 600
    t = np.sort(rng.uniform(0, 0.8, n_ev))
    nrn = rng.integers(0, 3, n_ev)
    syn = np.where(rng.random(n_ev) < 0.25, rng.integers(5, 7, n_ev), rng.integers(0, 5, n_ev))
    res = chip.run(SpikeInput(t, np.zeros(n_ev, dtype=np.int64), nrn, syn), 1.0)
    for ti, ni, si in zip(t, nrn, syn):
        ref.event(ti, ni, si)
    for n in range(3):
        ref.advance(n, 1.0)
    assert res.counts["spikes"] > 20 and res.counts["weight_flips"] > 0
    ref_sp = sorted(ref.spikes)
    np.testing.assert_allclose(res.spike_t, [s[0] for s in ref_sp], rtol=0, atol=1e-12)
    assert np.array_equal(res.spike_neuron, [s[1] for s in ref_sp])
    np.testing.assert_allclose(chip.ns, ref.ns, rtol=1e-12, atol=1e-24)
    chip_rho = chip.rho.copy()
    for j in range(15):
        ref.sync(j, 1.0)
    chip.sync_synapses()
    np.testing.assert_allclose(chip.rho, [ref.rho[j] for j in range(15)], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chip.x_pre, ref.x_pre, rtol=1e-12, atol=1e-15)
    assert chip_rho.shape == (15,)
    np.testing.assert_allclose(chip.importance, ref.importance, rtol=1e-12, atol=1e-15)
    assert (chip.importance.max() > 0.1) == (rule == "metaplastic")


@pytest.mark.parametrize("rho,dt", [(0.2, 0.1), (0.5, 0.3), (0.51, 0.2), (0.9, 0.5), (0.0, 1.0), (1.0, 1.0)])
def test_drift_kernel_matches_numpy(rho, dt):
    """K-1 for ``drift_rho``: numba equals ``learning.drift`` (exact piecewise-linear drift)."""
    cfg = TexelConfig.default(learning={"alpha": 0.7, "beta": 0.4, "tau_rho": 0.8}).learning
    chip_lp = K.learning_record(tau_rho=0.8, alpha=0.7, beta=0.4, theta_rho=0.5)[0]
    assert K.drift_rho(rho, dt, chip_lp) == float(L.drift(rho, dt, cfg))


def test_batch_window_does_not_change_results():
    """The SimPy batching is an execution detail: windows of 0.1 ms and 50 ms give identical spikes and weights."""
    out = []
    for w in (1e-4, 5e-2):
        rng = np.random.default_rng(9)
        cfg = TexelConfig.default(
            inventory={"cores": 2, "neurons_per_core": 3, "plastic_per_neuron": 6}, aer={"batch_window": w}
        )
        chip = TexelChip(cfg, rng)
        chip.set_rho(rng.uniform(0, 1, (6, 6)))
        from chip_models.texel import poisson_input

        res = chip.run(poisson_input(80.0, 0.5, 0.0, cfg.inventory, rng), 0.5)
        out.append((res.spike_t, res.spike_neuron, chip.rho.copy()))
    assert out[0][0].size > 10
    for a, b in zip(out[0], out[1]):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("i_dc", [30e-9, 150e-9])
def test_chip_neuron_agrees_with_circuits_adexp(i_dc):
    """The chip's fused event kernel integrates the same DPI/AdExp neuron as ``aimc_sim.circuits``
    (first-order frozen-coefficient steps here, exponential midpoint there): same spike count under
    DC, inter-spike intervals within 0.5 %."""
    from aimc_sim.circuits import AdExpNeuron

    cfg = TexelConfig.default(inventory={"cores": 1, "neurons_per_core": 1}, mismatch={"sigma_ln": 0.0})
    chip = TexelChip(cfg, np.random.default_rng(0))
    chip.set_dc(0, i_dc)
    ours = chip.run(None, 0.5).spike_t
    ref = AdExpNeuron(cfg.neuron.replace(mismatch=cfg.neuron.mismatch.replace(sigma=0.0)), 1, None)
    theirs = np.sort(ref.step(0.5, i_dc).time)
    assert ours.size == theirs.size > 10
    np.testing.assert_allclose(np.diff(ours), np.diff(theirs), rtol=5e-3)
    assert abs(ours[0] - theirs[0]) < 2 * cfg.neuron.h
