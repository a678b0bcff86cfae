"""Native layered SNN (float reference): LIF/adLIF layers, recurrence, delays, LI readout.

Layer ``l`` maps spikes ``x`` (B, n_in) to spikes (B, n_out) each step:

1. axonal delay ``x~_i = x_i[t - d_i]`` (optional);
2. current ``I = x~ W + b`` (+ ``s[t-1] W_rec`` when recurrent); with synaptic delays
   ``I_j = sum_i W_ij x_i[t - d_ij] + b_j``;
3. dendritic delay ``I_j <- I_j[t - d_j]`` (optional);
4. neuron dynamics (:mod:`workloads.snn.dynamics`).

The last layer is a non-spiking LI readout (class logits: its membrane averaged over time) or a spiking
layer (logits: its spike rates, as snnTorch classifiers read them).
This model defines the semantics of the shipped trained network; LIF-only models export to and
import from NIR (:meth:`SNNModel.to_nir`, :meth:`SNNModel.from_nir`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.snn.delays import DelayLine, buffer_cost, check_delays
from workloads.snn.discretise import li_coefficients, li_parameters
from workloads.snn.dynamics import NeuronDynamics, lif

if TYPE_CHECKING:
    from workloads.snn.hardware import HardwareSNN


def recurrent_offset(bias: np.ndarray | None, start: str, step: int) -> np.ndarray | float:
    """A recurrent Affine's bias at ``step``: the bias, except 0 at step 0 under ``start="zero"``
    (docs/snn.md, ``recurrent_start``)."""
    if bias is None or (step == 0 and start == "zero"):
        return 0.0
    return bias


@dataclass(frozen=True)
class SNNLayer:
    """One synaptic matrix ``weight`` (n_in, n_out) plus its neurons and optional delays."""

    weight: np.ndarray
    neurons: NeuronDynamics
    bias: np.ndarray | None = None
    recurrent: np.ndarray | None = None
    delay_kind: str | None = None
    delays: np.ndarray | None = None
    recurrent_bias: np.ndarray | None = None
    recurrent_start: str = "bias"

    def __post_init__(self) -> None:
        n_in, n_out = self.weight.shape
        if self.recurrent_bias is not None and (self.recurrent is None or self.recurrent_bias.shape != (n_out,)):
            raise ConfigError("recurrent_bias", f"needs a recurrent matrix and shape {(n_out,)}")
        if self.recurrent_start not in ("bias", "zero"):
            raise ConfigError("recurrent_start", f"must be one of ('bias', 'zero'), got {self.recurrent_start!r}")
        if self.neurons.size != n_out:
            raise ConfigError("neurons", f"inconsistent shapes: {self.neurons.size} neurons for {n_out} columns")
        if self.recurrent is not None and self.recurrent.shape != (n_out, n_out):
            raise ConfigError("recurrent", f"inconsistent shapes: need {(n_out, n_out)}, got {self.recurrent.shape}")
        if self.bias is not None and self.bias.shape != (n_out,):
            raise ConfigError("bias", f"inconsistent shapes: need {(n_out,)}, got {self.bias.shape}")
        if self.delay_kind is not None:
            object.__setattr__(self, "delays", check_delays(self.delay_kind, self.delays, n_in, n_out))

    @property
    def shape(self) -> tuple[int, int]:
        return self.weight.shape

    def recurrent_offset(self, step: int) -> np.ndarray | float:
        """The recurrent Affine's bias at ``step`` (0 at step 0 under ``recurrent_start="zero"``)."""
        return recurrent_offset(self.recurrent_bias, self.recurrent_start, step)

    def buffer_cost(self, current_bits: int = 16) -> dict[str, float] | None:
        """Delay-buffer memory and traffic of this layer (docs/snn.md#delay-buffers), or None without delays."""
        if self.delay_kind is None:
            return None
        return buffer_cost(self.delay_kind, *self.shape, self.delays, current_bits)


