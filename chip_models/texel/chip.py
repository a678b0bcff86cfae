"""The event-driven TEXEL-style chip: cores of DPI/AdExp neurons with plastic and static synapses.

Execution: one numba loop (``_engine.run_chip``) consumes each core's merged, time-sorted input
stream window by window (``aer.batch_window``, shorter with routing), together with the spikes
the on-chip router delivers (``router.py``). The event kernel advances only the neurons that
receive events (lazily, exact decays, bounded AdExp steps while active; ``_kernels``), applies
the learning rule and records the output spikes; at the end of each window the awake neurons are
advanced too, sleeping ones stay lazy. The loop returns to Python only to write devices through
a device model, refill its pool of random normals or grow a buffer. Output spikes then go to one
SimPy *encoder* process per core, which competes for the shared output arbiter (a
``simpy.Resource`` with ``aer.output_service_time``) before the event leaves the chip. The input
bus is a FIFO single server with ``aer.input_service_time`` (computed by the Lindley recursion,
equal to a ``simpy.Resource`` queue, see tests). Nothing loops over idle neurons per time step.

Learning writes to the devices: ``parallel_write()`` (host command, default trigger) or, with
``devices.write_trigger = write_on_flip``, a POT/DEP write right after the event that flipped a
binary weight; presynaptic reads between writes go through the normaliser (``readout``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import simpy

from aimc_sim.cost import Ledger
from aimc_sim.cost.events import DEVICE_WRITE, NEURON_SPIKE, ROUTER_EVENT, SYNAPTIC_EVENT, Named
from aimc_sim.errors import ConfigError, SimulationError
from chip_models.texel import _engine as E
from chip_models.texel import _kernels as K
from chip_models.texel.aer import AerError, SpikeInput, validate_input
from chip_models.texel.config import TexelConfig
from chip_models.texel.devices import SocketBank
from chip_models.texel.learning import drift
from chip_models.texel.params import build_params
from chip_models.texel.router import LINK_CLASSES, ROUTER_DROP, ROUTER_HOP, Router
from chip_models.texel.rules import learning_record

LAYER = "texel"
NORMAL_POOL = 1 << 16  # pre-drawn normals for in-kernel device writes
PARALLEL_WRITE = Named("parallel_write")


@dataclass(frozen=True)
class Probes:
    """Sample times (s) at which to record the state of global neuron ``neuron`` and its plastic synapse ``synapse``."""

    t: np.ndarray
    neuron: int
    synapse: int = 0


@dataclass
class ChipResult:
    """What one :meth:`TexelChip.run` produced.

    ``spike_t/spike_neuron``: spikes at the neurons (global index = core·neurons_per_core + neuron).
    ``out_t/out_neuron``: the same events as delivered by the AER output (after arbitration and
    latency; those still queued at the end of the run are delivered by the next run).
    ``probes``: columns of ``_kernels.PROBE_COLS``. ``rho``/``weights``: capacitor state and binary
    readout at the end. ``counts``: plastic/static synaptic events, weight flips, spikes.
    """

    t_start: float
    t_end: float
    spike_t: np.ndarray
    spike_neuron: np.ndarray
    out_t: np.ndarray
    out_neuron: np.ndarray
    probes: dict[str, np.ndarray]
    rho: np.ndarray
    weights: np.ndarray
    counts: dict[str, int]


class TexelChip:
    """The chip: ``TexelChip(config, rng)``, then :meth:`run` (repeatedly), :meth:`parallel_write`,
    :meth:`power_cycle`, :meth:`set_dc`; the :attr:`ledger` counts every event."""

    def __init__(self, config: TexelConfig | None = None, rng: np.random.Generator | None = None):
        if not isinstance(rng, np.random.Generator):
            raise ConfigError("rng", f"must be a numpy.random.Generator, got {rng!r}")
        self.config = cfg = config if config is not None else TexelConfig.default()
        self.rng = rng
        inv = cfg.inventory
        self.n_neurons, self.n_plastic, self.n_static = inv.neurons, inv.plastic_per_neuron, inv.static_per_neuron
        n, p = self.n_neurons, self.n_plastic
        self.ledger = Ledger()
        self.env = simpy.Environment()
        self.arbiter = simpy.Resource(self.env, capacity=1)
        prm = build_params(cfg, rng)
        self.npar, self.tau_pre, self.jump_cap, self.read_gain, self.jump_static = prm
        self._learn = learning_record(cfg.learning)
        self.lp = self._learn[0]
        self.ns = np.zeros((n, K.N_STATE))
        self.ns[:, K.I_MEM] = cfg.neuron.I0
        self.x_pre = np.zeros(n * p)
        self.rho = np.full(n * p, cfg.learning.rho_init)
        self.t_syn = np.zeros(n * p)
        self.importance = np.zeros(n * p)  # the metaplastic rule's per-synapse state (rules.py)
        self._counts = K.counter_record()
        self.counters = self._counts[0]  # the record the kernels update
        self._count = self._counts.view(np.ndarray)  # fast field access from Python: self._count["spikes"][0]
        self.sockets: SocketBank | None = None
        self._flip_writes = cfg.devices.kind != "capacitor" and cfg.devices.write_trigger == "write_on_flip"
        self.jump_dev = np.zeros(n * p)
        if cfg.devices.kind != "capacitor":
            high = self.rho > cfg.learning.theta_rho
            self.sockets = SocketBank(cfg.core_devices(), inv.neurons_per_core * p, high, rng)
            self._written = high.copy()
            self._refresh_device_reads()
        self._normals = np.zeros(0)
        dev = self._device_arrays()
        self.neurons = K.Neurons(self.ns, self.npar)
        self.synapses = K.Synapses(
            self.x_pre, self.rho, self.t_syn, self.tau_pre, self.jump_cap, self.jump_dev, self.jump_static,
            np.zeros(n * p, dtype=np.int64), self.importance, p, self.n_static, dev,
        )  # fmt: skip
        self._bus_free = -math.inf
        self._pending: SpikeInput | None = None
        self._out_pending = (np.zeros(0), np.zeros(0, dtype=np.int64))  # delivered by the AER output after now
        self._encoded: list[tuple[float, int]] = []  # delivered by the encoders during a run
        self.router = Router(cfg.routing, inv.neurons_per_core, inv.cores, inv.synapses_per_neuron, cfg.neuron.h)
        self._core_neurons = np.arange(n, dtype=np.int64).reshape(inv.cores, inv.neurons_per_core)
        self._state = E.state_record()
        self._st = self._state[0]  # the record the run loop updates; spikes held and routed events persist
        z = np.zeros(0)
        zi = np.zeros(0, dtype=np.int64)
        self._buf = E.Buffers(z, zi, z, zi, z, zi, zi, z, zi, zi, np.zeros((0, len(K.PROBE_COLS))))
        self._stores = [simpy.Store(self.env) for _ in range(inv.cores)]
        for c in range(inv.cores):
            self.env.process(self._encoder(c))

    # ------------------------------------------------------------------ public state
    @property
    def now(self) -> float:
        """Chip time (s): the end of the last run."""
        return float(self.env.now)

    def neuron_index(self, core: int, neuron: int) -> int:
        """Global neuron index of (core, neuron)."""
        return core * self.config.inventory.neurons_per_core + neuron

    def sync_synapses(self) -> None:
        """Bring every pre-trace and ρ to the current time (exact decay and drift)."""
        dt = self.now - self.t_syn
        self.x_pre *= np.exp(-dt / self.tau_pre)
        self.rho[:] = drift(self.rho, dt, self.config.learning)
        self.t_syn[:] = self.now

    def weights(self) -> np.ndarray:
        """Binary readout [ρ > θ_ρ] of every plastic synapse, shape (neurons, plastic)."""
        self.sync_synapses()
        return (self.rho > self.config.learning.theta_rho).reshape(self.n_neurons, self.n_plastic)

    def device_read(self) -> np.ndarray:
        """I_norm/norm_bias of every plastic synapse read through its devices, shape (neurons, plastic)."""
        self._need_devices("device_read")
        return self.sockets.read(self.config.read).reshape(self.n_neurons, self.n_plastic)

    def set_rho(self, rho: np.ndarray) -> None:
        """Set the capacitor variable ρ of every plastic synapse (shape (neurons, plastic), values in [0, 1])."""
        rho = np.asarray(rho, dtype=float)
        if rho.shape != (self.n_neurons, self.n_plastic):
            raise ConfigError("rho", f"must have shape ({self.n_neurons}, {self.n_plastic}), got {rho.shape}")
        if not np.all((rho >= 0.0) & (rho <= 1.0)):
            raise ConfigError("rho", "values must be in [0, 1]")
        self.sync_synapses()
        self.rho[:] = rho.ravel()
        self._count["logged_flips"] = self.rho.size + 1  # any synapse may have flipped: compare all

    def set_plastic_enable(self, enabled: bool) -> None:
        """Switch all learning on or off (the ``plastic_enable`` bias of the gate G)."""
        self.lp.enable = 1.0 if enabled else 0.0

    def set_dc(self, neurons: np.ndarray | int, current: float) -> None:
        """Set a DC input current (A) into the given global neurons from now on."""
        idx = np.atleast_1d(np.asarray(neurons))
        if idx.dtype.kind not in "iu" or ((idx < 0) | (idx >= self.n_neurons)).any():
            raise ConfigError("neurons", f"must be integer neuron indices in 0..{self.n_neurons - 1}, got {neurons!r}")
        if not (isinstance(current, (int, float)) and math.isfinite(current) and 0.0 <= current <= 1e-3):
            raise ConfigError("current", f"must be a finite current in [0, 1e-3] A, got {current!r}")
        self.ns[idx, K.I_DC] = current

    def _device_arrays(self) -> K.DeviceArrays:
        """What the kernel needs to write binary socket devices itself on every flip (write_on_flip with
        ``binary`` devices on all cores); otherwise empty arrays and flips are written from Python."""
        cfg = K.device_record()
        self._fast_writes = self._flip_writes and self.sockets.all_binary
        if not self._fast_writes:
            z1, z2 = np.zeros(0), np.zeros((2, 0))
            return K.DeviceArrays(z2, z2, z2, z1, z1, z1, np.zeros(0, dtype=bool), z1, cfg)
        rd = self.config.read
        cfg[0] = (1.0, rd.v_read, rd.t_read, rd.i_floor, 1.0 if rd.law == "hard_threshold" else 0.0, rd.norm_bias)
        prm = self.sockets.binary_parameters()
        self._normal_rng = self.rng.spawn(1)[0]  # its own stream: the caller's draws from rng are unchanged
        self._normals = self._normal_rng.standard_normal(NORMAL_POOL)
        return K.DeviceArrays(
            self.sockets.r, prm["r_on"], prm["r_off"], prm["sigma_c2c"], prm["c_dev"], self.read_gain,
            self._written, self._normals, cfg,
        )  # fmt: skip

    def _refill_normals(self) -> None:
        """Keep the kernel's pool of C2C normals at least half full (in place: the kernel holds it)."""
        used = int(self._count["normals_used"][0])
        if used > NORMAL_POOL // 2:
            rest = NORMAL_POOL - used
            self._normals[:rest] = self._normals[used:]
            self._normals[rest:] = self._normal_rng.standard_normal(used)
            self._count["normals_used"] = 0

    def connect(self, pre: np.ndarray, post: np.ndarray, synapse: np.ndarray) -> None:
        """Route the spikes of global neurons ``pre`` to synapse ``synapse`` of global neurons ``post``
        through the on-chip router (same core, other core, or another chip; ``router.py``)."""
        self.router.connect(pre, post, synapse)

    # ------------------------------------------------------------------ devices
    def _need_devices(self, what: str) -> None:
        if self.sockets is None:
            raise ConfigError("devices.kind", f"{what} needs devices on the synapses, but kind is 'capacitor'")

    def _refresh_device_reads(self, idx: np.ndarray | None = None) -> None:
        """Read the devices (all, or the synapses ``idx``) into the DPI jump of each read spike."""
        if idx is None:
            self.jump_dev[:] = self.sockets.read(self.config.read) * self.config.read.norm_bias * self.read_gain
        else:
            frac = self.sockets.read(self.config.read, idx=idx)
            self.jump_dev[idx] = frac * self.config.read.norm_bias * self.read_gain[idx]

    def _write(self, idx: np.ndarray, high: np.ndarray) -> int:
        pulses = self.sockets.write(idx, high, self.rng)
        self._written[idx] = high
        self.ledger.add(DEVICE_WRITE, pulses, layer=LAYER)
        self._refresh_device_reads(None if idx.size == self._written.size else idx)
        return pulses

    def parallel_write(self) -> int:
        """Host command: write the binary state of every plastic synapse to its devices at once
        (POT where ρ > θ_ρ, DEP elsewhere). Returns the number of synapses written."""
        self._need_devices("parallel_write")
        self.sync_synapses()
        high = self.rho > self.config.learning.theta_rho
        self._write(np.arange(high.size), high)
        self.ledger.add(PARALLEL_WRITE, 1, layer=LAYER)
        return int(high.size)

    def _write_flips(self) -> None:
        """POT/DEP the synapses whose binary readout flipped since their last write (write_on_flip)."""
        n_log = int(self._count["logged_flips"][0])
        if n_log == 0:
            return
        log = self.synapses.flip_log
        cand = np.unique(log[:n_log]) if n_log <= log.size else np.arange(self.rho.size)
        self._count["logged_flips"] = 0
        want = self.rho[cand] > self.config.learning.theta_rho
        changed = want != self._written[cand]
        if changed.any():
            self._write(cand[changed], want[changed])

    def power_cycle(self) -> np.ndarray:
        """Simulated power cycle: capacitors, traces, importances and neurons reset; ρ restored from the devices
        (1 where I_pos > I_neg, else 0). Returns the restored binary weights (neurons, plastic)."""
        self._need_devices("power_cycle")
        frac = self.sockets.read(self.config.read)
        self.rho[:] = np.where(frac > 0.0, 1.0, 0.0)
        self._count["logged_flips"] = self.rho.size + 1
        self.x_pre[:] = 0.0
        self.importance[:] = 0.0
        self.t_syn[:] = self.now
        self.ns[:, K.I_MEM] = self.config.neuron.I0
        self.ns[:, [K.I_AHP, K.I_EXC, K.I_INH, K.X_POST, K.X_CA]] = 0.0
        self.ns[:, K.REF_UNTIL] = 0.0
        return self.weights()

    # ------------------------------------------------------------------ running
    def run(self, inputs: SpikeInput | None, duration: float, probes: Probes | None = None) -> ChipResult:
        """Run the chip for ``duration`` seconds from :attr:`now`, feeding ``inputs`` (absolute times)."""
        if not (isinstance(duration, (int, float)) and math.isfinite(duration) and duration > 0):
            raise ConfigError("duration", f"must be a finite number > 0 s, got {duration!r}")
        t_start, t_end = self.now, self.now + float(duration)
        inp = validate_input(inputs if inputs is not None else SpikeInput.empty(), self.config.inventory, t_start)
        if len(inp) and inp.t[-1] > t_end:
            i = int(np.searchsorted(inp.t, t_end, side="right"))
            raise AerError(
                f"inputs.t[{i}]", f"event at {float(inp.t[i])!r} s is after the end of this run ({t_end!r} s)"
            )
        probe_ev = self._probe_events(probes, t_start, t_end)
        ev_t, ev_n, ev_s = self._arrivals(inp, t_end)
        if probe_ev is not None:
            ev_t = np.concatenate([ev_t, probe_ev[0]])
            order = np.argsort(ev_t, kind="stable")
            ev_t = ev_t[order]
            ev_n = np.concatenate([ev_n, probe_ev[1]])[order]
            ev_s = np.concatenate([ev_s, probe_ev[2]])[order]
        counts0 = self._count[0].copy()
        hops0, drops0 = self.router.hops, self.router.dropped
        self._run_loop(ev_t, ev_n, ev_s, t_start, t_end, 0 if probe_ev is None else probe_ev[0].size)
        self._book(counts0, hops0, drops0)
        spike_t, spike_n = self._buf.rec_t[: self._st.n_rec], self._buf.rec_n[: self._st.n_rec]
        order = np.argsort(spike_t, kind="stable")
        spike_t, spike_n = spike_t[order], spike_n[order]
        self._output(spike_t, spike_n, t_end)
        return self._result(t_start, t_end, spike_t, spike_n, counts0)

    def _run_loop(self, ev_t, ev_n, ev_s, t_start: float, t_end: float, n_probe_events: int) -> None:
        """Run the numba loop over the whole run, acting on what it returns for."""
        cfg, st = self.config, self._st
        npc, h = cfg.inventory.neurons_per_core, cfg.neuron.h
        window = cfg.aer.batch_window
        routing = self.router.n_connections > 0
        if routing:  # conservative lookahead: see router.py
            window = min(window, self.router.min_latency() - h)
        core = ev_n // npc
        by_core = np.argsort(core, kind="stable")  # each core's events stay in time order
        starts = np.searchsorted(core[by_core], np.arange(cfg.inventory.cores + 1)).astype(np.int64)
        streams = E.Streams(ev_t[by_core], ev_n[by_core], ev_s[by_core], starts, starts[:-1].copy())
        self._buf = self._buf._replace(probes=np.empty((n_probe_events, len(K.PROBE_COLS))))
        st.t0, st.t1, st.t_end = t_start, min(t_start + window, t_end), t_end
        st.window, st.h, st.refill_at = window, h, NORMAL_POOL // 2
        st.phase, st.core, st.n_rec, st.n_probe = E.PH_BUILD, 0, 0, 0
        st.spike_room = E.spike_room(window, h, npc)
        st.routing, st.max_targets = routing, self.router.max_targets
        st.write_flips = self._flip_writes
        st.stop_on_flip = self._flip_writes and not self._fast_writes
        st.device_mode = self.sockets is not None
        while True:
            status = E.run_chip(
                st, streams, self.router.table, self.router.state, self._buf, self._core_neurons, self.neurons,
                self.lp, self.synapses, self.counters,
            )  # fmt: skip
            if status == E.DONE:
                break
            if status == E.FLIPS:
                self._write_flips()
            elif status == E.REFILL:
                self._refill_normals()
            else:
                self._grow()
        if self._count["lost_spikes"][0]:
            raise SimulationError(
                f"{int(self._count['lost_spikes'][0])} output spikes exceeded the per-window buffer; "
                "reduce aer.batch_window"
            )

    def _grow(self) -> None:
        """Enlarge what the loop asked for (to twice the need, keeping the contents)."""
        st, buf = self._st, self._buf
        if st.need_queue:
            self.router.grow_queues(int(st.need_queue))
        grown = {}
        for need, names in (
            (st.need_rec, ("rec_t", "rec_n")),
            (st.need_held, ("held_t", "held_n")),
            (st.need_pool, ("pool_t", "pool_n", "pool_s")),
            (st.need_win, ("win_t", "win_n", "win_s")),
        ):
            for name in names if need else ():
                old = getattr(buf, name)
                new = np.empty(2 * int(need), dtype=old.dtype)
                new[: old.size] = old
                grown[name] = new
        self._buf = buf._replace(**grown)

    def _book(self, counts0: np.void, hops0: dict[str, int], drops0: int) -> None:
        """Count the run's events in the ledger."""
        c = self._count[0]
        synaptic = c["plastic_events"] + c["static_events"] - counts0["plastic_events"] - counts0["static_events"]
        for event, n in (
            (SYNAPTIC_EVENT, synaptic),
            (NEURON_SPIKE, c["spikes"] - counts0["spikes"]),
            (DEVICE_WRITE, c["device_pulses"]),  # the kernel's own writes (binary sockets)
        ):
            self.ledger.add(event, int(n), layer=LAYER)
        self._count["device_pulses"] = 0
        hops = self.router.hops
        for cls in LINK_CLASSES:
            self.ledger.add(ROUTER_HOP[cls], hops[cls] - hops0[cls], layer=LAYER)
        self.ledger.add(ROUTER_DROP, self.router.dropped - drops0, layer=LAYER)

    def _output(self, spike_t: np.ndarray, spike_n: np.ndarray, t_end: float) -> None:
        """The spikes leave through the AER output: latency only, or the encoders and their arbiter (SimPy)."""
        aer = self.config.aer
        if aer.output_service_time == 0.0:  # a zero-time arbiter never reorders or delays
            t, n = self._out_pending
            self._out_pending = (np.concatenate([t, spike_t + aer.output_latency]), np.concatenate([n, spike_n]))
            self.ledger.add(ROUTER_EVENT, spike_t.size, layer=LAYER)
        else:
            npc = self.config.inventory.neurons_per_core
            for ti, ni in zip(spike_t.tolist(), spike_n.tolist()):
                self._stores[ni // npc].put((ti, ni))
        self.env.run(until=t_end)

    def _probe_events(self, probes: Probes | None, t0: float, t1: float):
        if probes is None:
            return None
        t = np.asarray(probes.t, dtype=float)
        if t.ndim != 1 or (t.size and (np.any(np.diff(t) < 0) or t[0] < t0 or t[-1] > t1)):
            raise ConfigError("probes.t", f"must be sorted times within the run [{t0!r}, {t1!r}] s")
        if not 0 <= probes.neuron < self.n_neurons:
            raise ConfigError("probes.neuron", f"must be in 0..{self.n_neurons - 1}, got {probes.neuron!r}")
        if not 0 <= probes.synapse < self.n_plastic:
            raise ConfigError("probes.synapse", f"must be in 0..{self.n_plastic - 1}, got {probes.synapse!r}")
        k = t.size
        return t, np.full(k, probes.neuron, dtype=np.int64), np.full(k, -1 - probes.synapse, dtype=np.int64)

    def _arrivals(self, inp: SpikeInput, t_end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input events after the input bus (FIFO, service time) and latency; late ones wait for the next run."""
        aer = self.config.aer
        t = inp.t
        if aer.input_service_time > 0 and t.size:
            arr = np.maximum(t, self._bus_free)
            t = K.fifo_departures(arr, aer.input_service_time)
            self._bus_free = float(t[-1])
        t = t + aer.input_latency
        npc = self.config.inventory.neurons_per_core
        new = SpikeInput(t, inp.core, inp.neuron, inp.synapse)
        if self._pending is not None:
            new = SpikeInput.concat([self._pending, new])
            self._pending = None
        late = new.t > t_end
        if late.any():
            self._pending = SpikeInput(new.t[late], new.core[late], new.neuron[late], new.synapse[late])
        ok = ~late
        return new.t[ok], (new.core[ok] * npc + new.neuron[ok]).astype(np.int64), new.synapse[ok].astype(np.int64)

    def _encoder(self, core: int):
        """SimPy process: AER output encoder of one core, contending for the shared arbiter."""
        env, aer, store = self.env, self.config.aer, self._stores[core]
        while True:
            t, n = yield store.get()
            if t > env.now:
                yield env.timeout(t - env.now)
            with self.arbiter.request() as req:
                yield req
                yield env.timeout(aer.output_service_time)
            self._encoded.append((env.now + aer.output_latency, n))
            self.ledger.add(ROUTER_EVENT, 1, layer=LAYER)

    def _result(
        self, t_start: float, t_end: float, spike_t: np.ndarray, spike_n: np.ndarray, counts0: np.void
    ) -> ChipResult:
        t, n = self._out_pending
        if self._encoded:
            enc = np.array(self._encoded)
            t, n = np.concatenate([t, enc[:, 0]]), np.concatenate([n, enc[:, 1].astype(np.int64)])
            self._encoded = []
        done = t <= t_end
        order = np.argsort(t[done], kind="stable")
        out_t, out_n = t[done][order], n[done][order]
        self._out_pending = (t[~done], n[~done])
        rows = self._buf.probes[: self._st.n_probe]
        rows = rows[np.argsort(rows[:, 0], kind="stable")]
        probes = {name: rows[:, i] for i, name in enumerate(K.PROBE_COLS)}
        names = ("plastic_events", "static_events", "weight_flips", "spikes")
        counts = {name: int(self._count[name][0] - counts0[name]) for name in names}
        w = self.weights()
        return ChipResult(t_start, t_end, spike_t, spike_n, out_t, out_n, probes, self.rho.copy(), w, counts)
