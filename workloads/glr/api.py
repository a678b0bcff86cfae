"""GLR as a registered model family (:mod:`workloads.registry`): how its checkpoints are told apart from S4D's,
and one-call evaluation of a sweep point (the point shape of :func:`workloads.api.evaluate`)::

    {"model": "glr.safetensors", "hardware": {"tile": "pcm-default"}, "dataset": {"name": "data.npz", "n_test": 100}}

A GLR checkpoint carries ``"family": "glr"`` in its metadata dict (written by :meth:`GLRModel.save`; for
safetensors in the header under the key ``"aimc"``). Files written before that key existed are recognised by
their model config, which has GLR's ``selective`` field and no S4D ``d_state``.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from aimc_sim.errors import ConfigError, DataError
from workloads.glr.model import FAMILY, GLRModel
from workloads.result import Result


def is_glr_checkpoint(path: str | Path) -> bool:
    """Whether the weight file's metadata marks it as a GLR checkpoint (unreadable files: no, so that the
    suffix's default family reports the problem)."""
    from workloads.io import read_metadata

    try:
        meta = read_metadata(path)
    except DataError:
        return False
    if meta.get("family") is not None:
        return meta["family"] == FAMILY
    cfg = meta.get("model")
    return isinstance(cfg, dict) and "selective" in cfg and "d_state" not in cfg


@lru_cache(maxsize=8)
def _model(path: str) -> GLRModel:
    return GLRModel.load(path)


def _load(spec: Any) -> GLRModel:
    if isinstance(spec, dict):
        extra = sorted(set(spec) - {"name"})
        if extra:
            raise ConfigError(f"model.{extra[0]}", "GLR checkpoints take no load options")
        spec = spec.get("name")
    if not isinstance(spec, (str, Path)):
        raise ConfigError("model", f"must be a GLR checkpoint path, got {spec!r}")
    return _model(str(spec))


def evaluate(point: dict[str, Any], seed: int) -> Result:
    """Evaluate one GLR sweep point with every hardware draw from ``seed``."""
    from workloads.api import bind_sequence_point

    hw, data, n_test = bind_sequence_point(point, _load)
    return hw.evaluate(data, n_test=n_test, seed=seed)


def validate_point(point: dict[str, Any]) -> None:
    """Check a GLR point without running it: model file, data set and ``n_test``, hardware and tile configs, cost
    model."""
    from aimc_sim.cost import CostModel
    from aimc_sim.crossbar.devices import resolve_device
    from workloads.api import bind_sequence_point

    hw, _, _ = bind_sequence_point(point, _load)
    if hw.hw.backend == "analog":
        tile = hw.hw.tile_config()
        resolve_device(tile.device, tile.device_options)
    CostModel.load(hw.hw.cost_model)
