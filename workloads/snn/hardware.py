"""Running a layered SNN on simulated crossbar tiles (docs/snn.md#hardware).

Mapping:

* each layer's synaptic matrix ``W`` (n_in x n_out) is an :class:`aimc_sim.crossbar.AnalogMatrix`;
  binary spikes drive the rows as 1-bit DAC inputs (unsigned, bound 1), so only active rows
  carry read current; with synaptic delays the matrix is the stacked ``(n_in (D+1)) x n_out``
  array of docs/snn.md#delay-buffers (row block ``d`` holds the weights with delay ``d``) fed by the spike history;
* axonal delays are a 1-bit ring buffer before the DAC, dendritic delays a ``current_bits`` ring
  buffer after the ADC, both in SRAM: their traffic is priced as 64-bit SRAM accesses per 64 bits read
  or written (write energy taken equal to read energy [proposal]); the word and bit counts
  (``delay_buffer_write``/``_read``[``_bits``]) and the memory (docs/snn.md#delay-buffers formulas,
  :func:`workloads.snn.delays.buffer_cost`) go to ``Result.extra``;
* spiking neurons are :class:`aimc_sim.circuits.LIFPopulation` / :class:`AdLIFPopulation` built
  from the trained parameters (they count ``neuron_spike``); the LI readout is a near-memory digital
  leaky accumulator (one fp32 multiply and one int32 add per neuron and step);
* ``sop`` (sum over steps of active inputs x fan-out) is reported, not priced: on the array the
  synaptic work is the array read and the conversions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aimc_sim.config import Config, check, int_in, nonnegative
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import FP32_ADD, FP32_MUL, INT32_ADD, NEURON_SPIKE, Memory, MemoryAccess
from aimc_sim.errors import DataError
from workloads.hwconfig import coerce_config
from workloads.result import Result, exclude_programming
from workloads.snn.data import SpikeDataset
from workloads.snn.delays import DelayLine
from workloads.snn.model import SNNLayer, SNNModel


@dataclass(frozen=True)
class SNNHardwareConfig(Config):
    """Where an SNN runs. ``tile``: tile preset name, YAML path, or dict of tile fields (``preset`` key
    names the base); ``t``: read time after programming (s); ``current_bits``: width of a stored
    summed current in dendritic delay buffers; ``batch``: samples simulated together."""

    tile: str | dict[str, Any] = "pcm-default"
    t: float = field(default=0.0, metadata=check(nonnegative))
    cost_model: str = "22nm"
    current_bits: int = field(default=16, metadata=check(int_in(1, 64)))
    batch: int = field(default=512, metadata=check(int_in(1)))

    def tile_config(self) -> Any:
        """The tile config with the DAC set to unsigned 1-bit spikes in [0, 1]."""
        from aimc_sim.crossbar import load_tile_config

        fields = {"preset": self.tile} if isinstance(self.tile, str) else dict(self.tile)
        base = fields.pop("preset", "pcm-default")
        dac = {"bits": 1, "bound": 1.0, "signed": False, **fields.pop("dac", {})}
        return load_tile_config(base, dac=dac, **fields)


def hardware_config(hardware: Any) -> SNNHardwareConfig:
    """Accept a config, a dict of fields or a YAML path."""
    return coerce_config(SNNHardwareConfig, hardware)


def _stacked(layer: SNNLayer) -> np.ndarray:
    """Synaptic delays as one (n_in (D+1)) x n_out matrix: block d holds the weights with delay d."""
    n_in, n_out = layer.shape
    depth = int(layer.delays.max()) + 1
    big = np.zeros((depth, n_in, n_out))
    i, j = np.indices((n_in, n_out))
    big[layer.delays, i, j] = layer.weight
    return big.reshape(depth * n_in, n_out)


class DigitalNeurons:
    """Near-memory digital neurons running :class:`NeuronDynamics` exactly (kinds without a circuit form).

    Per neuron and step the state update ``A x + B I`` costs ``k^2 + k`` multiplies and ``k^2`` adds
    (``k`` states); spikes are counted as ``neuron_spike``.
    """

    def __init__(self, dynamics: Any, batch: int, ledger: Ledger):
        self.dyn, self.ledger = dynamics, ledger
        self.x = dynamics.init(batch)

    @staticmethod
    def update_ops(states: int) -> tuple[int, int]:
        """(multiplies, adds) of one neuron's update ``A x + B I`` with ``states`` state variables."""
        return states * states + states, states * states

    def step(self, current: np.ndarray) -> np.ndarray:
        muls, adds = self.update_ops(self.dyn.states)
        self.x, s = self.dyn.step(self.x, current)
        self.ledger.add(FP32_MUL, float(current.size * muls))
        self.ledger.add(FP32_ADD, float(current.size * adds))
        self.ledger.add(NEURON_SPIKE, float(np.count_nonzero(s)))
        return s


