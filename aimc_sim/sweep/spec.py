"""Sweep specifications: a base config, axes and seeds, expanded into hashed points.

A spec (YAML) looks like::

    evaluator: workloads                     # a registered evaluator (aimc_sim.sweep.evaluators), or
                                             # module:function with allow_code; called as evaluate(config, seed)
    base:                                    # the nested config every point starts from
      model: digits_s4d
      hardware: {device: {preset: pcm, prog_noise: 0.02}, tile: {adc: {bits: 8}}}
    axes:
      - kind: grid                           # cartesian product of the value lists
        params:
          hardware.device.preset: [pcm, rram]
          hardware.device.prog_noise: {low: 0.0, high: 0.1, count: 6}
      - kind: random                         # `count` independent draws
        count: 4
        params:
          hardware.tile.adc.bits: [4, 6, 8]          # uniform choice
          hardware.read_noise: {low: 1e-3, high: 1e-1, log: true}
    seeds: 3                                 # replicate seeds 0..2, or a list [0, 7, 9]
    seed: 0                                  # spec seed: random axes and per-point rng streams
    output: results.h5

Axes combine as a cartesian product (a ``zip`` axis steps its lists together), and every
combination is run once per replicate seed. Every swept path must exist in ``base``, so a typo
is an error before anything runs. Each point carries a content hash (SHA-256 of the canonical
JSON of evaluator, config, seed and spec seed) and an rng seed derived from the spec seed and
that hash with :class:`numpy.random.SeedSequence`, never from worker identity: the numbers do
not depend on the executor or the worker count.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from aimc_sim.config import Config, check, int_in, read_yaml
from aimc_sim.errors import ConfigError

__all__ = [
    "AxisSpec",
    "SweepLimits",
    "SweepSpec",
    "Point",
    "load_spec",
    "expand_points",
    "canonical_json",
    "content_hash",
    "derive_seed",
]

_EVALUATOR = re.compile(r"^([A-Za-z_][\w-]*|[A-Za-z_][\w.]*:[A-Za-z_]\w*)$")  # registry name or module:function
_RANGE_KEYS = {"low", "high", "count", "log"}


def _param_path(axis: int, name: str) -> str:
    return f"axes[{axis}].params[{name}]"


def _check_range(spec: Mapping[str, Any], where: str, need_count: bool) -> None:
    unknown = set(spec) - _RANGE_KEYS
    if unknown:
        raise ConfigError(where, f"unknown key {sorted(unknown)[0]!r}; a range has low, high, count, log")
    for key in ("low", "high"):
        v = spec.get(key)
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                v = None
        if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(f"{where}.{key}", f"must be a finite number, got {spec.get(key)!r}")
    low, high = float(spec["low"]), float(spec["high"])
    if high < low:
        raise ConfigError(f"{where}.high", f"must be >= low ({low:g}), got {high:g}")
    log = spec.get("log", False)
    if not isinstance(log, bool):
        raise ConfigError(f"{where}.log", f"must be true or false, got {log!r}")
    if log and low <= 0:
        raise ConfigError(f"{where}.low", f"must be > 0 for a log range, got {low:g}")
    count = spec.get("count")
    if need_count:
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ConfigError(f"{where}.count", f"must be an integer >= 1, got {count!r}")
    elif count is not None:
        raise ConfigError(f"{where}.count", "not used by a random axis; set the axis-level count instead")


def _range_values(spec: Mapping[str, Any]) -> list[float]:
    low, high, n = float(spec["low"]), float(spec["high"]), int(spec["count"])
    vals = np.geomspace(low, high, n) if spec.get("log", False) else np.linspace(low, high, n)
    return [float(v) for v in vals]


@dataclass(frozen=True)
class AxisSpec(Config):
    """One axis: ``grid`` (cartesian product), ``zip`` (lists in lock-step) or ``random`` (``count`` draws).

    ``params`` maps a dotted config path to a list of values or to a range
    ``{low, high, count, log}`` (a random axis draws from ``{low, high, log}`` or chooses from a list).
    """

    kind: Literal["grid", "zip", "random"] = "grid"
    params: dict[str, Any] = field(default_factory=dict)
    count: int | None = None

    def validate(self) -> None:
        if not self.params:
            raise ConfigError("params", "must name at least one parameter to sweep")
        if self.kind == "random":
            if self.count is None or self.count < 1:
                raise ConfigError("count", f"a random axis needs an integer count >= 1, got {self.count!r}")
        elif self.count is not None:
            raise ConfigError("count", f"only a random axis takes a count (this axis is {self.kind!r})")
        lengths = {}
        for name, values in self.params.items():
            where = f"params[{name}]"
            if not re.fullmatch(r"[A-Za-z_][\w-]*(\.[A-Za-z_0-9][\w-]*)*", name):
                raise ConfigError(where, "must be a dotted path like hardware.tile.adc.bits")
            if isinstance(values, Mapping):
                _check_range(values, where, need_count=self.kind != "random")
                lengths[name] = values.get("count")
            elif isinstance(values, (list, tuple)) and not isinstance(values, str):
                if not values:
                    raise ConfigError(where, "must list at least one value")
                for j, v in enumerate(values):
                    check_finite(v, f"{where}[{j}]")
                lengths[name] = len(values)
            else:
                msg = f"must be a list of values or a range {{low, high, count, log}}, got {values!r}"
                raise ConfigError(where, msg)
        if self.kind == "zip" and len(set(lengths.values())) > 1:
            desc = ", ".join(f"{k}: {v}" for k, v in lengths.items())
            raise ConfigError("params", f"a zip axis needs lists of equal length, got {desc}")

    @property
    def size(self) -> int:
        """How many settings this axis contributes (counted, not materialised)."""
        if self.kind == "random":
            return int(self.count or 0)
        sizes = [int(v["count"]) if isinstance(v, Mapping) else len(v) for v in self.params.values()]
        return min(sizes) if self.kind == "zip" else math.prod(sizes)

    def assignments(self, rng: np.random.Generator) -> list[dict[str, Any]]:
        """The list of {path: value} settings this axis contributes, in a fixed order."""
        if self.kind == "random":
            out: list[dict[str, Any]] = [{} for _ in range(self.count or 0)]
            for name, values in self.params.items():
                if isinstance(values, Mapping):
                    low, high = float(values["low"]), float(values["high"])
                    if values.get("log", False):
                        draws = np.exp(rng.uniform(math.log(low), math.log(high), size=len(out)))
                    else:
                        draws = rng.uniform(low, high, size=len(out))
                    picked = [float(v) for v in draws]
                else:
                    picked = [values[int(i)] for i in rng.integers(0, len(values), size=len(out))]
                for row, v in zip(out, picked):
                    row[name] = v
            return out
        lists = {k: _range_values(v) if isinstance(v, Mapping) else list(v) for k, v in self.params.items()}
        if self.kind == "zip":
            return [dict(zip(lists, combo)) for combo in zip(*lists.values())]
        return [dict(zip(lists, combo)) for combo in itertools.product(*lists.values())]


@dataclass(frozen=True)
class SweepLimits(Config):
    """The largest sweep the runner accepts (``--max-points``, ``--max-seeds``): a typo like ``count: 1e9``
    is an error, not a run that never ends or fills the disk."""

    max_points: int = field(default=100_000, metadata=check(int_in(1)))
    max_seeds: int = field(default=10_000, metadata=check(int_in(1)))


def check_finite(value: Any, where: str) -> None:
    """Raise ConfigError naming ``where`` (and the nested key) if ``value`` holds a NaN or infinite number."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(where, f"must be a finite number, got {value!r}")
    if isinstance(value, Mapping):
        for k, v in value.items():
            check_finite(v, f"{where}.{k}")
    elif isinstance(value, (list, tuple)):
        for j, v in enumerate(value):
            check_finite(v, f"{where}[{j}]")


