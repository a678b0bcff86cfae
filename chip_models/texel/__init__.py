"""TEXEL-style event-driven neuromorphic chip with on-chip learning (docs/texel.md).

Greatorex et al., "A neuromorphic processor with on-chip learning for beyond-CMOS device
integration", Nature Communications 16 (2025), doi:10.1038/s41467-025-61576-6.
"""

from chip_models.texel.aer import AerError, SpikeInput, poisson_input
from chip_models.texel.chip import ChipResult, Probes, TexelChip
from chip_models.texel.config import TexelConfig
from chip_models.texel.energy import energy_report

__all__ = [
    "AerError",
    "ChipResult",
    "Probes",
    "SpikeInput",
    "TexelChip",
    "TexelConfig",
    "energy_report",
    "poisson_input",
]
