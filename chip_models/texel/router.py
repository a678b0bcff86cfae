"""On-chip AER router: output spikes routed back to synapses on the same core, the other core, or
another chip over an inter-chip link (docs/texel.md §1: "routing table: none mentioned"; everything here
is [proposal] with its timing a parameter).

A spike of a source neuron becomes one packet per destination core (multicast inside the core).
Each packet crosses one link: ``local`` (same core), ``core`` (another core of the same chip) or
``chip`` (a core of another chip). Every link instance (the local link of each core, the
inter-core port of each core, the inter-chip port of each chip) is a single server with an
arbiter: service time = ``arbiter_time`` + 1/``bandwidth``, a queue of ``queue_depth`` packets
(0: unbounded) and a drop policy when the queue is full (``drop_new``: the arriving packet is
lost; ``drop_oldest``: the longest-waiting one is). ``fifo`` arbitration serves packets in
arrival order; ``priority`` serves the lowest source address first among those waiting (a fixed-
priority arbiter tree). Delivery time = service end + ``latency``; all target synapses on the
destination core receive the packet then.

Conservative synchronisation: the chip processes its cores in windows no longer than
``min latency − neuron.h``, and a spike is routed once every spike before it is known (its time
is below the window end minus one neuron step), so routed events always arrive in a window that
has not been processed yet. Hence ``latency`` must exceed ``2·neuron.h``.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from aimc_sim.cost.events import Named
from aimc_sim.errors import ConfigError
from chip_models.texel.config import LinkConfig, RoutingConfig

LINK_CLASSES = ("local", "core", "chip")
ROUTER_HOP = {cls: Named(f"router_hop_{cls}") for cls in LINK_CLASSES}  # ledger: routed packets per link class
ROUTER_DROP = Named("router_drop")  # ledger: packets lost to full queues


@dataclass
class LinkServer:
    """One link instance: an arbitrated single server with a bounded queue (see module docstring)."""

    cfg: LinkConfig
    free_at: float = -np.inf
    waiting: list = field(default_factory=list)  # heap of (key, seq, arrival, packet)
    seq: int = 0
    dropped: int = 0
    served: int = 0
    waited: float = 0.0  # total time packets spent between arrival and service start (s)

    @property
    def service(self) -> float:
        return self.cfg.arbiter_time + (1.0 / self.cfg.bandwidth if self.cfg.bandwidth > 0 else 0.0)

    def _serve_until(self, t: float, done: list) -> None:
        """Start service of waiting packets while the server frees before ``t``."""
        while self.waiting and self.free_at < t:
            _, _, arrival, packet = heapq.heappop(self.waiting)
            self.waited += self.free_at - arrival
            self.served += 1
            self.free_at += self.service
            done.append((self.free_at, packet))

    def offer(self, arrival: float, source: int, packet: int, done: list) -> None:
        """A packet arrives (in time order); finished services are appended to ``done`` as (end, packet)."""
        self._serve_until(arrival, done)
        if not self.waiting and self.free_at <= arrival:
            self.served += 1
            self.free_at = arrival + self.service
            done.append((self.free_at, packet))
            return
        depth = self.cfg.queue_depth
        if depth and len(self.waiting) >= depth:
            self.dropped += 1
            if self.cfg.drop_policy == "drop_new":
                return
            oldest = min(range(len(self.waiting)), key=lambda i: (self.waiting[i][2], self.waiting[i][1]))
            self.waiting[oldest] = self.waiting[-1]
            self.waiting.pop()
            heapq.heapify(self.waiting)
        key = arrival if self.cfg.arbitration == "fifo" else float(source)
        heapq.heappush(self.waiting, (key, self.seq, arrival, packet))
        self.seq += 1

    def flush(self, horizon: float, done: list) -> None:
        """Start every waiting service that begins before ``horizon``."""
        self._serve_until(horizon, done)


class Router:
    """The routing table of a chip and its link servers.

    ``connect(pre, post, synapse)`` adds connections from global neurons ``pre`` to synapse
    ``synapse`` of global neurons ``post``. :meth:`route` takes spikes in time order and returns
    the delivered synaptic events (time, neuron, synapse) with the hop counts per link class.
    """

    def __init__(self, cfg: RoutingConfig, neurons_per_core: int, cores: int, synapses_per_neuron: int, h: float):
        self.cfg = cfg
        self.npc = neurons_per_core
        self.cores = cores
        self.n_syn = synapses_per_neuron
        self.cpc = cfg.cores_per_chip or cores
        if cores % self.cpc:
            raise ConfigError("routing.cores_per_chip", f"must divide inventory.cores = {cores}, got {self.cpc}")
        self.links = {name: getattr(cfg, name) for name in LINK_CLASSES}
        for name, link in self.links.items():
            if link.latency <= 2 * h:
                raise ConfigError(
                    f"routing.{name}.latency",
                    f"must be > 2·neuron.h = {2 * h:g} s (conservative synchronisation lookahead), "
                    f"got {link.latency:g}",
                )
        self.servers: dict[tuple[str, int], LinkServer] = {}
        self.pre = np.zeros(0, dtype=np.int64)
        self.post = np.zeros(0, dtype=np.int64)
        self.syn = np.zeros(0, dtype=np.int64)
        self._build()
        self.hops = dict.fromkeys(LINK_CLASSES, 0)

    @property
    def n_connections(self) -> int:
        return int(self.pre.size)

    def min_latency(self) -> float:
        """The smallest latency of any link class in use (the synchronisation lookahead)."""
        used = {self.link_class(int(a), int(b)) for a, b in zip(self.pre // self.npc, self.post // self.npc)}
        return min(self.links[c].latency for c in used) if used else np.inf

    def link_class(self, src_core: int, dst_core: int) -> str:
        if src_core == dst_core:
            return "local"
        return "core" if src_core // self.cpc == dst_core // self.cpc else "chip"

    def connect(self, pre: np.ndarray, post: np.ndarray, synapse: np.ndarray) -> None:
        """Add connections pre → (post, synapse) (global neuron indices; synapse of the post neuron)."""
        n = self.npc * self.cores
        arrays = []
        for name, a, hi in (("pre", pre, n - 1), ("post", post, n - 1), ("synapse", synapse, self.n_syn - 1)):
            a = np.atleast_1d(np.asarray(a))
            if a.dtype.kind not in "iu" or (a.size and (a.min() < 0 or a.max() > hi)):
                raise ConfigError(f"connections.{name}", f"must be integer indices in 0..{hi}")
            arrays.append(a.astype(np.int64))
        pre, post, synapse = np.broadcast_arrays(*arrays)
        self.pre = np.concatenate([self.pre, pre.ravel()])
        self.post = np.concatenate([self.post, post.ravel()])
        self.syn = np.concatenate([self.syn, synapse.ravel()])
        self._build()

    def _build(self) -> None:
        """Group the table into packets: (source neuron, destination core) → target (neuron, synapse) lists."""
        dst_core = self.post // self.npc
        order = np.lexsort((dst_core, self.pre))
        self._pre, self._dst = self.pre[order], dst_core[order]
        self._tgt_n, self._tgt_s = self.post[order], self.syn[order]
        key = self._pre * self.cores + self._dst
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
        self._pk_start = starts
        self._pk_stop = np.r_[starts[1:], key.size].astype(np.int64)
        self._pk_src = self._pre[starts]
        self._pk_dst = self._dst[starts]
        src_core = self._pk_src // self.npc
        self._pk_cls = [self.link_class(int(a), int(b)) for a, b in zip(src_core, self._pk_dst)]
        self._pk_lat = np.array([self.links[c].latency for c in self._pk_cls])
        self._pk_server = [
            (c, int(sc) if c != "chip" else int(sc) // self.cpc) for c, sc in zip(self._pk_cls, src_core)
        ]
        n = self.npc * self.cores
        self._first = np.searchsorted(self._pk_src, np.arange(n + 1))

    def _server(self, pk: int) -> LinkServer:
        key = self._pk_server[pk]
        if key not in self.servers:
            self.servers[key] = LinkServer(self.links[key[0]])
        return self.servers[key]

    @property
    def dropped(self) -> int:
        """Packets lost to full queues so far."""
        return sum(s.dropped for s in self.servers.values())

    def mean_wait(self) -> float:
        """Mean time (s) a served packet waited for its arbiter grant."""
        served = sum(s.served for s in self.servers.values())
        return sum(s.waited for s in self.servers.values()) / served if served else 0.0

    def route(self, spike_t: np.ndarray, spike_n: np.ndarray, horizon: float) -> tuple[np.ndarray, ...]:
        """Offer the spikes (time-sorted) to their links, serve up to ``horizon`` and return the
        synaptic events delivered by services started so far: (time, neuron, synapse)."""
        done: list[tuple[float, int]] = []
        first = self._first
        for t, n in zip(spike_t.tolist(), spike_n.tolist()):
            for pk in range(first[n], first[n + 1]):
                self._server(pk).offer(t, n, pk, done)
        for server in self.servers.values():
            server.flush(horizon, done)
        if not done:
            z = np.zeros(0, dtype=np.int64)
            return np.zeros(0), z, z
        ends = np.array([d[0] for d in done])
        pks = np.array([d[1] for d in done], dtype=np.int64)
        for pk in pks.tolist():
            self.hops[self._pk_cls[pk]] += 1
        counts = self._pk_stop[pks] - self._pk_start[pks]
        t_del = np.repeat(ends + self._pk_lat[pks], counts)
        idx = np.concatenate([np.arange(a, b) for a, b in zip(self._pk_start[pks], self._pk_stop[pks])])
        return t_del, self._tgt_n[idx], self._tgt_s[idx]


class RoutedTraffic:
    """The routing state of a running chip: spikes found but not yet routed, and the synaptic
    events routed to each core but not yet processed."""

    def __init__(self, router: Router, cores: int):
        self.router = router
        self.npc = router.npc
        self._held_t: list[np.ndarray] = []
        self._held_n: list[np.ndarray] = []
        self._inbox: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in range(cores)]

    def found(self, t: np.ndarray, n: np.ndarray) -> None:
        """Spikes found by a kernel call (any order)."""
        self._held_t.append(t)
        self._held_n.append(n)

    def release(self, horizon: float) -> None:
        """Route every held spike earlier than ``horizon`` (all earlier spikes are known by then)."""
        if self._held_t:
            t = np.concatenate(self._held_t)
            n = np.concatenate(self._held_n)
        else:
            t, n = np.zeros(0), np.zeros(0, dtype=np.int64)
        order = np.argsort(t, kind="stable")
        t, n = t[order], n[order]
        go = t < horizon
        self._held_t, self._held_n = [t[~go]], [n[~go]]
        td, tn, ts = self.router.route(t[go], n[go], horizon)
        core = tn // self.npc
        for c in np.unique(core).tolist():
            m = core == c
            self._inbox[c].append((td[m], tn[m], ts[m]))

    def merge(self, core: int, ev_t: np.ndarray, ev_n: np.ndarray, ev_s: np.ndarray, t1: float, last: bool):
        """The window's external events merged (stably, external first at equal times) with the
        routed events for ``core`` that arrive before ``t1`` (at or before it when ``last``)."""
        box = self._inbox[core]
        if not box:
            return ev_t, ev_n, ev_s
        rt = np.concatenate([b[0] for b in box])
        rn = np.concatenate([b[1] for b in box])
        rs = np.concatenate([b[2] for b in box])
        now = rt <= t1 if last else rt < t1
        self._inbox[core] = [(rt[~now], rn[~now], rs[~now])] if (~now).any() else []
        if not now.any():
            return ev_t, ev_n, ev_s
        t = np.concatenate([ev_t, rt[now]])
        order = np.argsort(t, kind="stable")
        return t[order], np.concatenate([ev_n, rn[now]])[order], np.concatenate([ev_s, rs[now]])[order]
