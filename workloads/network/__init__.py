"""General networks of layers on analog arrays: a DAG of ops (:mod:`.ops`, :mod:`.graph`), the hardware
mapping (:mod:`.hardware`) and importers from PyTorch (:mod:`.torch_import`) and ONNX (:mod:`.onnx_import`)."""

from workloads.network.graph import Network, Node
from workloads.network.hardware import HardwareNetwork, NetworkHardwareConfig

__all__ = ["HardwareNetwork", "Network", "NetworkHardwareConfig", "Node"]
