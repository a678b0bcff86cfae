"""Workloads (S4D/SSM models, spiking networks, general layer networks, data sets) run on simulated hardware
(layer 5).

``workloads.load(path)`` opens any supported model file (S4D checkpoint, NIR, ONNX) and
``workloads.from_torch(module, example_input)`` converts a PyTorch module, ``workloads.load_dataset(name
or path)`` opens a data set; every model then follows the
:class:`workloads.registry.Workload` contract: ``model.on(hardware).evaluate(dataset, n_test, seed) -> Result``.
"""

from __future__ import annotations

from typing import Any

from workloads.data import load_dataset
from workloads.registry import BoundWorkload, Workload, load


def from_torch(module: Any, example_input: Any = None) -> Any:
    """Convert a ``torch.nn.Module`` into a :class:`workloads.network.graph.Network` (traced with torch.fx on
    ``example_input``, one batch of real inputs); see :mod:`workloads.network.torch_import`."""
    from workloads.network.torch_import import from_torch as convert

    return convert(module, example_input)


__all__ = ["BoundWorkload", "Workload", "from_torch", "load", "load_dataset"]
