"""Validated, frozen configuration dataclasses loaded from YAML.

This is the one mechanism every layer uses for configs (device presets, tiles, cost models,
chips, sweeps). It lives in the lowest layer so that ``device_models`` can use it too;
``aimc_sim.config`` and ``aimc_sim.errors`` re-export it.

A config class is a frozen dataclass deriving from :class:`Config`. Each field may carry a
check in its metadata, built with :func:`check`::

    @dataclass(frozen=True)
    class AdcConfig(Config):
        bits: int = field(default=8, metadata=check(int_in(1, 16)))

Errors always name the full field path and the allowed values, e.g.
``tile.adc.bits: must be an integer in 1..16, got 0``.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

import yaml

__all__ = [
    "AimcError",
    "ConfigError",
    "DataError",
    "Config",
    "check",
    "int_in",
    "in_range",
    "positive",
    "nonnegative",
    "one_of",
    "from_dict",
    "load_yaml",
    "parse_yaml",
    "read_yaml",
    "to_dict",
    "require_finite",
]


class AimcError(Exception):
    """Base class of every error raised on purpose by aimc-sim."""


class ConfigError(AimcError, ValueError):
    """A config value (or input) is invalid. ``path`` names the field, e.g. ``tile.adc.bits``."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as ``(path, message)``: a worker process's error reaches the parent intact.

        The default ``Exception`` pickling replays ``args`` (the one formatted string) into
        ``__init__(path, message)``, which fails while unpickling and breaks a process pool.
        """
        return (type(self), (self.path, self.message), self.__dict__)

    def under(self, prefix: str) -> ConfigError:
        """The same error with ``prefix`` prepended to its path."""
        if not prefix:
            return self
        return ConfigError(f"{prefix}.{self.path}" if self.path else prefix, self.message)


class DataError(ConfigError):
    """Input data (a data set, a measurement file, a checkpoint) is invalid; ``path`` names the row or tensor."""


Validator = Callable[[Any], str | None]


def check(*validators: Validator) -> dict[str, Any]:
    """Field metadata that attaches validators (each returns an error message or None)."""
    return {"validators": validators}


def _fmt(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def int_in(lo: int, hi: int | None = None) -> Validator:
    """An integer in lo..hi (inclusive); hi=None means unbounded."""

    def v(x: Any) -> str | None:
        ok = isinstance(x, int) and not isinstance(x, bool) and x >= lo and (hi is None or x <= hi)
        if not ok:
            rng = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            return f"must be an integer in {rng}, got {x!r}"
        return None

    return v


def in_range(lo: float = -math.inf, hi: float = math.inf, lo_open: bool = False, hi_open: bool = False) -> Validator:
    """A finite real number in the interval [lo, hi] (open ends as requested)."""

    def v(x: Any) -> str | None:
        if x is None:
            return None
        bad = not isinstance(x, (int, float)) or isinstance(x, bool) or not math.isfinite(x)
        if not bad:
            bad = (x <= lo if lo_open else x < lo) or (x >= hi if hi_open else x > hi)
        if bad:
            left = "(" if lo_open else "["
            right = ")" if hi_open else "]"
            return f"must be a finite number in {left}{_fmt(lo)}, {_fmt(hi)}{right}, got {x!r}"
        return None

    return v


def positive(x: Any) -> str | None:
    """A finite number > 0."""
    return in_range(0.0, lo_open=True)(x)


def nonnegative(x: Any) -> str | None:
    """A finite number >= 0."""
    return in_range(0.0)(x)


def one_of(*allowed: Any) -> Validator:
    """One of the listed values."""

    def v(x: Any) -> str | None:
        if x not in allowed:
            return f"must be one of {', '.join(map(repr, allowed))}, got {x!r}"
        return None

    return v


T = TypeVar("T", bound="Config")


class Config:
    """Mixin for frozen config dataclasses: runs field validators and :meth:`validate`."""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            for validator in f.metadata.get("validators", ()):
                msg = validator(value)
                if msg:
                    raise ConfigError(f.name, msg)
        self.validate()

    def validate(self) -> None:
        """Cross-field checks; raise :class:`ConfigError` with a relative field path."""

    def replace(self: T, **changes: Any) -> T:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)  # type: ignore[type-var]

    @classmethod
    def from_dict(cls: type[T], data: Mapping[str, Any] | None, path: str = "") -> T:
        """Build from a plain mapping (as read from YAML), validating every field."""
        return from_dict(cls, data, path)

    @classmethod
    def from_yaml(cls: type[T], file: str | Path, path: str = "") -> T:
        """Load a YAML file and build the config from it."""
        return from_dict(cls, read_yaml(file), path)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML/JSON serialisable)."""
        return to_dict(self)


