"""Tile configuration: frozen, validated dataclasses loaded from YAML (docs/crossbar.md).

Units: volts, seconds, siemens, farads. Analog outputs, ADC bounds and output noise are in
*normalised units*: one full-scale weight (|w| = w_max) times one full-scale DAC input (|x| = bound)
gives 1, the convention of aihwkit ``IOParameters`` (docs/crossbar.md, pipeline steps 2 and 6).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aimc_sim.config import Config, check, in_range, int_in, nonnegative, positive, read_yaml
from aimc_sim.errors import ConfigError

__all__ = [
    "DacConfig",
    "AdcConfig",
    "NoiseConfig",
    "MappingConfig",
    "ManagementConfig",
    "IrDropConfig",
    "DriftCompensationConfig",
    "TileConfig",
    "load_tile_config",
    "TILE_PRESET_DIR",
]

TILE_PRESET_DIR = Path(__file__).resolve().parent.parent / "data" / "tiles"


def _bits(x: Any) -> str | None:
    """None (no quantisation) or an integer number of bits in 1..16."""
    return None if x is None else int_in(1, 16)(x)


def _signed_bits(x: Any) -> str | None:
    """None or 2..16 bits: a signed quantiser has 2**bits - 2 steps, none at 1 bit."""
    return None if x is None else int_in(2, 16)(x)


@dataclass(frozen=True)
class DacConfig(Config):
    """Input DAC (docs/crossbar.md, pipeline step 2): uniform quantiser with n_steps = 2**bits - 2 over [-bound, bound].
    ``stochastic_rounding``: floor(v / step + u), u ~ U[0, 1) per input (aihwkit ``inp_sto_round``)."""

    bits: int | None = field(default=8, metadata=check(_bits))
    bound: float = field(default=1.0, metadata=check(positive))
    signed: bool = True
    encoding: Literal["amplitude", "pwm"] = "amplitude"
    bit_serial: bool = False
    stochastic_rounding: bool = False

    def validate(self) -> None:
        if self.bit_serial and self.bits is None:
            raise ConfigError("bit_serial", "needs dac.bits to be set (bit-serial inputs are integers)")
        if self.signed and self.bits == 1:
            raise ConfigError("bits", "a signed DAC needs 2..16 bits (2**bits - 2 steps), got 1; use signed: false")


@dataclass(frozen=True)
class AdcConfig(Config):
    """Column ADC (docs/crossbar.md, pipeline step 6). ``range``: fixed ``bound``; ``max`` (largest possible output);
    ``calibrated`` (the ``percentile`` of |output| on calibration data, one range per tile) or
    ``per_column`` (the same, one range per column). Mismatch is frozen per ADC at tile creation: gain
    (1 + gain_std xi), offset N(0, offset_std) in normalised units, and SAR unit-capacitor mismatch
    ``cap_mismatch`` (sigma_u: bit k weighs 2**k (1 + sigma_u xi_k / sqrt(2**k)), docs/crossbar.md, pipeline step 6).
    ``stochastic_rounding``: the code is floor(v / step + u), u ~ U[0, 1) per conversion (aihwkit
    ``out_sto_round``; with SAR mismatch the comparator input is dithered by u - 1/2 LSB)."""

    bits: int | None = field(default=8, metadata=check(_signed_bits))
    range: Literal["fixed", "max", "calibrated", "per_column"] = "fixed"
    bound: float = field(default=12.0, metadata=check(positive))
    percentile: float = field(default=99.9, metadata=check(in_range(0.0, 100.0, lo_open=True)))
    gain_std: float = field(default=0.0, metadata=check(nonnegative))
    offset_std: float = field(default=0.0, metadata=check(nonnegative))
    cap_mismatch: float = field(default=0.0, metadata=check(nonnegative))
    stochastic_rounding: bool = False
    columns_per_adc: int = field(default=1, metadata=check(int_in(1, 4096)))


@dataclass(frozen=True)
class NoiseConfig(Config):
    """Analog noise. Programming noise, drift and stuck devices come from the device model (stuck devices:
    its ``faults`` options, set through ``tile.device_options``). Per-MVM noise is drawn as output-referred
    noise (docs/crossbar.md, pipeline step 5).

    ``programming``: program with the device's programming noise (false: the model's noise-free programming,
    ``program(g, rng=None)``). ``read``: the device model's state-dependent read noise. ``w_noise``:
    constant additive weight noise (aihwkit ADDITIVE_CONSTANT), in units of w_max. ``out_noise``: additive
    output noise (aihwkit ``out_noise``), in normalised output units.
    """

    programming: bool = True
    read: bool = True
    w_noise: float = field(default=0.0, metadata=check(nonnegative))
    out_noise: float = field(default=0.0, metadata=check(nonnegative))


@dataclass(frozen=True)
class MappingConfig(Config):
    """Weight to conductance mapping (docs/crossbar.md, pipeline step 3).

    ``scheme``: ``differential`` (G+ - G-, §2.1) or ``offset`` (one device, §2.2). ``variant``: differential
    pair with the unused device at g_min (``single``) or both about G_mid (``symmetric``). ``subtract``: the
    pair difference is taken in ``analog`` (one ADC per pair) or ``digital`` (two conversions). ``reference``
    for offset mapping: remove the G_mid offset ``digital`` ly or with an analog ``column`` of G_mid cells.
    ``weight_scaling``: one w_max per tensor or per column. ``clip``: clip |w| to ``clip_value`` (``fixed``)
    or to ``clip_value`` standard deviations of W (``sigma``) before scaling. ``slices`` / ``slice_bits`` /
    ``significance``: weight bit slicing over k device pairs (§2.3). ``cell_bits``: conductance levels (§2.4).
    """

    scheme: Literal["differential", "offset"] = "differential"
    variant: Literal["single", "symmetric"] = "single"
    subtract: Literal["analog", "digital"] = "analog"
    reference: Literal["digital", "column"] = "digital"
    weight_scaling: Literal["per_tensor", "per_column"] = "per_column"
    clip: Literal["none", "fixed", "sigma"] = "none"
    clip_value: float = field(default=3.0, metadata=check(positive))
    slices: int = field(default=1, metadata=check(int_in(1, 8)))
    slice_bits: int = field(default=2, metadata=check(int_in(1, 8)))
    significance: tuple[float, ...] | None = None
    cell_bits: int | None = field(default=None, metadata=check(_bits))

    def validate(self) -> None:
        if self.significance is not None:
            if len(self.significance) != self.slices:
                raise ConfigError(
                    "significance", f"must list one factor per slice ({self.slices}), got {len(self.significance)}"
                )
            for i, f in enumerate(self.significance):
                msg = positive(f)
                if msg:
                    raise ConfigError(f"significance[{i}]", msg)
        if self.scheme == "offset" and self.slices > 1:
            raise ConfigError("slices", "weight slicing is implemented for the differential scheme only")

    @property
    def devices_per_weight(self) -> int:
        """Devices (cells, one per cell) per weight: d = 2 differential, 1 offset, times the slices."""
        return (2 if self.scheme == "differential" else 1) * self.slices

    @property
    def factors(self) -> tuple[float, ...]:
        """Significance factor of each slice (default 2**(k*slice_bits), least significant first)."""
        if self.significance is not None:
            return self.significance
        return tuple(float(2 ** (k * self.slice_bits)) for k in range(self.slices))


@dataclass(frozen=True)
class ManagementConfig(Config):
    """Noise management (input scale before the DAC) and bound management (docs/crossbar.md, pipeline steps 1 and 6).

    ``noise``: ``abs_max`` (per input vector), ``average_abs_max`` (one scale for all vectors: the running
    mean of max |x| over every vector seen so far, this batch included), ``constant`` (``constant_scale``
    times the DAC bound) or ``none`` (the DAC bound).

    ``scope``: what one input scale covers. ``tile``: the whole tile input vector (one DAC range per word-line
    vector). ``block``: each packed block of a :class:`BlockDiagonalMatrix` separately (one scale per block
    and input vector, applied digitally to that block's outputs): a block with small inputs then uses the full
    DAC range, and its ADC noise (output noise, quantisation) is referred back with its own scale instead of
    the largest block's; bound management then doubles only the saturated blocks' scales. The same as ``tile``
    for a dense tile (one block)."""

    noise: Literal["none", "abs_max", "average_abs_max", "constant"] = "abs_max"
    scope: Literal["tile", "block"] = "tile"
    constant_scale: float = field(default=1.0, metadata=check(positive))
    bound: Literal["none", "iterative"] = "none"
    max_bound_iterations: int = field(default=5, metadata=check(int_in(1, 20)))


@dataclass(frozen=True)
class IrDropConfig(Config):
    """IR drop (docs/crossbar.md, pipeline step 4). ``mode``: ``none``; ``approx`` (aihwkit cubic, refused above
    ``approx_limit``); ``exact`` (nodal solve folded into an effective matrix, §6.2). Resistances in ohm."""

    mode: Literal["none", "approx", "exact"] = "none"
    r_wire: float = field(default=0.35, metadata=check(positive))
    r_term: float = field(default=1e-3, metadata=check(positive))
    approx_limit: float = field(default=1.5, metadata=check(positive))
    on_exceed: Literal["error", "exact"] = "exact"


@dataclass(frozen=True)
class DriftCompensationConfig(Config):
    """Drift compensation (docs/crossbar.md#drift-compensation): identity readout through the full noisy path,
    at programming and at the read time; outputs are multiplied digitally by alpha = r0 / r(t).
    ``recalibrate_every`` (s): reuse the last alpha until the read time is this much past its calibration
    (None: at every new t). ``readout_range``: the ADC range of the identity readout: each column's own (``adc``;
    a range calibrated on the layer's outputs can be narrower than one full-scale cell and clip the readout) or
    one full-scale cell (``full_scale``: 1 normalised unit, |w| = w_max times a full-scale input).
    ``readout_statistic``: r = mean |y| (``abs_mean``, aihwkit; read and output noise on the cells that hold
    zero add a bias that does not drift, so a sparse matrix is under-compensated) or r = mean y sign(w), the sign
    of each cell's programmed weight (``signed_mean``: zero cells drop out, the noise averages to zero)."""

    mode: Literal["none", "global", "per_column"] = "global"
    readout_range: Literal["adc", "full_scale"] = "adc"
    readout_statistic: Literal["abs_mean", "signed_mean"] = "abs_mean"
    recalibrate_every: float | None = field(default=None, metadata=check(lambda v: None if v is None else positive(v)))


@dataclass(frozen=True)
class TileConfig(Config):
    """One analog tile: ``rows`` x ``cols`` cells (one device per cell), its device and periphery.

    ``access_resistance`` (ohm): series access transistor of 1T1R cells, g_eff = 1 / (1/g + R_access)
    (docs/crossbar.md, pipeline step 4; NeuroSim's default is 15 kOhm). ``line_cap_per_cell`` (F) prices the row
    drivers.
    ``state_dtype``: how the programmed device state is stored: ``float32`` (per-device floats in float32,
    targets dropped; 16 bytes per PCM weight; conductances rounded by <= 6e-8 relative) or ``float64``
    (as the device model returns it, bit-for-bit the outputs of releases before the compact state).
    """

    rows: int = field(default=512, metadata=check(int_in(1, 1 << 16)))
    cols: int = field(default=1024, metadata=check(int_in(1, 1 << 16)))
    device: str = "pcm"
    device_options: dict[str, Any] = field(default_factory=dict)
    v_read: float = field(default=0.2, metadata=check(positive))
    t_read: float = field(default=100e-9, metadata=check(positive))
    line_cap_per_cell: float = field(default=0.1e-15, metadata=check(nonnegative))
    access_resistance: float = field(default=0.0, metadata=check(nonnegative))
    state_dtype: Literal["float32", "float64"] = "float32"
    dac: DacConfig = field(default_factory=DacConfig)
    adc: AdcConfig = field(default_factory=AdcConfig)
    noise: NoiseConfig = field(default_factory=NoiseConfig)
    mapping: MappingConfig = field(default_factory=MappingConfig)
    management: ManagementConfig = field(default_factory=ManagementConfig)
    ir_drop: IrDropConfig = field(default_factory=IrDropConfig)
    drift_compensation: DriftCompensationConfig = field(default_factory=DriftCompensationConfig)

    def validate(self) -> None:
        if not self.device:
            raise ConfigError("device", "must name a device preset or a preset file")
        if self.ir_drop.mode != "none" and self.dac.encoding == "pwm":
            raise ConfigError("ir_drop.mode", "IR drop is modelled for amplitude-encoded inputs only")

    @property
    def max_outputs(self) -> int:
        """Largest number of weight columns one tile holds (cols // devices per weight, minus a reference)."""
        m = self.mapping
        extra = 1 if (m.scheme == "offset" and m.reference == "column") else 0
        return (self.cols - extra) // m.devices_per_weight


def _deep_update(base: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in overrides.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _deep_update(out[k], v)
        else:
            out[k] = v
    return out


def load_tile_config(name_or_path: str | Path = "pcm-default", **overrides: Any) -> TileConfig:
    """Load a tile preset (a name in ``aimc_sim/data/tiles/`` or a YAML path), then apply ``overrides``.

    Overrides are field names of :class:`TileConfig`; nested fields take a dict or a ``__`` path,
    e.g. ``load_tile_config("pcm-default", rows=256, adc__bits=6, noise={"out_noise": 0.0})``.
    """
    if not isinstance(name_or_path, (str, Path)):
        raise ConfigError(
            "tile",
            f"must be a preset name or a YAML path, got {type(name_or_path).__name__}; pass changed fields as "
            "keywords: load_tile_config('pcm-default', adc={'bits': 6})",
        )
    p = Path(name_or_path)
    if p.suffix not in (".yaml", ".yml"):
        p = TILE_PRESET_DIR / f"{name_or_path}.yaml"
        if p.resolve().parent != TILE_PRESET_DIR.resolve() or not p.is_file():  # a name stays in the folder
            names = sorted(f.stem for f in TILE_PRESET_DIR.glob("*.yaml"))
            raise ConfigError("tile", f"unknown tile preset {name_or_path!r}; presets: {', '.join(names)}")
    data = read_yaml(p) or {}
    if not isinstance(data, dict):
        raise ConfigError("tile", f"{p} must hold a mapping of fields")
    nested: dict[str, Any] = {}
    for k, v in overrides.items():
        parts = k.split("__")
        d = nested
        for part in parts[:-1]:
            d = d.setdefault(part, {})
        d[parts[-1]] = v
    return TileConfig.from_dict(_deep_update(data, nested), path="tile")
