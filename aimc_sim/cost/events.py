"""Typed ledger events: what the hardware did, as records the cost model prices by type.

Every event is a frozen dataclass with a ``key``: its stable name in ledgers, result tables and HDF5
files (e.g. ``adc_conversion@8b``, ``int8_mul``, ``sram_read_32b``). The key is only ever written,
never parsed back: the cost model prices the record itself (:meth:`aimc_sim.cost.CostModel.price_event`).

* :class:`Named` - a plain event priced from the cost model's ``events`` table (spikes, tile reads, ...);
* :class:`Conversion`, :class:`AdcCycle` - converter work at its bits (``None`` = ideal converter);
* :class:`DigitalOp` - one digital operation at the precision it runs at;
* :class:`MemoryAccess` - one SRAM / DRAM access of ``bits`` bits;
* :class:`Inventory`, :class:`ConverterUnit` - hardware present, priced for area.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import ClassVar, Literal, Protocol, runtime_checkable

from aimc_sim.errors import ConfigError

__all__ = [
    "Event",
    "Named",
    "Conversion",
    "AdcCycle",
    "DigitalOp",
    "MemoryAccess",
    "Inventory",
    "ConverterUnit",
    "Precision",
    "Op",
    "Memory",
    "Converter",
]

Converter = Literal["adc", "dac"]


@runtime_checkable
class Event(Protocol):
    """A ledger event: a frozen record with a stable ``key``."""

    @property
    def key(self) -> str: ...


class Precision(Enum):
    """Number format of a digital operation: its name and width in bits."""

    FP32 = ("fp32", 32)
    FP16 = ("fp16", 16)
    INT32 = ("int32", 32)
    INT16 = ("int16", 16)
    INT8 = ("int8", 8)
    INT4 = ("int4", 4)
    INT2 = ("int2", 2)

    @property
    def label(self) -> str:
        """Short name (``fp32``, ``int8``, ...)."""
        return self.value[0]

    @property
    def bits(self) -> int:
        """Width in bits."""
        return self.value[1]

    @property
    def is_float(self) -> bool:
        """True for floating-point formats."""
        return self.label.startswith("fp")

    @classmethod
    def integer(cls, bits: int) -> Precision:
        """The narrowest integer format holding ``bits`` bits (int2 .. int32)."""
        for p in (cls.INT2, cls.INT4, cls.INT8, cls.INT16, cls.INT32):
            if bits <= p.bits:
                return p
        raise ConfigError("bits", f"must be an integer in 1..32, got {bits!r}")


class Op(Enum):
    """A digital arithmetic operation."""

    ADD = "add"
    MUL = "mul"


class Memory(Enum):
    """A memory level."""

    SRAM = "sram"
    DRAM = "dram"


_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Named:
    """A plain event priced from the cost model's ``events`` table by its name."""

    name: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise ConfigError("event", f"must be a lower-case identifier (letters, digits, _), got {self.name!r}")

    @property
    def key(self) -> str:
        return self.name


def _bits_tag(bits: int | None) -> str:
    return "ideal" if bits is None else f"{bits}b"


@dataclass(frozen=True)
class _ConverterEvent:
    """A converter (``adc`` / ``dac``) at ``bits`` (None: an ideal converter); ``key`` is
    ``<converter>_<_what>@<bits>b`` (or ``@ideal``)."""

    converter: Converter
    bits: int | None
    _what: ClassVar[str]

    @property
    def key(self) -> str:
        return f"{self.converter}_{self._what}@{_bits_tag(self.bits)}"


class Conversion(_ConverterEvent):
    """One conversion of a ``converter`` at ``bits`` (None: an ideal converter, free)."""

    _what = "conversion"


@dataclass(frozen=True)
class AdcCycle:
    """One sequential conversion slot of an ADC (conversions an ADC does one after another): latency only."""

    bits: int | None

    @property
    def key(self) -> str:
        return f"adc_cycle@{_bits_tag(self.bits)}"


@dataclass(frozen=True)
class DigitalOp:
    """One digital arithmetic operation at the precision it runs at."""

    op: Op
    precision: Precision

    @property
    def key(self) -> str:
        return f"{self.precision.label}_{self.op.value}"


@dataclass(frozen=True)
class MemoryAccess:
    """One access of ``bits`` bits to a memory level."""

    memory: Memory
    bits: int
    access: Literal["read", "write"] = "read"

    def __post_init__(self) -> None:
        if isinstance(self.bits, bool) or not isinstance(self.bits, int) or self.bits < 1:
            raise ConfigError("bits", f"must be an integer >= 1, got {self.bits!r}")

    @property
    def key(self) -> str:
        return f"{self.memory.value}_{self.access}_{self.bits}b"


@dataclass(frozen=True)
class Inventory:
    """Hardware present (counted once when built), priced for area by the ``area`` table entry ``<part>_unit``."""

    part: str

    @property
    def key(self) -> str:
        return f"{self.part}_unit"


class ConverterUnit(_ConverterEvent):
    """A converter present in hardware, priced for area by the ``area`` table entry ``<converter>_unit``."""

    _what = "unit"


# the events most emitters use
TILE_READ = Named("tile_read")
MVM = Named("mvm")
BOUND_MANAGEMENT_RERUN = Named("bound_management_rerun")
DRIFT_CALIBRATION_READOUT = Named("drift_calibration_readout")
NEURON_SPIKE = Named("neuron_spike")
SYNAPTIC_EVENT = Named("synaptic_event")
ROUTER_EVENT = Named("router_event")
DEVICE_WRITE = Named("device_write")
STATIC_SECONDS = Named("static_seconds")
ARRAY_CELL = Inventory("array_cell")
TILE = Inventory("tile")  # one per physical tile: priced for area and for the always-on power (``static``)
FP32_ADD = DigitalOp(Op.ADD, Precision.FP32)
FP32_MUL = DigitalOp(Op.MUL, Precision.FP32)
INT32_ADD = DigitalOp(Op.ADD, Precision.INT32)
