"""The result of running a workload on (simulated) hardware, shared by the S4D and SNN workloads.

All quantities are SI and per inference (one input sequence / sample): ``energy_j`` in joules,
``latency_s`` in seconds. Breakdowns are nested dicts ``{layer: {component: joules}}`` and
``{component: joules}``. :meth:`Result.to_flat_dict` gives scalar columns for sweep tables.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Result:
    """Accuracy, cost per inference, hardware usage and model complexity of one evaluation."""

    accuracy: float
    energy_j: float = math.nan
    latency_s: float = math.nan
    n_samples: int = 0
    energy_per_layer_j: dict[str, float] = field(default_factory=dict)
    energy_per_component_j: dict[str, float] = field(default_factory=dict)
    latency_per_layer_s: dict[str, float] = field(default_factory=dict)
    n_tiles: int = 0
    utilisation: float = math.nan
    complexity: dict[str, float] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_flat_dict(self) -> dict[str, float | int | str]:
        """Scalar columns: accuracy, energy_j, ..., ``energy_layer.<layer>``, ``energy_comp.<c>``,
        ``complexity.<metric>`` and the scalar entries of ``extra`` as ``extra.<key>``."""
        out: dict[str, float | int | str] = {
            "accuracy": float(self.accuracy),
            "energy_j": float(self.energy_j),
            "latency_s": float(self.latency_s),
            "n_samples": int(self.n_samples),
            "n_tiles": int(self.n_tiles),
            "utilisation": float(self.utilisation),
        }
        for prefix, d in (
            ("energy_layer", self.energy_per_layer_j),
            ("energy_comp", self.energy_per_component_j),
            ("latency_layer", self.latency_per_layer_s),
            ("complexity", self.complexity),
        ):
            out.update({f"{prefix}.{k}": float(v) for k, v in d.items()})
        for k, v in self.extra.items():
            if isinstance(v, bool):
                out[f"extra.{k}"] = int(v)
            elif isinstance(v, (int, float, str)):
                out[f"extra.{k}"] = v
        return out
