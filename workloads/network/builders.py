"""General networks built from the project's own models: an S4D-family stack (:class:`workloads.s4d.model.S4DModel`)
as encoder, blocks, pooling and decoder nodes, and a layered SNN (:class:`workloads.snn.model.SNNModel`, e.g. a NIR
import) as Linear and spiking-layer nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aimc_sim.errors import ConfigError
from workloads.network.graph import INPUT, Network, Node
from workloads.network.ops import Linear, Reduce
from workloads.network.sequence_ops import S4DBlock, SpikingLayer
from workloads.s4d.model import S4DModel

if TYPE_CHECKING:
    from workloads.snn.model import SNNModel


def s4d_nodes(model: S4DModel, prefix: str, source: str) -> list[Node]:
    """The nodes of ``model`` reading ``source`` (sequences (N, L, d_in)), named ``<prefix>.encoder``,
    ``<prefix>.layers.<i>``, ``<prefix>.pool`` and ``<prefix>.decoder``; the encoder and decoder are Linear
    layers on tiles, each layer an :class:`S4DBlock`."""
    p = f"{prefix}." if prefix else ""
    nodes = [Node(p + "encoder", Linear(*_weights(model.encoder)), (source,))]
    for i in range(model.config.n_layers):
        nodes.append(Node(f"{p}layers.{i}", S4DBlock(model, i), (nodes[-1].name,)))
    if model.config.pool == "mean":
        nodes.append(Node(p + "pool", Reduce("avg", (1,), keepdims=False), (nodes[-1].name,)))
    nodes.append(Node(p + "decoder", Linear(*_weights(model.decoder)), (nodes[-1].name,)))
    return nodes


def _weights(pair: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """A deployed (W out x in, b) pair of the S4D model as float32 Linear weights."""
    return pair[0].astype(np.float32), pair[1].astype(np.float32)


def from_snn(model: SNNModel, steps: int) -> Network:
    """A layered SNN on spike rasters (N, ``steps``, n_in) as a general network: per layer a Linear (the synaptic
    matrix and bias, on tiles like any Linear) and a :class:`SpikingLayer` (its neurons, recurrent matrix and
    bias), then the mean over time of the last layer (LI membrane or spike rate), the logits of
    :meth:`SNNModel.run`. Layers with delays are refused (the SNN workload runs them)."""
    if not isinstance(steps, int) or steps < 1:
        raise ConfigError("steps", f"must be an integer >= 1, got {steps!r}")
    nodes: list[Node] = []
    source = INPUT
    for i, lay in enumerate(model.layers):
        if lay.delay_kind is not None:
            raise ConfigError(f"layers[{i}].delay_kind", f"{lay.delay_kind} delays are not supported in a network")
        bias = None if lay.bias is None else lay.bias.astype(np.float32)
        nodes.append(Node(f"layer{i}.synapses", Linear(lay.weight.T.astype(np.float32), bias), (source,)))
        neurons = SpikingLayer(lay.neurons, lay.recurrent, lay.recurrent_bias, lay.recurrent_start)
        nodes.append(Node(f"layer{i}.neurons", neurons, (nodes[-1].name,)))
        source = nodes[-1].name
    nodes.append(Node("readout", Reduce("avg", (1,), keepdims=False), (source,)))
    meta = {"source": "snn", **model.metadata}
    return Network(nodes, (steps, model.layers[0].shape[0]), metadata=meta)