@dataclass
class SNNRun:
    """Float run output: readout (T, B, n_classes; LI membrane or output spikes) and spikes per counted layer."""

    readout: np.ndarray
    spike_counts: list[float]
    neurons: list[int]
    steps: int
    batch: int

    @property
    def logits(self) -> np.ndarray:
        return self.readout.mean(axis=0)

    def sparsity(self) -> list[float]:
        return [1.0 - c / (n * self.steps * self.batch) for c, n in zip(self.spike_counts, self.neurons)]


class LayerState:
    """Per-run state of a layer: neuron state, previous spikes and delay lines."""

    def __init__(self, layer: SNNLayer, batch: int):
        n_in, n_out = layer.shape
        self.x = layer.neurons.init(batch)
        self.s = np.zeros((batch, n_out))
        self.step = 0
        d = 0 if layer.delays is None else int(layer.delays.max())
        width = n_out if layer.delay_kind == "dendritic" else n_in
        self.line = DelayLine(d, batch, width) if layer.delay_kind else None
        if layer.delay_kind == "synaptic":
            self.groups = [(int(v), np.where(layer.delays == v, layer.weight, 0.0)) for v in np.unique(layer.delays)]


def synaptic_input(layer: SNNLayer, st: LayerState, x: np.ndarray, matmul: Any = None) -> np.ndarray:
    """The neurons' input current for one step (delays applied). ``matmul(x, w)`` defaults to ``x @ w``."""
    mm = matmul or (lambda a, w: a @ w)
    kind = layer.delay_kind
    if kind == "axonal":
        st.line.push(x)
        cur = mm(st.line.read(layer.delays), layer.weight)
    elif kind == "synaptic":
        st.line.push(x)
        cur = sum(mm(st.line.read_all(d), g) for d, g in st.groups)
    else:
        cur = mm(x, layer.weight)
    if layer.bias is not None:
        cur = cur + layer.bias
    if kind == "dendritic":
        st.line.push(cur)
        cur = st.line.read(layer.delays)
    if layer.recurrent is not None:
        cur = cur + st.s @ layer.recurrent + layer.recurrent_offset(st.step)
    st.step += 1
    return cur


