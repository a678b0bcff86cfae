"""Device presets: YAML files in ``device_models/presets/``, each naming its source and figure.

A preset file holds ``name``, ``model`` (the model family), ``description``, ``source``,
``figure`` and ``config`` (the fields of that family's config dataclass, SI units).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device_models.base import DeviceModel
from device_models.schema import ConfigError, from_dict, read_yaml, to_dict

__all__ = ["PresetInfo", "MODELS", "PRESET_DIR", "list_presets", "load_preset", "model_from_dict"]

PRESET_DIR = Path(__file__).resolve().parent / "presets"

# The registry of model families: family -> (module, model class, config class), imported lazily.
# A new family is one module (a DeviceModel subclass with ``family`` set to its key) plus one line here.
MODELS: dict[str, tuple[str, str, str]] = {
    "ideal": ("device_models.ideal", "IdealDevice", "IdealConfig"),
    "pcm": ("device_models.pcm", "PCMModel", "PCMConfig"),
    "rram": ("device_models.rram", "RRAMModel", "RRAMConfig"),
    "rram_binary": ("device_models.rram_binary", "BinaryRRAMModel", "BinaryRRAMConfig"),
    "fefet": ("device_models.fefet", "FeFETModel", "FeFETConfig"),
    "pulsed": ("device_models.pulsed_device", "PulsedDeviceModel", "PulsedDeviceConfig"),
}

_HEADER = ("name", "model", "description", "source", "figure", "config")


@dataclass(frozen=True)
class PresetInfo:
    """What ``aimc devices`` lists about one preset."""

    name: str
    model: str
    source: str
    figure: str
    description: str
    path: Path


def _header(data: Any, file: Path) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ConfigError(str(file), f"a preset must be a mapping with keys {', '.join(_HEADER)}, got {data!r}")
    unknown = [k for k in data if k not in _HEADER]
    if unknown:
        raise ConfigError(f"{file}: {unknown[0]}", f"unknown preset key; allowed: {', '.join(_HEADER)}")
    model = data.get("model")
    if model not in MODELS:
        raise ConfigError(f"{file}: model", f"must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    for key in ("name", "source"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise ConfigError(f"{file}: {key}", "required string is missing")
    return dict(data)


def _preset_files() -> dict[str, Path]:
    return {p.stem: p for p in sorted(PRESET_DIR.glob("*.yaml"), key=lambda p: p.stem)}


def list_presets() -> list[PresetInfo]:
    """Every shipped preset, sorted by name."""
    out = []
    for stem, file in _preset_files().items():
        d = _header(read_yaml(file), file)
        out.append(
            PresetInfo(
                name=d.get("name", stem),
                model=d["model"],
                source=d["source"],
                figure=str(d.get("figure", "")),
                description=str(d.get("description", "")),
                path=file,
            )
        )
    return out


def _model_parts(model: str) -> tuple[type, type]:
    mod, cls, cfg_cls = MODELS[model]
    module = importlib.import_module(mod)
    return getattr(module, cls), getattr(module, cfg_cls)


def _merge(base: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in overrides.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(dict(out[k]), v)
        else:
            out[k] = v
    return out


def model_from_dict(model: str, config: Mapping[str, Any] | None, path: str = "config") -> DeviceModel:
    """Build a device model of family ``model`` from a config mapping (validated, errors name ``path``)."""
    if model not in MODELS:
        raise ConfigError("model", f"must be one of {', '.join(map(repr, MODELS))}, got {model!r}")
    cls, cfg_cls = _model_parts(model)
    return cls(from_dict(cfg_cls, config, path))


def load_preset(name_or_path: str, **overrides: Any) -> DeviceModel:
    """The device model of a shipped preset (by name) or of a preset YAML file (by path).

    ``overrides`` replace config fields (nested mappings are merged), e.g.
    ``load_preset("pcm", g_max=20e-6, faults={"p_stuck_min": 0.01})``.
    """
    files = _preset_files()
    if name_or_path in files:
        file = files[name_or_path]
    else:
        file = Path(name_or_path)
        if file.suffix not in (".yaml", ".yml") or not file.is_file():
            raise ConfigError("preset", f"unknown preset {name_or_path!r}; available: {', '.join(files)}")
    d = _header(read_yaml(file), file)
    base = d.get("config") or {}
    if not isinstance(base, Mapping):
        raise ConfigError(f"{file}: config", f"must be a mapping of fields, got {base!r}")
    cls, cfg_cls = _model_parts(d["model"])
    merged = _merge(to_dict(from_dict(cfg_cls, base, f"{file.name}: config")), overrides)
    model = cls(from_dict(cfg_cls, merged, f"{d['name']}.config"))
    model.name = d["name"]
    return model
