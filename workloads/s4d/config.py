"""The S4D model configuration (stored in every checkpoint's metadata under ``"model"``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device_models.schema import Config, ConfigError, check, in_range, int_in, one_of, positive
from workloads.s4d.quant import check_bits

COMPONENTS = ("encoder", "B", "C", "D", "mix", "decoder")
"""Weight tensors with their own optional bit width (``component_bits``; PTQ / sensitivity studies, E4)."""


@dataclass(frozen=True)
class S4DConfig(Config):
    """Architecture, variant and quantisation of an S4D stack (docs/s4d.md#block).

    ``variant``: "s4d" (GELU + GLU mixing), "binary" (Binary S4D: spike y > 0, then GLU mixing) or
    "gsu" (Gated Spiking Unit mixing, then LayerNorm and GELU). ``w_bits`` applies to encoder, Bbar,
    C, D, mixing and decoder weights, unless ``component_bits`` overrides one of them (keys: COMPONENTS; used
    at inference only, e.g. for the per-component sensitivity E4); ``a_bits`` to Abar (null keeps it float).
    """

    d_in: int = field(metadata=check(int_in(1, 4096)))
    n_classes: int = field(metadata=check(int_in(2, 100000)))
    d_model: int = field(default=64, metadata=check(int_in(1, 4096)))
    d_state: int = field(default=16, metadata=check(int_in(2, 1024)))
    n_layers: int = field(default=2, metadata=check(int_in(1, 64)))
    variant: str = field(default="s4d", metadata=check(one_of("s4d", "binary", "gsu")))
    init: str = field(default="lin", metadata=check(one_of("lin", "inv")))
    discretisation: str = field(default="zoh", metadata=check(one_of("zoh", "bilinear")))
    residual: bool = True
    pool: str = field(default="mean", metadata=check(one_of("mean", "none")))
    gsu_alpha: float = field(default=0.15, metadata=check(in_range(0.0, 1.0, hi_open=True)))
    w_bits: int | str | None = None
    a_bits: int | str | None = None
    component_bits: dict[str, Any] = field(default_factory=dict)
    clamp_eps: float = field(default=1e-4, metadata=check(positive))
    prune: bool = False

    def validate(self) -> None:
        if self.d_state % 2:
            raise ConfigError("d_state", f"must be even (N = 2P, conjugate pairs), got {self.d_state}")
        check_bits(self.w_bits, "w_bits")
        check_bits(self.a_bits, "a_bits")
        for k, v in self.component_bits.items():
            if k not in COMPONENTS:
                raise ConfigError(f"component_bits.{k}", f"unknown component; allowed: {', '.join(COMPONENTS)}")
            check_bits(v, f"component_bits.{k}")

    def bits(self, component: str) -> int | str | None:
        """Bit width of ``component`` (one of COMPONENTS): its ``component_bits`` entry, else ``w_bits``."""
        return self.component_bits.get(component, self.w_bits)

    @property
    def n_modes(self) -> int:
        """P = N/2 stored complex modes per channel."""
        return self.d_state // 2
