"""Technology scaling of digital energies between CMOS nodes (Stillmaker & Baas 2017).

The digital operation and SRAM energies of the cost models are Horowitz's 45 nm, 0.9 V values
(docs/cost.md#digital-energies). :class:`ScalingTable` holds the energy fits of Stillmaker & Baas, "Scaling equations
for the accurate prediction of CMOS device performance from 180 nm to 7 nm" (Integration 58, 2017):
per node, EnergyFactor(V) = a V^2 + b V + c, and an energy scales from node x at V_x to node y at V_y by
EnergyFactor_y(V_y) / EnergyFactor_x(V_x). The tables live in ``aimc_sim/data/cost/scaling/<name>.yaml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from aimc_sim.config import Config, check, in_range, read_yaml
from aimc_sim.cost.adc import has_source
from aimc_sim.errors import ConfigError

__all__ = ["ScalingTable", "TechnologyScaling", "load_scaling_table", "SCALING_DIR"]

SCALING_DIR = Path(__file__).resolve().parent.parent / "data" / "cost" / "scaling"


@dataclass(frozen=True)
class ScalingTable(Config):
    """Energy-factor polynomial coefficients (a, b, c) per node name (``HP45``, ``HP20``, ``180``, ...)."""

    name: str
    source: str = field(metadata=check(has_source))
    energy: dict[str, tuple[float, float, float]] = field(default_factory=dict)

    def energy_factor(self, node: str, vdd_v: float, path: str = "node") -> float:
        """EnergyFactor(V) = a V^2 + b V + c of ``node`` at ``vdd_v`` volts (relative units)."""
        if node not in self.energy:
            raise ConfigError(path, f"unknown node {node!r} in {self.name}; known: {', '.join(self.energy)}")
        a, b, c = self.energy[node]
        e = a * vdd_v**2 + b * vdd_v + c
        if not e > 0:
            raise ConfigError(path, f"energy factor of {node} at {vdd_v:g} V is {e:.3g} <= 0: outside the fit")
        return e


@cache
def load_scaling_table(name: str) -> ScalingTable:
    """A shipped scaling table by name (``aimc_sim/data/cost/scaling/<name>.yaml``)."""
    p = SCALING_DIR / f"{name}.yaml"
    if not p.is_file():
        names = sorted(f.stem for f in SCALING_DIR.glob("*.yaml"))
        raise ConfigError("technology.scaling", f"unknown scaling table {name!r}; available: {', '.join(names)}")
    return ScalingTable.from_dict(read_yaml(p), path=f"scaling.{name}")


@dataclass(frozen=True)
class TechnologyScaling(Config):
    """Scales the digital (and on-chip memory) energies of a cost model from the node and supply their
    numbers were measured at (``reference_node`` at ``reference_vdd_v``) to this model's node and supply."""

    reference_node: str
    reference_vdd_v: float = field(metadata=check(in_range(0.1, 5.0)))
    node: str
    vdd_v: float = field(metadata=check(in_range(0.1, 5.0)))
    source: str = field(metadata=check(has_source))
    scaling: str = "stillmaker-baas-2017"

    def validate(self) -> None:
        table = load_scaling_table(self.scaling)
        table.energy_factor(self.reference_node, self.reference_vdd_v, "reference_node")
        table.energy_factor(self.node, self.vdd_v, "node")

    @property
    def energy_scale(self) -> float:
        """Energy at (node, vdd) over energy at (reference_node, reference_vdd)."""
        table = load_scaling_table(self.scaling)
        return table.energy_factor(self.node, self.vdd_v) / table.energy_factor(
            self.reference_node, self.reference_vdd_v
        )