def _neurons(layer: SNNLayer, batch: int, ledger: Ledger, dt: float) -> Any:
    """The population implementing ``layer.neurons``: the LIF / sparch adLIF circuit, else digital neurons."""
    from aimc_sim.circuits import AdLIFPopulation, LIFPopulation

    neu, fam = layer.neurons, layer.neurons.family
    plain = not (fam.get("strict") or fam.get("reset_delay") or "rediscretised" in fam)
    v_reset_uniform = neu.v_reset is None or np.ptp(neu.v_reset) == 0
    if neu.kind == "lif" and plain and v_reset_uniform and np.all(fam["alpha"] < 1):  # IF (alpha = 1): digital
        vr = 0.0 if neu.v_reset is None else float(neu.v_reset[0])
        return LIFPopulation.from_parameters(
            fam["alpha"], fam["gamma"], v_th=neu.theta, reset=neu.reset, v_reset=vr, dt=dt, batch=batch, ledger=ledger
        )
    if neu.kind == "adlif" and plain:
        return AdLIFPopulation.from_parameters(
            fam["alpha"], fam["beta"], fam["a"], fam["b"], theta=neu.theta, dt=dt, batch=batch, ledger=ledger
        )
    return DigitalNeurons(neu, batch, ledger)


class HardwareSNN:
    """An :class:`SNNModel` bound to a hardware config."""

    def __init__(self, model: SNNModel, hardware: Any = None):
        self.model = model
        self.hw = hardware_config(hardware)

    def program(self, rng: np.random.Generator, ledger: Ledger) -> list[Any]:
        """Program every layer's matrix (programming noise and faults are drawn here)."""
        from aimc_sim.crossbar import AnalogMatrix

        tile = self.hw.tile_config()
        mats = []
        for i, lay in enumerate(self.model.layers):
            w = _stacked(lay) if lay.delay_kind == "synaptic" else lay.weight
            mat = AnalogMatrix(tile, np.ascontiguousarray(w), rng, ledger=ledger, name=f"layer{i}")
            if lay.recurrent is not None:  # a second array driven by the layer's own spikes of the previous step
                rec = AnalogMatrix(tile, np.ascontiguousarray(lay.recurrent), rng, ledger=ledger, name=f"layer{i}")
                mat = (mat, rec)
            mats.append(mat)
        return mats

    def run(
        self, x: np.ndarray, mats: list[Any], ledger: Ledger, stats: Ledger | None = None
    ) -> tuple[np.ndarray, list[float]]:
        """Time-stepped hardware run on ``(T, B, n_in)`` spikes: readout (T, B, C) and spikes per layer.

        ``ledger`` gets the priced events, ``stats`` (optional) the unpriced counts (SOPs, buffer words/bits).
        BLAS runs single-threaded (small per-step products; see :meth:`SNNModel.run`).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._run(x, mats, ledger, Ledger() if stats is None else stats)

    def _run(self, x: np.ndarray, mats: list[Any], ledger: Ledger, stats: Ledger) -> tuple[np.ndarray, list[float]]:
        steps, batch, _ = x.shape
        m = self.model
        pops, lines, masks = [], [], []
        for i, lay in enumerate(m.layers):
            with ledger.scope(f"layer{i}"):
                pops.append(_neurons(lay, batch, ledger, m.dt) if lay.neurons.spiking else None)
            depth = 0 if lay.delays is None else int(lay.delays.max())
            lines.append(DelayLine(depth, batch, lay.shape[1] if lay.delay_kind == "dendritic" else lay.shape[0]))
            masks.append((_stacked(lay) != 0).astype(float) if lay.delay_kind == "synaptic" else None)
        v = [np.zeros((batch, lay.shape[1])) for lay in m.layers]  # membranes of non-spiking (LI) layers
        out = np.empty((steps, batch, m.layers[-1].shape[1]))
        counts = [0.0] * m.counted_layers
        prev = [np.zeros((batch, lay.shape[1])) for lay in m.layers]
        for t in range(steps):
            h = x[t]
            for i, (lay, mat, pop, line, mask) in enumerate(zip(m.layers, mats, pops, lines, masks)):
                with ledger.scope(f"layer{i}"):
                    with stats.scope(f"layer{i}"):
                        h = self._layer_step(lay, mat, line, mask, h, ledger, stats, prev[i], t)
                    if pop is not None:
                        h = pop.step(h).astype(float)
                        prev[i] = h
                        counts[i] += float(h.sum())
                    else:
                        li = lay.neurons
                        v[i] = li.A[:, 0, 0] * v[i] + li.B[:, 0] * h
                        ledger.add(FP32_MUL, v[i].size)
                        ledger.add(INT32_ADD, v[i].size)
                        h = v[i]
            out[t] = h
        return out, counts

    def _layer_step(
        self, lay: SNNLayer, mat: Any, line: DelayLine, mask: Any, h: np.ndarray, ledger, stats, s_prev, step: int
    ):
        """Delays, the analog MVM(s) and the event counts of one layer for one step."""
        rec = None
        if isinstance(mat, tuple):
            mat, rec = mat
        n_in, n_out = lay.shape
        batch = h.shape[0]

        def buffer(op: str, words: float, bits: float) -> None:
            stats.add(f"delay_buffer_{op}", words)
            stats.add(f"delay_buffer_{op}_bits", bits)
            ledger.add(MemoryAccess(Memory.SRAM, 64, op), bits / 64.0)  # 64-bit words

        if lay.delay_kind in ("axonal", "synaptic"):
            line.push(h)
            buffer("write", batch * n_in, batch * n_in)
            if lay.delay_kind == "axonal":
                h = line.read(lay.delays)
                buffer("read", batch * n_in, batch * n_in)
            else:
                depth = int(lay.delays.max()) + 1
                h = np.concatenate([line.read_all(d) for d in range(depth)], axis=1)
                buffer("read", batch * n_in * n_out, batch * n_in * depth)  # per-synapse gathers
        stats.add("sop", float(np.count_nonzero(h)) * n_out if mask is None else float((h @ mask).sum()))
        cur = mat.mvm(h, t=self.hw.t)
        if lay.bias is not None:
            cur = cur + lay.bias
            ledger.add(INT32_ADD, cur.size)
        if lay.delay_kind == "dendritic":
            bits = self.hw.current_bits
            line.push(cur)
            cur = line.read(lay.delays)
            buffer("write", batch * n_out, batch * n_out * bits)
            buffer("read", batch * n_out, batch * n_out * bits)
        if rec is not None:
            stats.add("sop", float(np.count_nonzero(s_prev)) * n_out)
            cur = cur + rec.mvm(s_prev, t=self.hw.t) + lay.recurrent_offset(step)
            ledger.add(INT32_ADD, cur.size * (1 if lay.recurrent_bias is None else 2))
        return cur

    def evaluate(self, dataset: Any, n_test: int | None = None, seed: int = 0) -> Result:
        """Accuracy, energy and latency per inference, spike counts and sparsity per layer, on the first
        ``n_test`` samples of ``dataset``: a :class:`SpikeDataset` (its test split) or a pair ``(x, y)`` of
        time-major spikes (T, n, n_in) and labels."""
        x, y = (dataset.x_test, dataset.y_test) if isinstance(dataset, SpikeDataset) else dataset
        x, y = _check_data(self.model, x, y)
        if n_test is not None:
            x, y = x[:, :n_test], y[:n_test]
        rng = np.random.default_rng(seed)
        ledger = Ledger()
        mats = self.program(rng, ledger)
        at_programming = Ledger()
        at_programming.merge(ledger)
        stats = Ledger()
        t0 = time.perf_counter()
        readouts, counts = [], np.zeros(self.model.counted_layers)
        for j in range(0, x.shape[1], self.hw.batch):
            r, c = self.run(x[:, j : j + self.hw.batch], mats, ledger, stats)
            readouts.append(r)
            counts += c
        wall = time.perf_counter() - t0
        exclude_programming(ledger, at_programming)  # programming is not per inference
        readout = np.concatenate(readouts, axis=1)
        res = _result(self.model, readout, y, counts, ledger, self.hw.cost_model)
        res.extra.update({f"count.{lay}.{ev}": v / x.shape[1] for (lay, ev), v in stats.counts.items()})
        res.n_tiles = sum(getattr(a, "n_tiles", 1) for mat in mats for a in (mat if isinstance(mat, tuple) else (mat,)))
        res.extra.update({"backend": "analog", "tile": str(self.hw.tile), "t_read_s": self.hw.t, "wall_s": wall})
        return res


def _check_data(model: SNNModel, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y)
    n_in = model.layers[0].shape[0]
    if x.ndim != 3 or x.shape[2] != n_in:
        raise DataError("x", f"must have shape (T, n, {n_in}) (time-major spikes), got {x.shape}")
    if y.shape != (x.shape[1],):
        raise DataError("y", f"must have shape ({x.shape[1]},), got {y.shape}")
    return x, y


def evaluate_float(model: SNNModel, x: np.ndarray, y: np.ndarray, cost_model: str | None = None) -> Result:
    """Float (numpy) reference run with the same statistics as :meth:`HardwareSNN.evaluate`."""
    x, y = _check_data(model, x, y)
    t0 = time.perf_counter()
    run = model.run(x)
    wall = time.perf_counter() - t0
    res = _result(model, run.readout, y, np.asarray(run.spike_counts), None, cost_model)
    res.extra.update({"backend": "float", "wall_s": wall})
    return res


def _result(model, readout, y, counts, ledger, cost_model) -> Result:
    steps, n = readout.shape[:2]
    acc = float(np.mean(readout.mean(axis=0).argmax(axis=1) == y))
    neurons = [lay.shape[1] for lay in model.layers[: model.counted_layers]]
    extra: dict[str, Any] = {"steps": steps, "dt_s": model.dt, "stream_time_s": steps * model.dt}
    extra.update({f"meta.{k}": v for k, v in model.metadata.items()})
    for i, (c, nn) in enumerate(zip(counts, neurons)):
        extra[f"spikes_per_sample.layer{i}"] = float(c) / n
        extra[f"sparsity.layer{i}"] = 1.0 - float(c) / (nn * steps * n)
    for i, cost in enumerate(model.buffer_costs()):
        if cost is not None:
            kind = model.layers[i].delay_kind
            for k, v in cost.items():
                extra[f"delay_buffer.layer{i}.{kind}.{k}"] = v
    res = Result(accuracy=acc, n_samples=n, extra=extra)
    res.complexity = {"synapses": float(sum(lay.weight.size for lay in model.layers)), "neurons": float(sum(neurons))}
    if ledger is not None:
        _price(res, ledger, cost_model, n)
    return res


def _price(res: Result, ledger: Ledger, cost_model: str | None, n: int) -> None:
    """Energy and latency per inference from the cost model (event counts always go to ``extra``)."""
    for (layer, event), v in ledger.counts.items():
        res.extra[f"count.{layer}.{event}"] = v / n
    if cost_model is None:
        return
    from aimc_sim.cost import CostModel

    res.add_cost(CostModel.load(cost_model).price(ledger), n)
