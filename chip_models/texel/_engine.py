"""The chip's run loop in numba: windows, cores, on-chip routing and the AER link servers.

One call of :func:`run_chip` processes window after window (docs/texel.md §2, §8) without
returning to Python: at each window start it routes the spikes found so far whose time lies
below the window start minus one neuron step (conservative synchronisation, ``router.py``),
then, core by core, merges that core's external events of the window with the routed events
that arrive in it (external first at equal times), runs the event kernel over them and flushes
the core's awake neurons to the window end. At the run's end every neuron is advanced exactly
and the last spikes are routed.

The loop is resumable: it returns a status when Python has to act (``FLIPS``: weight flips were
logged and their devices must be written from Python (``write_on_flip``); ``REFILL``: the pool of C2C
normals is half used; ``GROW``: a buffer or a link queue needs more room, the ``need_*`` fields
of the state say how much) and continues from its state record on the next call. It returns at
the same points where the per-window Python loop it replaces wrote flips, so results are
unchanged (see docs/texel.md §12).

Link servers (one per link instance): an arbitrated single server, service time
``arbiter_time`` + 1/``bandwidth``, waiting packets in a binary heap ordered by (key, arrival
sequence) with key = arrival time (``fifo``) or source neuron (``priority``), a queue of
``depth`` packets (0: unbounded) that drops the new packet or the oldest waiting one when full.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import NamedTuple

import numpy as np
from numba import njit

from chip_models.texel import _kernels as K


def _drop_stale_cache() -> None:
    """Numba keys a cached function on its own source file only, so a cached engine would keep running the
    old ``_kernels`` after that file changes (e.g. after ``git pull``). Delete the engine's cache entries
    when the kernels' source differs from the one they were compiled against."""
    cache_dir = Path(__file__).with_name("__pycache__")
    stamp = cache_dir / "_engine.kernels.sha256"
    digest = hashlib.sha256(Path(K.__file__).read_bytes()).hexdigest()
    try:
        if stamp.is_file() and stamp.read_text() == digest:
            return
        for entry in cache_dir.glob("_engine.*.nb[ic]"):
            entry.unlink(missing_ok=True)
        cache_dir.mkdir(exist_ok=True)
        stamp.write_text(digest)
    except OSError:  # read-only install: numba then cannot cache either
        pass


_drop_stale_cache()

DONE, FLIPS, REFILL, GROW = range(4)  # status codes of run_chip
PH_ROUTE, PH_BUILD, PH_EVENTS, PH_FLUSH, PH_FINAL, PH_FINAL_ROUTE = range(6)  # phases of the loop

STATE_DTYPE = np.dtype(
    [(name, np.float64) for name in ("t0", "t1", "t_end", "window", "h", "refill_at")]
    + [
        (name, np.int64)
        for name in (
            "phase", "core", "i", "j", "n_rec", "n_held", "n_pool", "n_probe", "spike_room", "routing",
            "write_flips", "stop_on_flip", "device_mode", "max_targets", "need_rec", "need_held", "need_pool",
            "need_win", "need_queue",
        )
    ]
)  # fmt: skip


class Links(NamedTuple):
    """State of every link server (index s) and the hop count per link class."""

    service: np.ndarray  # (S,) s per packet
    depth: np.ndarray  # (S,) int, 0 = unbounded
    priority: np.ndarray  # (S,) int, 1: lowest source first
    drop_oldest: np.ndarray  # (S,) int
    free_at: np.ndarray  # (S,) time the server frees
    waited: np.ndarray  # (S,) total wait of served packets (s)
    served: np.ndarray  # (S,) int
    dropped: np.ndarray  # (S,) int
    size: np.ndarray  # (S,) int, packets waiting
    seq: np.ndarray  # (S,) int, arrival counter
    key: np.ndarray  # (S, cap) heap of waiting packets: key, sequence, arrival time, packet
    order: np.ndarray
    arrival: np.ndarray
    packet: np.ndarray
    hops: np.ndarray  # (classes,) int


class Table(NamedTuple):
    """The routing table grouped into packets (one per source neuron and destination core)."""

    first: np.ndarray  # (neurons + 1,) packets of source n: first[n]..first[n+1]-1
    server: np.ndarray  # per packet: link server index
    link_class: np.ndarray  # per packet: 0 local, 1 core, 2 chip
    latency: np.ndarray  # per packet (s)
    start: np.ndarray  # per packet: targets start..stop-1
    stop: np.ndarray
    target_neuron: np.ndarray
    target_synapse: np.ndarray


