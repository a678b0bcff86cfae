"""Nodes of a general network built from the project's own models and from spiking modules: an S4D-family
stack (:class:`workloads.s4d.model.S4DModel`) as encoder, blocks, pooling and decoder, and neuron layers from
their trained parameters."""

from __future__ import annotations

import numpy as np

from workloads.network.graph import Node
from workloads.network.ops import Linear, Reduce
from workloads.network.sequence_ops import S4DBlock
from workloads.s4d.model import S4DModel


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