@dataclass(frozen=True)
class SweepSpec(Config):
    """A validated sweep: evaluator, base config, axes, replicate seeds, spec seed and output file."""

    evaluator: str = "workloads.api:evaluate"
    base: dict[str, Any] = field(default_factory=dict)
    axes: tuple[AxisSpec, ...] = ()
    seeds: int | tuple[int, ...] = 1
    seed: int = 0
    output: str = "sweep.h5"
    name: str = ""

    def validate(self) -> None:
        if not _EVALUATOR.match(self.evaluator):
            msg = f"must be a registered evaluator name (e.g. 'workloads') or 'module:function', got {self.evaluator!r}"
            raise ConfigError("evaluator", msg)
        if isinstance(self.seeds, int):
            if self.seeds < 1:
                raise ConfigError("seeds", f"must be a count >= 1 or a list of integers, got {self.seeds!r}")
        else:
            if not self.seeds:
                raise ConfigError("seeds", "must list at least one seed")
            if len(set(self.seeds)) != len(self.seeds):
                raise ConfigError("seeds", f"must not repeat a seed, got {list(self.seeds)}")
            if any(s < 0 for s in self.seeds):
                raise ConfigError("seeds", f"must be integers >= 0, got {list(self.seeds)}")
        if self.seed < 0 or self.seed >= 2**63:
            raise ConfigError("seed", f"must be an integer in 0..2**63-1, got {self.seed}")
        if not isinstance(self.seeds, int) and any(s >= 2**63 for s in self.seeds):
            raise ConfigError("seeds", "must be integers below 2**63")
        check_finite(self.base, "base")
        if not self.output:
            raise ConfigError("output", "must name an HDF5 file")
        seen: dict[str, int] = {}
        for i, axis in enumerate(self.axes):
            for name in axis.params:
                if name in seen:
                    raise ConfigError(_param_path(i, name), f"already swept by axes[{seen[name]}]")
                seen[name] = i
                _check_path(self.base, name, _param_path(i, name))

    @property
    def n_seeds(self) -> int:
        """The number of replicate seeds."""
        return self.seeds if isinstance(self.seeds, int) else len(self.seeds)

    @property
    def n_points(self) -> int:
        """Points of the sweep (axis combinations x seeds), counted without expanding them."""
        return math.prod(axis.size for axis in self.axes) * self.n_seeds

    def check_limits(self, limits: SweepLimits) -> None:
        """Raise ConfigError if the sweep is larger than ``limits`` (checked before anything is expanded)."""
        if self.n_seeds > limits.max_seeds:
            raise ConfigError("seeds", f"{self.n_seeds} seeds exceed the limit of {limits.max_seeds} (--max-seeds)")
        if self.n_points > limits.max_points:
            sizes = " x ".join(str(a.size) for a in self.axes) or "1"
            msg = f"{self.n_points} points ({sizes} x {self.n_seeds} seeds) exceed the limit of {limits.max_points}"
            raise ConfigError("axes", f"{msg} (--max-points)")

    @property
    def seed_list(self) -> list[int]:
        """The replicate seeds, as a list."""
        return list(range(self.seeds)) if isinstance(self.seeds, int) else list(self.seeds)


