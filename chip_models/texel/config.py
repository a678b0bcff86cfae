"""Frozen, validated configuration of the TEXEL-style chip (docs/texel.md).

The neuron section is :class:`aimc_sim.circuits.AdExpConfig` (DPI/AdExp biases, docs/circuits.md §4);
its own ``mismatch`` field is replaced by the chip-wide ``mismatch`` section.

The default values live in ``texel.yaml`` next to this module, each with its source tag. Sizes
are free so that larger hypothetical chips can be explored; :class:`InventoryConfig` derives the
synapse and device-site totals of docs/texel.md §1 from them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from aimc_sim.circuits import AdExpConfig
from aimc_sim.config import Config, check, in_range, int_in, nonnegative, positive
from aimc_sim.errors import ConfigError

DEFAULT_YAML = Path(__file__).with_name("texel.yaml")


@dataclass(frozen=True)
class InventoryConfig(Config):
    """Chip sizes (docs/texel.md §1). Defaults: 2 cores × 90 neurons × (54 plastic + 4 static)."""

    cores: int = field(default=2, metadata=check(int_in(1, 4096)))
    neurons_per_core: int = field(default=90, metadata=check(int_in(1, 65536)))
    plastic_per_neuron: int = field(default=54, metadata=check(int_in(1, 4096)))
    static_per_neuron: int = field(default=4, metadata=check(int_in(0, 4096)))
    devices_per_plastic: int = field(default=2, metadata=check(int_in(2, 2)))
    config_arrays_per_core: int = field(default=64, metadata=check(int_in(0)))
    config_word_bits: int = field(default=23, metadata=check(int_in(1, 64)))
    bias_dac_bits: int = field(default=12, metadata=check(int_in(1, 32)))
    die_area: float = field(default=67.5e-6, metadata=check(positive))
    core_area: float = field(default=44.98e-6, metadata=check(positive))

    @property
    def neurons(self) -> int:
        return self.cores * self.neurons_per_core

    @property
    def synapses_per_neuron(self) -> int:
        return self.plastic_per_neuron + self.static_per_neuron

    @property
    def plastic_synapses(self) -> int:
        return self.neurons * self.plastic_per_neuron

    @property
    def static_synapses(self) -> int:
        return self.neurons * self.static_per_neuron

    @property
    def synapses(self) -> int:
        return self.plastic_synapses + self.static_synapses

    @property
    def device_sites(self) -> int:
        return self.plastic_synapses * self.devices_per_plastic

    def validate(self) -> None:
        if self.core_area > self.die_area:
            raise ConfigError("core_area", f"must be <= die_area ({self.die_area:g} m^2), got {self.core_area:g}")


@dataclass(frozen=True)
class SynapseConfig(Config):
    """DPI synapses of the neuron (docs/circuits.md §3; docs/texel.md §3). One excitatory and one inhibitory DPI per
    neuron integrate the pulses of all its synapses (the linear DPI is additive)."""

    tau_syn: float = field(default=10e-3, metadata=check(positive))
    gain_ratio: float = field(default=100.0, metadata=check(positive))
    t_pulse: float = field(default=10e-6, metadata=check(positive))
    w_max: float = field(default=50e-9, metadata=check(nonnegative))
    static_weights: tuple[float, ...] = (50e-9, 50e-9, -50e-9, -50e-9)

    def validate(self) -> None:
        for i, w in enumerate(self.static_weights):
            if not math.isfinite(w) or abs(w) > 1e-3:
                raise ConfigError(f"static_weights[{i}]", f"must be a finite current in [-1e-3, 1e-3] A, got {w!r}")


@dataclass(frozen=True)
class LearningConfig(Config):
    """Traces, gate and proposed changes of docs/texel.md §3. Every branch is switched off by setting its
    bias to 0: ``rho_neg`` (pre-spike depression), ``c`` (post-spike potentiation), ``rho_neg2``
    (post-spike depression), ``alpha``/``beta`` (bistable drift). ``rule``: the synapse's learning
    rule (a name in ``rules.RULES``: ``bcall``, ``metaplastic``); ``importance_gain``: importance a
    metaplastic synapse gains per unit of state-confirming Δρ (docs/texel.md §13)."""

    tau_pre: float = field(default=50e-3, metadata=check(positive))
    tau_post: float = field(default=50e-3, metadata=check(positive))
    a_pre: float = field(default=0.8, metadata=check(in_range(0.0, 1.0)))
    a_post: float = field(default=0.8, metadata=check(in_range(0.0, 1.0)))
    theta_pre: float = field(default=0.5, metadata=check(in_range(0.0, 1.0)))
    theta_post: float = field(default=0.5, metadata=check(in_range(0.0, 1.0)))
    rho_neg: float = field(default=-0.05, metadata=check(in_range(-1.0, 0.0)))
    rho_neg2: float = field(default=-0.05, metadata=check(in_range(-1.0, 0.0)))
    c: float = field(default=0.1, metadata=check(in_range(0.0, 1.0)))
    x_floor: float = field(default=0.05, metadata=check(in_range(0.0, 1.0)))
    tau_ca: float = field(default=200e-3, metadata=check(positive))
    a_ca: float = field(default=0.1, metadata=check(in_range(0.0, 1.0)))
    x_ca_max: float = field(default=1.0, metadata=check(positive))
    theta_ca_low: float = field(default=0.05, metadata=check(nonnegative))
    theta_ca_high: float | None = field(default=None, metadata=check(in_range(0.0, lo_open=True)))
    plastic_enable: bool = True
    tau_rho: float = field(default=1.0, metadata=check(positive))
    alpha: float = field(default=1.0, metadata=check(nonnegative))
    beta: float = field(default=1.0, metadata=check(nonnegative))
    theta_rho: float = field(default=0.5, metadata=check(in_range(0.0, 1.0, lo_open=True, hi_open=True)))
    rho_init: float = field(default=0.5, metadata=check(in_range(0.0, 1.0)))
    rule: str = "bcall"
    importance_gain: float = field(default=1.0, metadata=check(in_range(0.0, 1e6)))

    @property
    def ca_high(self) -> float:
        """Upper calcium threshold, +inf when disabled."""
        return math.inf if self.theta_ca_high is None else self.theta_ca_high

    def validate(self) -> None:
        from chip_models.texel.rules import RULES  # the registry imports this module

        if self.rule not in RULES:
            raise ConfigError("rule", f"must be one of {', '.join(RULES)}, got {self.rule!r}")
        if self.theta_ca_high is not None and self.theta_ca_high <= self.theta_ca_low:
            raise ConfigError(
                "theta_ca_high", f"must be > theta_ca_low ({self.theta_ca_low:g}), got {self.theta_ca_high:g}"
            )


@dataclass(frozen=True)
class ReadConfig(Config):
    """Differential normaliser read (docs/texel.md §4)."""

    law: Literal["rectified_ratio", "hard_threshold"] = "rectified_ratio"
    norm_bias: float = field(default=1e-9, metadata=check(positive))
    v_read: float = field(default=0.2, metadata=check(in_range(0.0, 5.0, lo_open=True)))
    t_read: float = field(default=500e-6, metadata=check(in_range(10e-9, 100e-3)))
    i_floor: float = field(default=1e-12, metadata=check(nonnegative))


@dataclass(frozen=True)
class DeviceConfig(Config):
    """The two devices of each plastic synapse (docs/texel.md §4).

    ``kind``: ``capacitor`` (CMOS-only: the weight is read from the capacitor), ``binary`` (the
    socket's statistical binary 2-terminal device: log-normal R_on/R_off with D2D and C2C spread),
    or a ``device_models`` preset written with pulses through its model: ``rram-binary`` (bistable
    RRAM), ``rram`` (analog RRAM), ``pcm``, ``fefet`` (multi-domain gate pulses), ``ecram``,
    ``ecram-mo``, ``reram-sb`` (pulsed-update presets). ``pulses_per_write``: pulses per device per
    POT/DEP event (analog devices move one step per pulse).
    """

    kind: Literal["capacitor", "binary", "rram-binary", "rram", "pcm", "fefet", "ecram", "ecram-mo", "reram-sb"] = (
        "capacitor"
    )
    r_on: float = field(default=1e9, metadata=check(positive))
    r_off: float = field(default=100e9, metadata=check(positive))
    c_dev: float = field(default=100e-15, metadata=check(nonnegative))
    sigma_d2d: float = field(default=0.1, metadata=check(in_range(0.0, 3.0)))
    sigma_c2c: float = field(default=0.3, metadata=check(in_range(0.0, 3.0)))
    set_amplitude: float = field(default=1.5, metadata=check(in_range(0.0, 5.0, lo_open=True)))
    reset_amplitude: float = field(default=1.5, metadata=check(in_range(0.0, 5.0, lo_open=True)))
    pulse_width: float = field(default=1e-6, metadata=check(in_range(10e-9, 100e-3)))
    pulses_per_write: int = field(default=1, metadata=check(int_in(1, 100000)))
    write_trigger: Literal["parallel_write", "write_on_flip"] = "parallel_write"

    def validate(self) -> None:
        if self.r_off <= self.r_on:
            raise ConfigError("r_off", f"must be > r_on ({self.r_on:g} ohm), got {self.r_off:g}")


@dataclass(frozen=True)
class AerConfig(Config):
    """Address-event input/output (docs/texel.md §1: timing [unknown], so every number is a parameter)."""

    input_latency: float = field(default=0.0, metadata=check(in_range(0.0, 1e-3)))
    output_latency: float = field(default=0.0, metadata=check(in_range(0.0, 1e-3)))
    input_service_time: float = field(default=0.0, metadata=check(in_range(0.0, 1e-3)))
    output_service_time: float = field(default=0.0, metadata=check(in_range(0.0, 1e-3)))
    batch_window: float = field(default=10e-3, metadata=check(in_range(1e-6, 1.0)))


@dataclass(frozen=True)
class LinkConfig(Config):
    """One class of router link (``router.py``): latency, arbiter, bandwidth, queue and drop policy, energy."""

    latency: float = field(default=1e-3, metadata=check(in_range(0.0, 1.0, lo_open=True)))
    arbiter_time: float = field(default=0.0, metadata=check(in_range(0.0, 1e-2)))
    bandwidth: float = field(default=0.0, metadata=check(nonnegative))  # packets/s, 0 = unlimited
    arbitration: Literal["fifo", "priority"] = "fifo"
    queue_depth: int = field(default=0, metadata=check(int_in(0, 1_000_000)))  # 0 = unbounded
    drop_policy: Literal["drop_new", "drop_oldest"] = "drop_new"
    e_hop: float = field(default=0.0, metadata=check(nonnegative))  # J per packet


@dataclass(frozen=True)
class RoutingConfig(Config):
    """The on-chip AER router (``router.py``): link classes local / inter-core / inter-chip.
    ``cores_per_chip`` splits ``inventory.cores`` over several chips (0: one chip)."""

    cores_per_chip: int = field(default=0, metadata=check(int_in(0, 4096)))
    local: LinkConfig = field(default_factory=LinkConfig)
    core: LinkConfig = field(default_factory=LinkConfig)
    chip: LinkConfig = field(default_factory=LinkConfig)


@dataclass(frozen=True)
class EnergyConfig(Config):
    """Power model of docs/texel.md §5: P = P_static + E_spk·rate (+ E_sop, E_hop, E_write, 0 by default)."""

    static_power: float = field(default=27.4e-6, metadata=check(nonnegative))
    e_spike: float = field(default=25.9e-12, metadata=check(nonnegative))
    e_synaptic_event: float = field(default=0.0, metadata=check(nonnegative))
    e_router_event: float = field(default=0.0, metadata=check(nonnegative))
    e_device_write: float = field(default=0.0, metadata=check(nonnegative))


@dataclass(frozen=True)
class MismatchConfig(Config):
    """Frozen per-instance bias mismatch of the whole chip (docs/circuits.md §2, docs/texel.md §1): neuron biases,
    synapse weights and time constants, trace time constants."""

    sigma_ln: float = field(default=0.1, metadata=check(in_range(0.0, 1.0)))
    form: Literal["lognormal", "gaussian"] = "lognormal"


@dataclass(frozen=True)
class TexelConfig(Config):
    """The whole chip."""

    inventory: InventoryConfig = field(default_factory=InventoryConfig)
    neuron: AdExpConfig = field(default_factory=AdExpConfig)
    synapse: SynapseConfig = field(default_factory=SynapseConfig)
    learning: LearningConfig = field(default_factory=LearningConfig)
    read: ReadConfig = field(default_factory=ReadConfig)
    devices: DeviceConfig = field(default_factory=DeviceConfig)
    aer: AerConfig = field(default_factory=AerConfig)
    routing: RoutingConfig = field(default_factory=RoutingConfig)
    energy: EnergyConfig = field(default_factory=EnergyConfig)
    mismatch: MismatchConfig = field(default_factory=MismatchConfig)
    devices_per_core: tuple[DeviceConfig, ...] = ()

    def core_devices(self) -> list[DeviceConfig]:
        """The device config of each core's synapse array (``devices`` unless ``devices_per_core`` is set)."""
        return list(self.devices_per_core) if self.devices_per_core else [self.devices] * self.inventory.cores

    def validate(self) -> None:
        if self.devices_per_core:
            if len(self.devices_per_core) != self.inventory.cores:
                raise ConfigError(
                    "devices_per_core",
                    f"must have one entry per core ({self.inventory.cores}), got {len(self.devices_per_core)}",
                )
            for i, d in enumerate(self.devices_per_core):
                if d.kind == "capacitor" or d.write_trigger != self.devices.write_trigger:
                    raise ConfigError(
                        f"devices_per_core[{i}]",
                        f"must be a device kind other than 'capacitor' with write_trigger "
                        f"{self.devices.write_trigger!r} (that of devices), got kind {d.kind!r}, "
                        f"write_trigger {d.write_trigger!r}",
                    )
            if self.devices.kind == "capacitor":
                raise ConfigError("devices.kind", "must not be 'capacitor' when devices_per_core is set")
        if len(self.synapse.static_weights) != self.inventory.static_per_neuron:
            raise ConfigError(
                "synapse.static_weights",
                f"must have inventory.static_per_neuron = {self.inventory.static_per_neuron} entries, "
                f"got {len(self.synapse.static_weights)}",
            )

    @classmethod
    def default(cls, **sections: dict | list) -> TexelConfig:
        """The defaults of ``texel.yaml``, with optional per-section overrides, e.g.
        ``TexelConfig.default(inventory={"cores": 1}, mismatch={"sigma_ln": 0.0})``."""
        from aimc_sim.config import read_yaml

        data = read_yaml(DEFAULT_YAML)
        for name, over in sections.items():
            if name not in data:
                raise ConfigError(name, f"unknown section; allowed: {', '.join(sorted(data))}")
            data[name] = {**(data[name] or {}), **over} if isinstance(over, dict) else over
        return cls.from_dict(data)