@dataclass
class SNNModel:
    """A stack of :class:`SNNLayer` (the last one an LI readout or spiking) at step ``dt`` (s)."""

    layers: list[SNNLayer]
    dt: float
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.layers:
            raise ConfigError("layers", "need at least one layer")
        for i in range(1, len(self.layers)):
            if self.layers[i].shape[0] != self.layers[i - 1].shape[1]:
                n_in, n_prev = self.layers[i].shape[0], self.layers[i - 1].shape[1]
                raise ConfigError(f"layers[{i}].weight", f"inconsistent shapes: {n_in} inputs after {n_prev} outputs")

    @property
    def counted_layers(self) -> int:
        """Layers whose spikes are counted: all but an LI readout (a spiking last layer is rate-read)."""
        return len(self.layers) - (0 if self.layers[-1].neurons.spiking else 1)

    def run(self, x: np.ndarray) -> SNNRun:
        """Float forward pass on time-major input ``(T, B, n_in)``.

        BLAS runs single-threaded here: the per-step products are small, and on a shared 2-core machine
        multi-threaded BLAS spin-waits cost ~10x (benchmarks/bench_snn.py measures both ways).
        """
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"):
            return self._run(x)

    def _run(self, x: np.ndarray) -> SNNRun:
        x = np.asarray(x, dtype=float)
        if x.ndim != 3 or x.shape[2] != self.layers[0].shape[0]:
            raise ConfigError("x", f"must have shape (T, B, {self.layers[0].shape[0]}), got {x.shape}")
        steps, batch, _ = x.shape
        states = [LayerState(lay, batch) for lay in self.layers]
        counts = [0.0] * self.counted_layers
        out = np.empty((steps, batch, self.layers[-1].shape[1]))
        for t in range(steps):
            h = x[t]
            for i, (lay, st) in enumerate(zip(self.layers, states)):
                cur = synaptic_input(lay, st, h)
                st.x, h = lay.neurons.step(st.x, cur)
                if lay.neurons.spiking:
                    st.s = h
                    counts[i] += float(h.sum())
            out[t] = h
        return SNNRun(out, counts, [lay.shape[1] for lay in self.layers[: self.counted_layers]], steps, batch)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted class per sample (argmax of the time-averaged readout)."""
        return self.run(x).logits.argmax(axis=1)

    def on(self, hardware: Any = None) -> HardwareSNN:
        """This model bound to a hardware config: a :class:`workloads.snn.hardware.HardwareSNN`."""
        from workloads.snn.hardware import HardwareSNN

        return HardwareSNN(self, hardware)

    # ------------------------------------------------------------------ dt adaptation
    def at_dt(self, new_dt: float, method: str = "mapping", input_semantics: str = "impulse") -> SNNModel:
        """This model for data at step ``new_dt``.

        ``mapping``: SSM re-discretisation of every layer (docs/snn.md#time-resolution-adaptation),
        delays ``round(d / r)``;
        ``tau_scaling``: decay factors ``^r`` only, delays rescaled; ``naive``: parameters reused.
        """
        if method not in ("mapping", "tau_scaling", "naive"):
            raise ConfigError("method", f"must be one of ('mapping', 'tau_scaling', 'naive'), got {method!r}")
        r = new_dt / self.dt
        if method == "naive":
            return SNNModel(list(self.layers), new_dt, {**self.metadata, "dt_adaptation": "naive"})
        layers = []
        for i, lay in enumerate(self.layers):
            if lay.recurrent is not None:
                warnings.warn(
                    f"layers[{i}].recurrent: the recurrent edge keeps its one-step delay, now {new_dt:g} s",
                    stacklevel=2,
                )
            if method == "mapping":
                neu = lay.neurons.rediscretise(r, input_semantics)
            else:
                neu = lay.neurons.time_constant_scaling(r)
            d = None if lay.delays is None else np.rint(lay.delays / r).astype(np.int64)
            layers.append(replace(lay, neurons=neu, delays=d))
        meta = {**self.metadata, "dt_adaptation": method, "input_semantics": input_semantics, "dt_ratio": r}
        return SNNModel(layers, new_dt, meta)

    def buffer_costs(self, current_bits: int = 16) -> list[dict[str, float] | None]:
        return [lay.buffer_cost(current_bits) for lay in self.layers]

    # ------------------------------------------------------------------ NIR
    def to_nir(self, time_unit: float = 1e-3) -> Any:
        """NIR graph (exact discretisation, v_leak = 0) of a LIF model with axonal/dendritic delays."""
        import nir

        nodes: dict[str, Any] = {"input": nir.Input(input_type={"input": np.array([self.layers[0].shape[0]])})}
        edges: list[tuple[str, str]] = []
        prev = "input"
        for i, lay in enumerate(self.layers):
            neu = lay.neurons
            if neu.kind not in ("lif", "li"):
                raise ConfigError(f"layers[{i}].neurons", f"{neu.kind} has no NIR primitive; only LIF/LI export")
            if lay.delay_kind == "synaptic":
                raise ConfigError(f"layers[{i}].delay_kind", "synaptic delays have no compact NIR form")
            n_in, n_out = lay.shape
            if lay.delay_kind == "axonal":
                nodes[f"delay{i}"] = nir.Delay(delay=lay.delays * self.dt / time_unit)
                edges.append((prev, f"delay{i}"))
                prev = f"delay{i}"
            b = np.zeros(n_out) if lay.bias is None else lay.bias
            nodes[f"affine{i}"] = nir.Affine(weight=lay.weight.T.copy(), bias=b.copy())
            edges.append((prev, f"affine{i}"))
            prev = f"affine{i}"
            if lay.delay_kind == "dendritic":
                nodes[f"ddelay{i}"] = nir.Delay(delay=lay.delays * self.dt / time_unit)
                edges.append((prev, f"ddelay{i}"))
                prev = f"ddelay{i}"
            tau, r = li_parameters(neu.A[:, 0, 0], neu.B[:, 0], self.dt / time_unit, "exact")
            zeros = np.zeros(n_out)
            if neu.spiking:
                if neu.reset == "none":
                    raise ConfigError(f"layers[{i}].neurons.reset", "NIR LIF always resets; 'none' cannot export")
                vr = zeros if neu.v_reset is None else neu.v_reset
                theta = neu.family.get("theta", neu.theta).copy()
                nodes[f"lif{i}"] = nir.LIF(tau=tau, r=r, v_leak=zeros, v_threshold=theta, v_reset=vr.copy())
                name = f"lif{i}"
            else:
                nodes[f"li{i}"] = nir.LI(tau=tau, r=r, v_leak=zeros)
                name = f"li{i}"
            edges.append((prev, name))
            if lay.recurrent is not None:
                w_rec = lay.recurrent.T.copy()
                rb = lay.recurrent_bias
                nodes[f"rec{i}"] = nir.Linear(weight=w_rec) if rb is None else nir.Affine(weight=w_rec, bias=rb.copy())
                edges += [(name, f"rec{i}"), (f"rec{i}", name)]
            prev = name
        nodes["output"] = nir.Output(output_type={"output": np.array([self.layers[-1].shape[1]])})
        edges.append((prev, "output"))
        resets = {lay.neurons.reset for lay in self.layers if lay.neurons.spiking}
        meta = {"dt": self.dt, "time_unit": time_unit, "discretisation": "exact", "reset_mode": ",".join(resets)}
        return nir.NIRGraph(nodes=nodes, edges=edges, metadata=meta, type_check=False)

    @classmethod
    def from_nir(
        cls,
        graph: Any,
        dt: float | None = None,
        time_unit: float | None = None,
        discretisation: str | None = None,
        reset_mode: str | None = None,
        **switches: Any,
    ) -> SNNModel:
        """Build a layered model from a chain-structured NIR graph (object or ``.nir`` path).

        Per layer the chain is ``[Delay] <affine ops> [Delay] LIF|IF|CubaLIF|LI``. The affine ops between two
        neuron layers (Affine, Linear, Scale, Conv1d/2d, Sum/AvgPool2d, Flatten) are unrolled into one synaptic
        matrix (a convolution becomes its dense Toeplitz matrix, every weight copy stored on the array). An
        Affine or Linear fed back into the neuron is its recurrent matrix; a recurrent Affine's bias is kept
        (``recurrent_start`` convention). The input is the flattened Input shape (``metadata["input_shape"]``).
        Arguments are those of :func:`workloads.snn.import_nir` (also ``convention=``).
        """
        from workloads.snn.nir_file import load_graph
        from workloads.snn.nir_graph import import_nir
        from workloads.snn.nir_ops import affine_matrix

        spec = load_graph(graph)
        net = import_nir(spec, dt, time_unit, discretisation, reset_mode, **switches)
        ch = net.choices
        layers: list[SNNLayer] = []
        pend: dict[str, Any] = {}
        rec_sources = {p for preds in net.back_inputs.values() for p in preds}
        for n in net.order:
            k, op = spec.nodes[n].kind, net.ops[n]
            if k in ("Input", "Output", "Identity") or n in rec_sources:
                continue  # pass-through, or a recurrent matrix collected with its neuron
            if k == "Delay":
                key = "dendritic" if "weight" in pend else "axonal"
                pend[key] = op.steps
            elif op.affine and "dendritic" not in pend:
                m, c = affine_matrix(op)
                if m.size > MAX_UNROLLED:
                    raise ConfigError(f"nodes.{n}", f"unrolled matrix {m.shape} too large; run it with import_nir")
                w, b = pend.get("weight"), pend.get("bias")
                pend["weight"] = m if w is None else w @ m
                pend["bias"] = c if b is None else b @ m + c
            elif k in ("LIF", "IF", "CubaLIF", "LI") and "weight" in pend:
                layers.append(_nir_layer(n, k, net, pend, ch))
                pend = {}
            else:
                raise ConfigError(f"nodes.{n}", f"node type {k} does not fit the layered chain; use import_nir")
        if pend:
            raise ConfigError("nodes", f"graph ends with nodes that form no layer: {sorted(pend)}")
        in_shape = net.ops[net.input_nodes[0]].out_shape
        meta = {"source": "nir", **ch, "input_shape": list(in_shape)}
        return cls(layers, ch["dt_s"], meta)


MAX_UNROLLED = 50_000_000  # entries of an unrolled convolution matrix (400 MB in float64)


def _nir_layer(n: str, kind: str, net: Any, pend: dict[str, Any], choices: dict[str, Any]) -> SNNLayer:
    """One :class:`SNNLayer` from the imported neuron op ``n`` and the pending synapse/delay entries."""
    from workloads.snn.dynamics import cubalif
    from workloads.snn.nir_ops import affine_matrix

    op = net.ops[n]
    if np.any(op.leak != 0):
        raise ConfigError(f"nodes.{n}.v_leak", "layered import needs v_leak = 0")
    size = int(np.prod(op.out_shape))
    alpha, gamma, theta, v_reset = (
        None if a is None else np.ravel(a) for a in (op.alpha, op.gamma, op.theta, op.v_reset)
    )
    rule = {"strict": choices["threshold_comparison"] == "v > theta", "reset_delay": choices["reset_delay"]}
    if kind == "CubaLIF":
        a_s, g_s = (np.ravel(a) for a in op.syn)
        neu = cubalif(alpha, gamma, a_s, g_s, theta, op.reset, v_reset, **rule)
    elif kind == "LI":
        neu = lif(alpha, gamma, 1.0, "none", spiking=False, size=size)
    else:
        neu = lif(alpha, gamma, theta, op.reset, v_reset, size=size, **rule)
    rec = net.back_inputs[n]
    if len(rec) > 1 or (rec and not net.ops[rec[0]].affine) or (rec and net.inputs[rec[0]] != [n]):
        raise ConfigError(f"nodes.{n}", "layered import needs one affine recurrent node fed by the neuron")
    w_rec, b_rec = affine_matrix(net.ops[rec[0]]) if rec else (None, None)
    b_rec = b_rec if b_rec is not None and np.any(b_rec) else None
    if "axonal" in pend and "dendritic" in pend:
        raise ConfigError(f"nodes.{n}", "both axonal and dendritic delays on one layer")
    kind_d = "axonal" if "axonal" in pend else ("dendritic" if "dendritic" in pend else None)
    bias = None if not np.any(pend["bias"]) else np.broadcast_to(pend["bias"], (size,)).copy()
    start = choices["recurrent_start"]
    return SNNLayer(pend["weight"], neu, bias, w_rec, kind_d, pend.get(kind_d), b_rec, start)


def lif_layer(
    weight: np.ndarray,
    tau: float | np.ndarray,
    dt: float,
    theta: float = 1.0,
    reset: str = "subtract",
    spiking: bool = True,
    **kw: Any,
) -> SNNLayer:
    """Convenience: a LIF/LI layer with ``alpha = exp(-dt/tau)`` and ``gamma = 1 - alpha``."""
    alpha, gamma = li_coefficients(np.broadcast_to(np.asarray(tau, float), (weight.shape[1],)), 1.0, dt)
    return SNNLayer(weight, lif(alpha, gamma, theta, reset if spiking else "none", spiking=spiking), **kw)
