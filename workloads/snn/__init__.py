"""Spiking-network workloads: NIR import, native LIF/adLIF layers with delays, dt adaptation, hardware runs."""

from workloads.snn.delays import DelayLine, buffer_cost
from workloads.snn.dynamics import NeuronDynamics, adlif, lif, matrix_power
from workloads.snn.model import SNNLayer, SNNModel, SNNRun, lif_layer
from workloads.snn.nir_graph import NIRNetwork, NIRRun, import_nir

__all__ = [
    "DelayLine",
    "NIRNetwork",
    "NIRRun",
    "NeuronDynamics",
    "SNNLayer",
    "SNNModel",
    "SNNRun",
    "adlif",
    "buffer_cost",
    "import_nir",
    "lif",
    "lif_layer",
    "matrix_power",
]