class Buffers(NamedTuple):
    """Spikes of the run (``rec``), spikes not yet routed (``held``), routed events not yet
    processed (``pool``), the current core window's events (``win``) and probe rows."""

    rec_t: np.ndarray
    rec_n: np.ndarray
    held_t: np.ndarray
    held_n: np.ndarray
    pool_t: np.ndarray
    pool_n: np.ndarray
    pool_s: np.ndarray
    win_t: np.ndarray
    win_n: np.ndarray
    win_s: np.ndarray
    probes: np.ndarray


class Streams(NamedTuple):
    """External events of the run sorted by core, then time: core c owns start[c]..start[c+1]-1;
    ``cursor[c]`` is its next unprocessed event."""

    t: np.ndarray
    neuron: np.ndarray
    synapse: np.ndarray
    start: np.ndarray
    cursor: np.ndarray


def state_record() -> np.ndarray:
    """A one-element ``STATE_DTYPE`` record array of zeros; pass ``arr[0]`` to :func:`run_chip`."""
    return np.zeros(1, dtype=STATE_DTYPE).view(np.recarray)


def empty_links(n_servers: int, n_classes: int, cap: int) -> Links:
    f, i = np.zeros(n_servers), np.zeros(n_servers, dtype=np.int64)
    return Links(
        f.copy(), i.copy(), i.copy(), i.copy(), np.full(n_servers, -np.inf), f.copy(), i.copy(), i.copy(), i.copy(),
        i.copy(), np.zeros((n_servers, cap)), np.zeros((n_servers, cap), dtype=np.int64), np.zeros((n_servers, cap)),
        np.zeros((n_servers, cap), dtype=np.int64), np.zeros(n_classes, dtype=np.int64),
    )  # fmt: skip


# ---------------------------------------------------------------------------------------- link servers
@njit(cache=True)
def _before(lk, s, a, b):
    """Heap order of server s: entry a before entry b by (key, sequence)."""
    return lk.key[s, a] < lk.key[s, b] or (lk.key[s, a] == lk.key[s, b] and lk.order[s, a] < lk.order[s, b])


@njit(cache=True)
def _swap(lk, s, a, b):
    lk.key[s, a], lk.key[s, b] = lk.key[s, b], lk.key[s, a]
    lk.order[s, a], lk.order[s, b] = lk.order[s, b], lk.order[s, a]
    lk.arrival[s, a], lk.arrival[s, b] = lk.arrival[s, b], lk.arrival[s, a]
    lk.packet[s, a], lk.packet[s, b] = lk.packet[s, b], lk.packet[s, a]


@njit(cache=True)
def _sift_down(lk, s, a):
    n = lk.size[s]
    while True:
        m, left = a, 2 * a + 1
        if left < n and _before(lk, s, left, m):
            m = left
        if left + 1 < n and _before(lk, s, left + 1, m):
            m = left + 1
        if m == a:
            return
        _swap(lk, s, a, m)
        a = m


