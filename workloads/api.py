"""One-call evaluation of a workload sweep point, for the sweep runner.

``evaluate(point, seed) -> Result`` where ``point`` is a plain nested dict::

    {
        "model": "s4d_digits_float",            # shipped model name (workloads/models/) or a checkpoint path,
                                                # or {"name": ..., <S4DConfig overrides, e.g. "w_bits": 4 for PTQ>}
        "hardware": {                           # fields of workloads.s4d.hardware.S4DHardwareConfig
            "tile": {"preset": "pcm-default", "adc": {"bits": 6}},   # or a preset name / YAML path
            "backend": "analog",                # analog | float (FP32 digital baseline)
            "recurrence": "analog",             # analog (fused matrices on tiles) | digital (Abar*x near memory)
            "t": 0.0,                           # seconds after programming (drift)
            "cost_model": "22nm",                # aimc_sim/data/cost/<name>.yaml
            "prog_noise": 0.02,                 # optional: HfO2 device with Gaussian programming noise (x G_max)
            "ssm_channels_per_tile": None,      # optional cap on SSM channels packed per tile
        },
        "dataset": {"name": "digits_pixel", "n_test": 100},   # + builder options (classes, seq_len, ...)
    }

The model's family (:mod:`workloads.registry`: S4D checkpoints, NIR spiking networks, ONNX networks) is found
from the shipped name or the file suffix, and the family's own point evaluator runs it (same point shape), so
one evaluator serves every workload in a sweep.
``dataset`` may also be a data file path, or ``{"name": <path>, "n_test": ...}``
(``workloads.data.load_dataset``, docs/data.md).

The result is fully determined by ``point`` and ``seed``: the data split is fixed (dataset seed 0 unless the
point sets ``dataset.seed``), and ``seed`` drives every hardware random draw (programming noise, faults, read
noise). Models and data sets are cached per process, so small ``n_test`` points are fast.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError
from workloads.data import SequenceDataset, load_dataset
from workloads.data.files import is_data_file
from workloads.registry import FAMILIES, family_for, resolve
from workloads.result import Result
from workloads.s4d.model import S4DModel


def model_path(name: str) -> Path:
    """Resolve a shipped S4D model name (e.g. ``s4d_digits_float``) or a path to an S4D checkpoint file."""
    family, path = resolve(name)
    if family is not FAMILIES["s4d"]:
        raise ConfigError("model", f"{name!r} is a {family.name} model, not an S4D checkpoint")
    return path


@lru_cache(maxsize=32)
def _model(name: str, overrides_json: str) -> S4DModel:
    return S4DModel.load(model_path(name), **json.loads(overrides_json))


@lru_cache(maxsize=16)
def _dataset(name: str, options: tuple[tuple[str, Any], ...]) -> SequenceDataset:
    kind = {"kind": "sequences"} if is_data_file(name) else {}  # S4D models take (N, L, D) sequences
    return load_dataset(name, **kind, **dict(options))


def _freeze(d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


def load_model(spec: str | dict[str, Any]) -> S4DModel:
    """The model of a point: a name/path, or ``{"name": ..., **config_overrides}`` (cached)."""
    if isinstance(spec, str):
        return _model(spec, "{}")
    if isinstance(spec, dict) and isinstance(spec.get("name"), str):
        rest = {k: v for k, v in spec.items() if k != "name"}
        return _model(spec["name"], json.dumps(rest, sort_keys=True))
    raise ConfigError("model", f"must be a model name, a path or a mapping with 'name', got {spec!r}")


def _family(point: Any) -> Any:
    """The registered family of a point's model (the point must be a mapping with a model)."""
    if not isinstance(point, dict):
        raise ConfigError("point", f"must be a mapping with keys model, hardware, dataset, got {point!r}")
    if "model" not in point:
        raise ConfigError("point.model", "required key is missing")
    name = point["model"]
    name = name.get("name") if isinstance(name, dict) else name
    if not isinstance(name, (str, Path)):
        raise ConfigError("model", f"must be a model name, a path or a mapping with 'name', got {point['model']!r}")
    return family_for(name)


def evaluate(point: dict[str, Any], seed: int) -> Result:
    """Evaluate one sweep point (see the module docstring) with all randomness drawn from ``seed``."""
    return _family(point).evaluate_point(point, seed)


def validate_point(point: dict[str, Any]) -> None:
    """Check a sweep point completely without running it (the model family's own check). Raises
    ConfigError/DataError."""
    _family(point).validate_point(point)


def bind_sequence_point(point: dict[str, Any], load: Any) -> tuple[Any, SequenceDataset, int | None]:
    """Model on hardware, data set and ``n_test`` of a sequence-classifier point (S4D, GLR): configs built and
    checked, nothing run. ``load(spec)`` opens the point's model (it has ``config.d_in``, ``config.n_classes``
    and ``on(hardware)``)."""
    unknown = set(point) - {"model", "hardware", "dataset"}
    if unknown:
        raise ConfigError(f"point.{sorted(unknown)[0]}", "unknown key; allowed: model, hardware, dataset")
    model = load(point["model"])
    ds = point.get("dataset") or {"name": "digits_pixel"}
    ds = {"name": ds} if isinstance(ds, str) else dict(ds)
    if "name" not in ds:
        raise ConfigError("dataset.name", "required key is missing")
    name, n_test = ds.pop("name"), ds.pop("n_test", None)
    data = _dataset(name, _freeze(ds))
    if data.d_in != model.config.d_in or data.n_classes > model.config.n_classes:
        raise ConfigError(
            "dataset",
            f"{name!r} has d_in={data.d_in}, {data.n_classes} classes; the model expects "
            f"d_in={model.config.d_in}, {model.config.n_classes} classes",
        )
    data.test_subset(n_test)  # range check of n_test
    return model.on(point.get("hardware") or {}), data, n_test


def _bind_s4d(point: dict[str, Any]) -> tuple[Any, SequenceDataset, int | None]:
    """Model on hardware, data set and ``n_test`` of an S4D point (configs built and checked, nothing run)."""
    return bind_sequence_point(point, load_model)


def evaluate_s4d(point: dict[str, Any], seed: int) -> Result:
    """Evaluate one S4D-family sweep point."""
    hw, data, n_test = _bind_s4d(point)
    return hw.evaluate(data, n_test=n_test, seed=seed)


def validate_s4d(point: dict[str, Any]) -> None:
    """Check an S4D-family point: model, data set and ``n_test`` range, hardware and tile configs (presets
    resolved), SSM simulation path and cost model."""
    from aimc_sim.cost import CostModel
    from aimc_sim.crossbar.devices import resolve_device

    hw, _, _ = _bind_s4d(point)
    if hw.hw.backend == "analog":
        tile = hw.hw.tile_config()
        resolve_device(tile.device, tile.device_options)
        hw.hw.block_sim(tile)
    CostModel.load(hw.hw.cost_model)
