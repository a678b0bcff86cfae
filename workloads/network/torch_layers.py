"""Torch modules that ``from_torch`` keeps as leaves of the fx trace and converts into sequence or spiking layers.

- The project's S4D stack, :class:`workloads.training.s4d_torch.TorchS4D`, becomes encoder, S4D / GSU blocks,
  pooling and decoder (:func:`workloads.network.builders.s4d_nodes`). The model is built from its state dict
  by :class:`workloads.s4d.model.S4DModel`, with the same quantisers.
- snnTorch ``Leaky`` and ``RLeaky`` become :class:`SpikingLayer` nodes. snnTorch is not a dependency. A module is
  recognised only if snnTorch is already imported, which it is when the model holds one of its modules.

Time axis. A general network sees the whole raster (N, T, D), so an snnTorch neuron module is run along axis 1,
one step per time index. This is what snnTorch's own loop does, ``for t in range(T): spk = net(x[:, t])`` with
``init_hidden=True``, starting from zero state. Stateless layers between neurons (Linear, Conv) act on each step
alike. The semantics follow snnTorch 1.0 (``_neurons/leaky.py``, ``rleaky.py``):

- ``mem[t] = beta mem[t-1] + I[t] - reset[t] threshold`` with ``reset[t] = H(mem[t-1] - threshold)``
  (``reset_delay=True``, the default), ``spk[t] = H(mem[t] - threshold)``, and ``H(x) = [x > 0]`` (strict);
- ``RLeaky`` adds ``recurrent(spk[t-1])``: an ``nn.Linear`` (``all_to_all=True``; its bias counts from t = 0,
  because ``spk`` starts at 0) or ``V`` elementwise (``all_to_all=False``).

These are :func:`workloads.snn.dynamics.lif` with ``alpha = beta``, ``gamma = 1``, ``strict=True`` and
``reset_delay`` as set. ``reset_mechanism="zero"`` maps to a reset to 0 for ``Leaky``. It is refused for
``RLeaky``, which zeroes the new input as well. ``beta = 1`` is IF. Graded spikes, inhibition, state
quantisation, membrane outputs (``output=True``) and convolutional recurrence are refused, with the layer's
name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from aimc_sim.errors import DataError
from workloads.network.builders import s4d_nodes
from workloads.network.graph import Node
from workloads.network.sequence_ops import SpikingLayer

LeafConverter = Callable[[str, Any, tuple[int, ...], str], list[Node]]
"""(module path, module, per-sample input shape, name of the input node) -> the module's nodes (the last one is
its output)."""


def _refuse(path: str, mod: Any, why: str) -> DataError:
    return DataError(f"layer {path!r} ({type(mod).__name__})", why)


def _torch_s4d(path: str, mod: Any, in_shape: tuple[int, ...], source: str) -> list[Node]:
    from workloads.s4d.model import S4DModel

    model = S4DModel(mod.cfg, mod.state_numpy(), {"source": "torch", "module": path})
    return s4d_nodes(model, path, source)


def _per_neuron(path: str, mod: Any, name: str, value: Any, n: int) -> np.ndarray:
    a = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64)
    try:
        return np.broadcast_to(a.reshape(-1) if a.size > 1 else a.reshape(()), (n,)).copy()
    except ValueError:
        raise _refuse(path, mod, f"{name} has {a.size} values for {n} neurons") from None


def _snntorch_neuron(path: str, mod: Any, in_shape: tuple[int, ...], source: str) -> list[Node]:
    recurrent_module = isinstance(mod, sys.modules["snntorch"].RLeaky)
    if len(in_shape) != 2:
        raise _refuse(path, mod, f"expects currents (N, T, n) (time on axis 1), got per-sample shape {in_shape}")
    checks = [
        (getattr(mod, "output", False), "output=True (membrane outputs) is not supported"),
        (getattr(mod, "inhibition", False), "inhibition is not supported"),
        (getattr(mod, "state_quant", False), "state_quant is not supported"),
        (float(np.max(np.asarray(mod.graded_spikes_factor.detach()))) != 1.0, "graded spikes are not supported"),
        (mod.reset_mechanism not in ("subtract", "zero", "none"), f"reset {mod.reset_mechanism!r} is unknown"),
        (recurrent_module and mod.reset_mechanism == "zero", "reset_mechanism='zero' of RLeaky is not supported"),
    ]
    for bad, why in checks:
        if bad:
            raise _refuse(path, mod, why)
    n = in_shape[1]
    beta = np.clip(_per_neuron(path, mod, "beta", mod.beta, n), 0.0, 1.0)
    if np.any(beta <= 0):
        raise _refuse(path, mod, "beta = 0 (no memory) is not supported")
    theta = _per_neuron(path, mod, "threshold", mod.threshold, n)
    neurons = snntorch_dynamics(beta, theta, mod.reset_mechanism, bool(mod.reset_delay))
    layer = SpikingLayer(neurons)
    if recurrent_module:
        layer = _with_recurrence(path, mod, neurons, n)
    return [Node(path, layer, (source,))]


def snntorch_dynamics(beta: np.ndarray, threshold: np.ndarray, reset_mechanism: str, reset_delay: bool) -> Any:
    """The :class:`NeuronDynamics` of snnTorch ``Leaky`` neurons (see the module docstring): LIF with
    ``alpha = beta`` in (0, 1], ``gamma = 1``, spike on ``mem > threshold``."""
    from workloads.snn.dynamics import lif

    reset = {"subtract": "subtract", "zero": "to_value", "none": "none"}[reset_mechanism]
    v_reset = 0.0 if reset == "to_value" else None
    return lif(beta, 1.0, threshold, reset, v_reset, strict=True, reset_delay=reset_delay)


def _with_recurrence(path: str, mod: Any, neurons: Any, n: int) -> SpikingLayer:
    torch = sys.modules["torch"]
    rec = mod.recurrent
    if isinstance(rec, torch.nn.Linear):
        w = rec.weight.detach().cpu().numpy().astype(np.float64).T  # s @ W layout
        b = None if rec.bias is None else rec.bias.detach().cpu().numpy().astype(np.float64)
        return SpikingLayer(neurons, np.ascontiguousarray(w), b, "bias")
    if type(rec).__name__ == "RecurrentOneToOne":
        return SpikingLayer(neurons, np.diag(_per_neuron(path, mod, "V", rec.V, n)))
    raise _refuse(path, mod, f"recurrent connection {type(rec).__name__} is not supported (Linear or one-to-one)")


def leaf_converter(mod: Any) -> LeafConverter | None:
    """The converter of a module kept as a leaf of the trace, or None for every other module."""
    s4d_torch = sys.modules.get("workloads.training.s4d_torch")
    if s4d_torch is not None and isinstance(mod, s4d_torch.TorchS4D):
        return _torch_s4d
    snn = sys.modules.get("snntorch")
    if snn is not None and isinstance(mod, (snn.Leaky, snn.RLeaky)):
        return _snntorch_neuron
    return None
