"""S4D, Binary S4D and GSU workloads: numpy inference, fused crossbar mapping, hardware evaluation."""

from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel

__all__ = ["S4DConfig", "S4DModel"]
