"""General networks of layers on analog arrays: a DAG of ops (:mod:`.ops`, :mod:`.graph`; sequence and spiking
layers in :mod:`.sequence_ops`), the hardware mapping (:mod:`.hardware`), importers from PyTorch
(:mod:`.torch_import`, :mod:`.torch_layers`) and ONNX (:mod:`.onnx_import`), and networks built from the project's
S4D and SNN models (:mod:`.builders`)."""

from workloads.network.builders import from_snn
from workloads.network.graph import Network, Node
from workloads.network.hardware import HardwareNetwork, NetworkHardwareConfig

__all__ = ["HardwareNetwork", "Network", "NetworkHardwareConfig", "Node", "from_snn"]