def _check_path(base: Mapping[str, Any], dotted: str, where: str) -> None:
    node: Any = base
    walked = ["base"]
    for key in dotted.split("."):
        if not isinstance(node, Mapping):
            raise ConfigError(where, f"unknown parameter: {'.'.join(walked)} is a value, not a section")
        if key not in node:
            known = ", ".join(sorted(map(str, node))) or "(nothing)"
            raise ConfigError(where, f"unknown parameter {key!r} in {'.'.join(walked)}; it has: {known}")
        node = node[key]
        walked.append(key)


def _set_path(config: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, leaf = dotted.split(".")
    node = config
    for key in parents:
        node = node[key]
    node[leaf] = value


@dataclass(frozen=True)
class Point:
    """One sweep point: the resolved config, its swept parameters, the replicate seed and the derived rng seed."""

    index: int
    config: dict[str, Any]
    params: dict[str, Any]
    seed: int
    hash: str
    rng_seed: int


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def canonical_json(obj: Any) -> str:
    """Stable JSON (sorted keys, no spaces, numpy scalars as python values) used for hashing."""
    return json.dumps(_plain(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


def content_hash(evaluator: str, config: Mapping[str, Any], seed: int, spec_seed: int) -> str:
    """SHA-256 hex digest identifying one point of a sweep."""
    payload = {"evaluator": evaluator, "config": config, "seed": seed, "spec_seed": spec_seed}
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def derive_seed(spec_seed: int, point_hash: str) -> int:
    """A 63-bit rng seed for a point, from the spec seed and the point hash (SeedSequence spawn key)."""
    key = tuple(int(point_hash[i : i + 8], 16) for i in range(0, 64, 8))
    state = np.random.SeedSequence(entropy=spec_seed, spawn_key=key).generate_state(2, dtype=np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))


def expand_points(spec: SweepSpec) -> list[Point]:
    """Every point of the sweep, in a fixed order: axis combinations (first axis slowest), then seeds."""
    per_axis = []
    for i, axis in enumerate(spec.axes):
        rng = np.random.default_rng(np.random.SeedSequence(entropy=spec.seed, spawn_key=(i,)))
        per_axis.append(axis.assignments(rng))
    points = []
    for combo in itertools.product(*per_axis):
        params: dict[str, Any] = {}
        for part in combo:
            params.update(part)
        config = copy.deepcopy(_plain(spec.base))
        for path, value in params.items():
            _set_path(config, path, _plain(value))
        for seed in spec.seed_list:
            h = content_hash(spec.evaluator, config, seed, spec.seed)
            points.append(Point(len(points), config, _plain(params), seed, h, derive_seed(spec.seed, h)))
    return points


def load_spec(source: str | Path | Mapping[str, Any]) -> SweepSpec:
    """Read and validate a sweep spec from a YAML file or a mapping."""
    data = read_yaml(source) if isinstance(source, (str, Path)) else source
    return SweepSpec.from_dict(data)
