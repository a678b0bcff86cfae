"""The on-chip AER router: link servers against a SimPy queue, delivery on the chip, hop counting."""

from __future__ import annotations

import numpy as np
import pytest
import simpy

from aimc_sim.errors import ConfigError
from chip_models.texel import SpikeInput, TexelChip, TexelConfig
from chip_models.texel import _engine as E

STRONG = 500e-9


def _simpy_reference(arrivals, sources, service, depth, priority):
    """The same link as a SimPy (Priority)Resource; a packet is dropped when ``depth`` already wait."""
    env = simpy.Environment()
    res = simpy.PriorityResource(env, 1) if priority else simpy.Resource(env, 1)
    ends, dropped = {}, []

    def packet(k, t, src):
        yield env.timeout(t - env.now)
        if depth and len(res.queue) >= depth and res.count:
            dropped.append(k)
            return
        req = res.request(priority=src) if priority else res.request()
        with req:
            yield req
            yield env.timeout(service)
            ends[k] = env.now

    for k, (t, s) in enumerate(zip(arrivals, sources)):
        env.process(packet(k, t, s))
    env.run()
    return ends, dropped


def _numba_link(arrivals, sources, service, depth, priority):
    """One link server of the chip's run loop (``_engine``); packet k has one target, neuron k, latency 0."""
    k = arrivals.size
    idx = np.arange(k, dtype=np.int64)
    table = E.Table(idx, np.zeros(k, dtype=np.int64), np.zeros(k, dtype=np.int64), np.zeros(k), idx, idx + 1, idx, idx)
    links = E.empty_links(1, 3, max(depth, k))
    links.service[0], links.depth[0], links.priority[0] = service, depth, priority
    z, zi = np.zeros(k), np.zeros(k, dtype=np.int64)
    buf = E.Buffers(z, zi, z, zi, z.copy(), zi.copy(), zi.copy(), z, zi, zi, np.zeros((0, 11)))
    st = E.state_record()[0]
    for pk, (t, s) in enumerate(zip(arrivals, sources)):
        E.offer(0, float(t), int(s), pk, table, links, buf, st)
    E.flush_links(np.inf, table, links, buf, st)
    return dict(zip(buf.pool_n[: st.n_pool].tolist(), buf.pool_t[: st.n_pool].tolist())), int(links.dropped[0])


@pytest.mark.parametrize("arbitration,depth", [("fifo", 0), ("fifo", 3), ("priority", 0), ("priority", 2)])
def test_link_server_equals_simpy_queue(arbitration, depth):
    rng = np.random.default_rng(1)
    arrivals = np.sort(rng.exponential(0.8e-6, 400).cumsum())
    sources = rng.integers(0, 50, arrivals.size)
    ours, n_dropped = _numba_link(arrivals, sources, 1.0e-6, depth, arbitration == "priority")
    ends, dropped = _simpy_reference(arrivals, sources, 1.0e-6, depth, arbitration == "priority")
    assert sorted(ours) == sorted(ends) and n_dropped == len(dropped)
    np.testing.assert_allclose([ours[k] for k in sorted(ours)], [ends[k] for k in sorted(ends)], rtol=0, atol=1e-15)
    assert (depth == 0) == (n_dropped == 0)


def _chain(cores_per_chip=0, window=10e-3, arbiter=0.0):
    link = {"latency": 1e-3, "arbiter_time": arbiter}
    cfg = TexelConfig.default(
        inventory={"cores": 2, "neurons_per_core": 2, "plastic_per_neuron": 2, "static_per_neuron": 1},
        synapse={"static_weights": [STRONG]},
        mismatch={"sigma_ln": 0.0},
        aer={"batch_window": window},
        routing={"cores_per_chip": cores_per_chip, "local": link, "core": link, "chip": {**link, "latency": 2e-3}},
    )
    chip = TexelChip(cfg, np.random.default_rng(0))
    chip.connect(np.array([0]), np.array([2]), np.array([2]))  # core 0 neuron 0 -> core 1 neuron 0, static
    chip.connect(np.array([0]), np.array([1]), np.array([2]))  # same core
    t = np.arange(0.01, 0.3, 0.02)
    inp = SpikeInput(t, np.zeros(t.size, dtype=np.int64), np.zeros(t.size, dtype=np.int64), np.full(t.size, 2))
    res = chip.run(inp, 0.35)
    return chip, res


@pytest.mark.parametrize("cores_per_chip,latency,hop", [(0, 1e-3, "router_hop_core"), (1, 2e-3, "router_hop_chip")])
def test_routed_spikes_reach_their_targets_after_the_link_latency(cores_per_chip, latency, hop):
    chip, res = _chain(cores_per_chip)
    pre = res.spike_t[res.spike_neuron == 0]
    assert pre.size > 5
    n_ext = np.arange(0.01, 0.3, 0.02).size
    assert res.counts["static_events"] == n_ext + 2 * pre.size  # every spike delivered to both targets
    for target, lat in ((1, 1e-3), (2, latency)):
        post = res.spike_t[res.spike_neuron == target]
        assert post.size > 0 and post[0] > pre[0] + lat
    assert chip.ledger.total(hop) == pre.size and chip.ledger.total("router_hop_local") == pre.size


def test_routing_results_do_not_depend_on_the_batch_window():
    a = _chain(window=0.3e-3, arbiter=2e-6)[1]
    b = _chain(window=10e-3, arbiter=2e-6)[1]
    assert np.array_equal(a.spike_t, b.spike_t) and np.array_equal(a.spike_neuron, b.spike_neuron)


def test_arbiter_service_time_delays_every_delivery():
    """Without queueing, a link's service time adds exactly to the delivery time of each packet."""
    fast = _chain(arbiter=0.0)[1]
    slow = _chain(arbiter=300e-6)[1]
    for n in (0, 1, 2):
        a, b = fast.spike_t[fast.spike_neuron == n], slow.spike_t[slow.spike_neuron == n]
        assert a.size == b.size
        np.testing.assert_allclose(b - a, 0.0 if n == 0 else 300e-6, rtol=0, atol=1e-9)


def test_latency_below_the_lookahead_is_rejected():
    cfg = TexelConfig.default(routing={"local": {"latency": 30e-6}})
    with pytest.raises(ConfigError, match="routing.local.latency"):
        TexelChip(cfg, np.random.default_rng(0))


def test_router_hop_energy_in_the_energy_report():
    from chip_models.texel import energy_report

    chip, _ = _chain()
    routing = chip.config.routing.replace(local=chip.config.routing.local.replace(e_hop=2e-12))
    rep = energy_report(chip.ledger, 0.35, chip.config.energy, routing)
    assert rep["routed_hops"] == pytest.approx(2e-12 * chip.ledger.total("router_hop_local"))
    assert rep["routed_hops"] > 0