def _join(path: str, name: str | int) -> str:
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _coerce(tp: Any, value: Any, path: str) -> Any:
    """Convert a YAML value to the annotated type, or raise ConfigError naming ``path``."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        candidates = [arg for arg in args if arg is not type(None)]
        if len(candidates) == 1:  # Optional[X]: X's own error, naming the field inside X
            return _coerce(candidates[0], value, path)
        errors = []
        for arg in candidates:
            try:
                return _coerce(arg, value, path)
            except ConfigError as e:
                errors.append(e.message)
        raise ConfigError(path, "; or ".join(errors))
    if origin is Literal:
        allowed = get_args(tp)
        if value not in allowed:
            raise ConfigError(path, f"must be one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_dict(tp, value, path)
    if origin in (tuple, list):
        args = get_args(tp)
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(path, f"must be a list, got {value!r}")
        if origin is tuple and args and args[-1] is not Ellipsis:
            if len(args) != len(value):
                raise ConfigError(path, f"must be a list of {len(args)} items, got {len(value)}")
            return tuple(_coerce(a, v, _join(path, i)) for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        out = [_coerce(item, v, _join(path, i)) for i, v in enumerate(value)]
        return tuple(out) if origin is tuple else out
    if origin in (dict, Mapping) or tp is dict:
        args = get_args(tp) or (str, Any)
        if not isinstance(value, Mapping):
            raise ConfigError(path, f"must be a mapping, got {value!r}")
        return {str(k): _coerce(args[1], v, _join(path, str(k))) for k, v in value.items()}
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"must be true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise ConfigError(path, f"must be an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, str):  # YAML 1.1 reads "25e-6" as a string
            try:
                value = float(value)
            except ValueError:
                raise ConfigError(path, f"must be a number, got {value!r}") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, f"must be a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"must be a string, got {value!r}")
        return value
    if isinstance(tp, type) and isinstance(value, tp):
        return value
    raise ConfigError(path, f"must be of type {_type_name(tp)}, got {value!r}")


def from_dict(cls: type[T], data: Mapping[str, Any] | None, path: str = "") -> T:
    """Build the dataclass ``cls`` from ``data``; unknown keys and bad values raise ConfigError."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"must be a mapping of fields, got {data!r}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}  # type: ignore[arg-type]
    unknown = [k for k in data if k not in fields]
    if unknown:
        raise ConfigError(_join(path, str(unknown[0])), f"unknown field; allowed fields: {', '.join(sorted(fields))}")
    kwargs = {}
    for name, value in data.items():
        kwargs[name] = _coerce(hints[name], value, _join(path, name))
    missing = [
        n
        for n, f in fields.items()
        if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise ConfigError(_join(path, missing[0]), "required field is missing")
    try:
        return cls(**kwargs)
    except ConfigError as e:
        raise e.under(path) from None


def to_dict(obj: Any) -> Any:
    """Nested plain-python representation of a config (tuples become lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


MAX_YAML_DEPTH = 64
"""Deepest nesting of mappings and lists a config file may have (deeper is refused, not recursed into)."""


class _StrictLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses duplicate keys, anchors/aliases (alias bombs) and deep nesting."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent) or getattr(self.peek_event(), "anchor", None):
            mark = self.peek_event().start_mark
            raise yaml.constructor.ConstructorError(
                None, None, "anchors and aliases (&name / *name) are not allowed in config files", mark
            )
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.constructor.ConstructorError(
                    None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", self.peek_event().start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (list, dict)) or key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate or unhashable key {key!r}", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


def parse_yaml(text: str | bytes, source: str) -> Any:
    """Parse YAML text with the strict safe loader; any problem is a ConfigError naming ``source``."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise ConfigError(source, f"not a UTF-8 text file (byte {e.start} is {text[e.start]:#04x})") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(e, "problem", None) or str(e)
        raise ConfigError(source, f"malformed YAML{where}: {problem}") from None
    except RecursionError:
        raise ConfigError(source, f"malformed YAML: nested deeper than {MAX_YAML_DEPTH} levels") from None


def read_yaml(file: str | Path) -> Any:
    """Read a YAML config file with :func:`parse_yaml`; a missing file or a syntax error is a ConfigError
    naming the file (and line)."""
    file = Path(file)
    if not file.is_file():
        raise ConfigError(str(file), "file not found")
    try:
        data = file.read_bytes()
    except OSError as e:
        raise ConfigError(str(file), f"cannot read: {e.strerror}") from None
    return parse_yaml(data, str(file))


def load_yaml(cls: type[T], file: str | Path, path: str = "") -> T:
    """Read ``file`` and build a ``cls`` config from it."""
    return from_dict(cls, read_yaml(file), path)


def require_finite(name: str, array: Any) -> Any:
    """Return ``array`` as a float ndarray, or raise ConfigError naming ``name`` and the first bad index."""
    import numpy as np

    a = np.asarray(array)
    if a.dtype.kind not in "biuf":
        raise ConfigError(name, f"must be a real numeric array, got dtype {a.dtype}")
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a)
        if bad.any():
            idx = tuple(int(i) for i in np.argwhere(bad)[0])
            raise ConfigError(name, f"must be finite, got {a[idx]} at index {idx}")
    return a
