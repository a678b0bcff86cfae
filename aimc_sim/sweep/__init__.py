"""Parameter sweeps and design-space exploration: spec -> hashed points -> executor -> HDF5.

``run_sweep(load_spec("spec.yaml"), workers=2)`` runs a sweep; ``load_results("out.h5")`` reads it.
"""

from aimc_sim.sweep.pareto import pareto_mask
from aimc_sim.sweep.runner import SweepSummary, run_sweep, validate_points
from aimc_sim.sweep.spec import (
    AxisSpec,
    Point,
    SweepLimits,
    SweepSpec,
    content_hash,
    derive_seed,
    expand_points,
    load_spec,
)
from aimc_sim.sweep.store import ResultTable, load_results

__all__ = [
    "AxisSpec",
    "Point",
    "ResultTable",
    "SweepLimits",
    "SweepSpec",
    "SweepSummary",
    "content_hash",
    "derive_seed",
    "expand_points",
    "load_results",
    "load_spec",
    "pareto_mask",
    "run_sweep",
    "validate_points",
]