@njit(cache=True)
def _push(lk, s, key, arrival, packet):
    a = lk.size[s]
    lk.key[s, a], lk.order[s, a], lk.arrival[s, a], lk.packet[s, a] = key, lk.seq[s], arrival, packet
    lk.seq[s] += 1
    lk.size[s] = a + 1
    while a > 0 and _before(lk, s, a, (a - 1) // 2):
        _swap(lk, s, a, (a - 1) // 2)
        a = (a - 1) // 2


@njit(cache=True)
def _remove(lk, s, a):
    """Remove heap entry a of server s (the last entry takes its place, then the heap is rebuilt)."""
    last = lk.size[s] - 1
    _swap(lk, s, a, last)
    lk.size[s] = last
    for b in range(last // 2, -1, -1):
        _sift_down(lk, s, b)


@njit(cache=True)
def _deliver(pk, end, table, lk, buf, st):
    """Packet pk leaves its link at ``end``: its targets receive it after the link latency."""
    lk.hops[table.link_class[pk]] += 1
    t = end + table.latency[pk]
    for m in range(table.start[pk], table.stop[pk]):
        q = st.n_pool
        buf.pool_t[q], buf.pool_n[q], buf.pool_s[q] = t, table.target_neuron[m], table.target_synapse[m]
        st.n_pool = q + 1


@njit(cache=True)
def _serve_until(s, t, table, lk, buf, st):
    """Start the service of waiting packets of server s while it frees before ``t``."""
    while lk.size[s] > 0 and lk.free_at[s] < t:
        arrival, pk = lk.arrival[s, 0], lk.packet[s, 0]
        _remove(lk, s, 0)
        lk.waited[s] += lk.free_at[s] - arrival
        lk.served[s] += 1
        lk.free_at[s] += lk.service[s]
        _deliver(pk, lk.free_at[s], table, lk, buf, st)


@njit(cache=True)
def offer(s, arrival, source, pk, table, lk, buf, st):
    """A packet arrives at server s (arrivals in time order)."""
    _serve_until(s, arrival, table, lk, buf, st)
    if lk.size[s] == 0 and lk.free_at[s] <= arrival:
        lk.served[s] += 1
        lk.free_at[s] = arrival + lk.service[s]
        _deliver(pk, lk.free_at[s], table, lk, buf, st)
        return
    if lk.depth[s] > 0 and lk.size[s] >= lk.depth[s]:
        lk.dropped[s] += 1
        if lk.drop_oldest[s] == 0:
            return
        oldest = 0
        for a in range(1, lk.size[s]):
            if lk.order[s, a] < lk.order[s, oldest]:  # arrivals are offered in order: oldest = lowest sequence
                oldest = a
        _remove(lk, s, oldest)
    _push(lk, s, float(source) if lk.priority[s] else arrival, arrival, pk)


@njit(cache=True)
def flush_links(horizon, table, lk, buf, st):
    """Start every waiting service that begins before ``horizon``."""
    for s in range(lk.size.shape[0]):
        _serve_until(s, horizon, table, lk, buf, st)


# ---------------------------------------------------------------------------------------- routing
@njit(cache=True)
def _route(horizon, table, lk, buf, st) -> bool:
    """Route every held spike earlier than ``horizon`` (time order); False (nothing changed) when a
    buffer lacks room, with the ``need_*`` fields set."""
    n = st.n_held
    order = np.argsort(buf.held_t[:n], kind="mergesort")
    n_offer = 0
    n_go = 0
    for k in order:
        if buf.held_t[k] >= horizon:
            break
        src = buf.held_n[k]
        n_offer += table.first[src + 1] - table.first[src]
        n_go += 1
    waiting = 0
    for s in range(lk.size.shape[0]):
        waiting += lk.size[s]
        if lk.depth[s] == 0 and lk.size[s] + n_offer > lk.key.shape[1]:
            st.need_queue = lk.size[s] + n_offer
    need_pool = st.n_pool + st.max_targets * (n_offer + waiting)
    if need_pool > buf.pool_t.shape[0]:
        st.need_pool = need_pool
    if st.need_queue or st.need_pool:
        return False
    for g in range(n_go):
        k = order[g]
        src = buf.held_n[k]
        for pk in range(table.first[src], table.first[src + 1]):
            offer(table.server[pk], buf.held_t[k], src, pk, table, lk, buf, st)
    flush_links(horizon, table, lk, buf, st)
    kept_t = buf.held_t[order[n_go:n]].copy()  # the rest stays held, time-sorted
    kept_n = buf.held_n[order[n_go:n]].copy()
    buf.held_t[: kept_t.size] = kept_t
    buf.held_n[: kept_n.size] = kept_n
    st.n_held = kept_t.size
    return True


@njit(cache=True)
def _hold(n0, buf, st):
    """Spikes rec[n0:n_rec] were found: hold them for routing."""
    for k in range(n0, st.n_rec):
        buf.held_t[st.n_held] = buf.rec_t[k]
        buf.held_n[st.n_held] = buf.rec_n[k]
        st.n_held += 1


@njit(cache=True)
def _build_window(c, npc, ev, buf, st) -> bool:
    """Merge core c's external events of the window with its routed events arriving in it."""
    last = st.t1 >= st.t_end
    a, b = ev.cursor[c], ev.cursor[c]
    while b < ev.start[c + 1] and (ev.t[b] < st.t1 or (last and ev.t[b] <= st.t1)):
        b += 1
    m = 0
    take = np.zeros(st.n_pool, dtype=np.bool_)
    for q in range(st.n_pool):
        tq = buf.pool_t[q]
        if buf.pool_n[q] // npc == c and (tq < st.t1 or (last and tq <= st.t1)):
            take[q] = True
            m += 1
    need = b - a + m
    if need > buf.win_t.shape[0]:
        st.need_win = need
    room = st.spike_room + 2 * need
    if st.n_rec + room > buf.rec_t.shape[0]:
        st.need_rec = st.n_rec + room
    if st.routing and st.n_held + room > buf.held_t.shape[0]:
        st.need_held = st.n_held + room
    if st.need_win or st.need_rec or st.need_held:
        return False
    idx = np.flatnonzero(take)
    routed = idx[np.argsort(buf.pool_t[idx], kind="mergesort")]
    x, r = a, 0
    for w in range(need):  # two-way merge, external first at equal times
        if r >= m or (x < b and ev.t[x] <= buf.pool_t[routed[r]]):
            buf.win_t[w], buf.win_n[w], buf.win_s[w] = ev.t[x], ev.neuron[x], ev.synapse[x]
            x += 1
        else:
            q = routed[r]
            buf.win_t[w], buf.win_n[w], buf.win_s[w] = buf.pool_t[q], buf.pool_n[q], buf.pool_s[q]
            r += 1
    if m:
        keep = 0
        for q in range(st.n_pool):
            if not take[q]:
                buf.pool_t[keep], buf.pool_n[keep], buf.pool_s[keep] = buf.pool_t[q], buf.pool_n[q], buf.pool_s[q]
                keep += 1
        st.n_pool = keep
    ev.cursor[c] = b
    st.i, st.j = 0, need
    return True


# ---------------------------------------------------------------------------------------- the loop
@njit(cache=True)
def run_chip(st, ev, table, lk, buf, core_neurons, nrn, lp, syn, counters) -> int:
    """Advance the chip from its state record ``st`` until the run ends or Python must act (status)."""
    cores, npc = core_neurons.shape
    out = K.SpikeBuffer(buf.rec_t, buf.rec_n, buf.probes)
    win = K.Events(buf.win_t, buf.win_n, buf.win_s)
    st.need_rec = st.need_held = st.need_pool = st.need_win = st.need_queue = 0
    while True:
        if st.phase == PH_ROUTE:  # a new window starts at t0
            if syn.dev.cfg[0].enabled > 0.0 and counters.normals_used > st.refill_at:
                return REFILL
            if st.routing and not _route(st.t0 - st.h, table, lk, buf, st):
                return GROW
            st.phase, st.core = PH_BUILD, 0
        elif st.phase == PH_BUILD:
            if not _build_window(st.core, npc, ev, buf, st):
                return GROW
            st.phase = PH_EVENTS
        elif st.phase == PH_EVENTS:
            if st.i < st.j:
                n0 = st.n_rec
                i, n_rec, n_probe = K.run_events(
                    win, st.i, st.j, nrn, lp, syn, out, n0, st.n_probe, counters, st.device_mode > 0,
                    st.stop_on_flip > 0,
                )  # fmt: skip
                st.i, st.n_rec, st.n_probe = i, n_rec, n_probe
                if st.routing:
                    _hold(n0, buf, st)
                if st.write_flips and counters.logged_flips:
                    return FLIPS
            else:
                st.phase = PH_FLUSH
        elif st.phase == PH_FLUSH:
            n0 = st.n_rec
            st.n_rec = K.flush_active(core_neurons[st.core], st.t1, nrn, lp, syn, out, n0, counters)
            if st.routing:
                _hold(n0, buf, st)
            st.core += 1
            if st.core < cores:
                st.phase = PH_BUILD
            elif st.t1 >= st.t_end:
                st.phase = PH_FINAL
            else:
                st.t0 = st.t1
                st.t1 = min(st.t0 + st.window, st.t_end)
                st.phase = PH_ROUTE
            if st.write_flips and counters.logged_flips:
                return FLIPS
        elif st.phase == PH_FINAL:  # every neuron exactly to the end of the run
            room = st.spike_room * cores
            if st.n_rec + room > buf.rec_t.shape[0]:
                st.need_rec = st.n_rec + room
            if st.routing and st.n_held + room > buf.held_t.shape[0]:
                st.need_held = st.n_held + room
            if st.need_rec or st.need_held:
                return GROW
            n0 = st.n_rec
            for c in range(cores):
                for n in core_neurons[c]:
                    st.n_rec = K.advance_neuron(n, st.t_end, nrn, lp, syn, out, st.n_rec, counters, True)
            if st.routing:
                _hold(n0, buf, st)
            st.phase = PH_FINAL_ROUTE
            if st.write_flips and counters.logged_flips:
                return FLIPS
        else:
            if st.routing and not _route(st.t_end, table, lk, buf, st):
                return GROW
            return DONE


def spike_room(window: float, h: float, npc: int) -> int:
    """Room for the spikes of one core window beyond twice its events (the per-window bound)."""
    return 2 * npc * (int(math.ceil(window / h)) + 2) + 16
