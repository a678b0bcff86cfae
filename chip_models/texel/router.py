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
destination core receive the packet then. The servers run inside the chip's numba loop
(``_engine.py``); this module holds the table and the servers' state.

Conservative synchronisation: the chip processes its cores in windows no longer than
``min latency − neuron.h``, and a spike is routed once every spike before it is known (its time
is below the window end minus one neuron step), so routed events always arrive in a window that
has not been processed yet. Hence ``latency`` must exceed ``2·neuron.h``.
"""

from __future__ import annotations

import numpy as np

from aimc_sim.cost.events import Named
from aimc_sim.errors import ConfigError
from chip_models.texel import _engine as E
from chip_models.texel.config import RoutingConfig

LINK_CLASSES = ("local", "core", "chip")
ROUTER_HOP = {cls: Named(f"router_hop_{cls}") for cls in LINK_CLASSES}  # ledger: routed packets per link class
ROUTER_DROP = Named("router_drop")  # ledger: packets lost to full queues


class Router:
    """The routing table of a chip and the state of its link servers.

    ``connect(pre, post, synapse)`` adds connections from global neurons ``pre`` to synapse
    ``synapse`` of global neurons ``post``. :attr:`table` (packets) and :attr:`state` (servers)
    are what the chip's run loop routes with; :attr:`hops`, :attr:`dropped` and :meth:`mean_wait`
    report what it did. Server index: the local link of core c is c, its inter-core port
    cores + c, the inter-chip port of chip k is 2·cores + k.
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
        server_links = [self.links["local"]] * cores + [self.links["core"]] * cores
        server_links += [self.links["chip"]] * (cores // self.cpc)
        depth = max(link.queue_depth for link in server_links)
        self.state = E.empty_links(len(server_links), len(LINK_CLASSES), max(64, depth))
        for s, link in enumerate(server_links):
            self.state.service[s] = link.arbiter_time + (1.0 / link.bandwidth if link.bandwidth > 0 else 0.0)
            self.state.depth[s] = link.queue_depth
            self.state.priority[s] = link.arbitration == "priority"
            self.state.drop_oldest[s] = link.drop_policy == "drop_oldest"
        self.pre = np.zeros(0, dtype=np.int64)
        self.post = np.zeros(0, dtype=np.int64)
        self.syn = np.zeros(0, dtype=np.int64)
        self._build()

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
        pre, dst = self.pre[order], dst_core[order]
        key = pre * self.cores + dst
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
        src, dst = pre[starts], dst[starts]
        src_core = src // self.npc
        cls = [self.link_class(int(a), int(b)) for a, b in zip(src_core, dst)]
        offset = {"local": 0, "core": self.cores, "chip": 2 * self.cores}
        server = [offset[c] + (int(sc) if c != "chip" else int(sc) // self.cpc) for c, sc in zip(cls, src_core)]
        stop = np.r_[starts[1:], key.size].astype(np.int64)
        self.table = E.Table(
            np.searchsorted(src, np.arange(self.npc * self.cores + 1)).astype(np.int64),
            np.array(server, dtype=np.int64),
            np.array([LINK_CLASSES.index(c) for c in cls], dtype=np.int64),
            np.array([self.links[c].latency for c in cls], dtype=float),
            starts.astype(np.int64),
            stop,
            self.post[order],
            self.syn[order],
        )
        self.max_targets = int((stop - starts).max()) if starts.size else 0

    @property
    def hops(self) -> dict[str, int]:
        """Packets routed so far per link class."""
        return {cls: int(self.state.hops[i]) for i, cls in enumerate(LINK_CLASSES)}

    @property
    def dropped(self) -> int:
        """Packets lost to full queues so far."""
        return int(self.state.dropped.sum())

    def mean_wait(self) -> float:
        """Mean time (s) a served packet waited for its arbiter grant."""
        served = int(self.state.served.sum())
        return float(self.state.waited.sum()) / served if served else 0.0

    def grow_queues(self, need: int) -> None:
        """Room for ``need`` waiting packets in every server's queue (unbounded queues grow)."""
        old = self.state
        cap = max(need, 2 * old.key.shape[1])
        grown = []
        for a in (old.key, old.order, old.arrival, old.packet):
            b = np.zeros((a.shape[0], cap), dtype=a.dtype)
            b[:, : a.shape[1]] = a
            grown.append(b)
        self.state = old._replace(key=grown[0], order=grown[1], arrival=grown[2], packet=grown[3])
