"""One workload contract and the registry of model families.

Every workload follows the same three steps::

    model = workloads.load("net.onnx")          # or S4DModel.load, SNNModel.from_nir, workloads.from_torch
    bound = model.on({"tile": "pcm-default"})   # a Workload bound to a hardware config
    result = bound.evaluate(dataset, n_test=100, seed=0)   # -> workloads.result.Result

:class:`Workload` and :class:`BoundWorkload` are the two roles (``typing.Protocol``); S4D / GSU / Binary S4D
(:class:`workloads.s4d.model.S4DModel`), SNNs (:class:`workloads.snn.model.SNNModel`) and general networks
(:class:`workloads.network.graph.Network`) implement them. A :class:`Family` says which files a model family
reads and how a sweep point of that family is evaluated; :func:`family_for` finds it from a path or a shipped
model name, so no caller dispatches on name prefixes.

Several families may read one suffix (S4D and GLR checkpoints are both ``.safetensors`` / ``.npz`` / ``.h5``):
then one of them is the suffix's default and every other one has a ``detect(path)`` that recognises its files
from their metadata (GLR checkpoints carry ``"family": "glr"`` in the metadata dict that
:func:`workloads.io.save_weights` writes, for safetensors in the header). A file goes to the first family whose
``detect`` accepts it, else to the default.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from aimc_sim.errors import ConfigError, DataError
from workloads.result import Result

MODEL_DIR = Path(__file__).resolve().parent / "models"


@runtime_checkable
class BoundWorkload(Protocol):
    """A model bound to one hardware config."""

    def evaluate(self, dataset: Any, n_test: int | None = None, seed: int = 0) -> Result:
        """Accuracy, energy and latency per inference on the first ``n_test`` test samples of ``dataset``;
        ``seed`` drives every hardware random draw (programming noise, faults, read noise)."""
        ...


@runtime_checkable
class Workload(Protocol):
    """A loaded network that can be placed on hardware."""

    def on(self, hardware: Any) -> BoundWorkload:
        """Bind to a hardware config (a config object, a dict of its fields or a YAML path)."""
        ...


@dataclass(frozen=True)
class Family:
    """A model family: the file suffixes it reads, how to open one, and how to check and evaluate a sweep
    point (``validate_point`` builds every config without running anything)."""

    name: str
    description: str
    suffixes: tuple[str, ...]
    load: Callable[..., Workload]  # (path, **options) -> Workload
    evaluate_point: Callable[[dict[str, Any], int], Result]
    validate_point: Callable[[dict[str, Any]], None]
    detect: Callable[[Path], bool] | None = None  # None: the default family of its suffixes


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    """Add a family; a suffix has one default family (``detect=None``), other families reading it must detect
    their files."""
    if family.detect is None:
        taken = {s: f.name for f in FAMILIES.values() for s in f.suffixes if f.name != family.name and not f.detect}
        clash = [s for s in family.suffixes if s in taken]
        if clash:
            raise ConfigError(
                "family.suffixes",
                f"{clash[0]!r} is already read by family {taken[clash[0]]!r}; a second family needs a detect()",
            )
    FAMILIES[family.name] = family
    return family


def _by_suffix() -> dict[str, Family]:
    """Suffix -> its default family."""
    return {s: f for f in FAMILIES.values() if f.detect is None for s in f.suffixes}


def _family_of_file(path: Path) -> Family:
    suffix = path.suffix.lower()
    for fam in FAMILIES.values():
        if fam.detect is not None and suffix in fam.suffixes and fam.detect(path):
            return fam
    return _by_suffix()[suffix]


def resolve(name_or_path: str | Path) -> tuple[Family, Path]:
    """The family and file of a model path or a shipped model name (``workloads/models/<name>.<suffix>``)."""
    suffixes = _by_suffix()
    p = Path(name_or_path)
    if p.suffix.lower() in suffixes:
        if not p.is_file():
            raise DataError(str(p), "no such model file")
        return _family_of_file(p), p
    for suffix in suffixes:
        if (MODEL_DIR / f"{p.name}{suffix}").is_file() and str(p) == p.name:
            return _family_of_file(MODEL_DIR / f"{p.name}{suffix}"), MODEL_DIR / f"{p.name}{suffix}"
    raise ConfigError(
        "model",
        f"unknown model {str(name_or_path)!r}: not a shipped model ({', '.join(shipped_models())}) and not a file "
        f"ending in {', '.join(sorted(suffixes))}",
    )


def shipped_models() -> list[str]:
    """Names of the models in ``workloads/models/`` that a registered family reads."""
    suffixes = _by_suffix()
    return sorted({f.stem for f in MODEL_DIR.glob("*") if f.suffix in suffixes})


def family_for(name_or_path: str | Path) -> Family:
    """The family of a model path or shipped model name."""
    return resolve(name_or_path)[0]


def load(path: str | Path, **options: Any) -> Workload:
    """Open any supported model file (or shipped model name) as a :class:`Workload`. ``options`` go to the
    family's loader (e.g. NIR import options ``convention="snntorch"`` or ``dt=..., time_unit=...``, or S4D
    config overrides such as ``w_bits=4``)."""
    family, file = resolve(path)
    return family.load(file, **options) if options else family.load(file)


def _load_s4d(path: Path, **overrides: Any) -> Workload:
    from workloads.s4d.model import S4DModel

    return S4DModel.load(path, **overrides)


def _point_s4d(point: dict[str, Any], seed: int) -> Result:
    from workloads.api import evaluate_s4d

    return evaluate_s4d(point, seed)


def _check_s4d(point: dict[str, Any]) -> None:
    from workloads.api import validate_s4d

    validate_s4d(point)


def _load_snn(path: Path, **options: Any) -> Workload:
    from workloads.snn.experiments import SHIPPED, load_shipped
    from workloads.snn.model import SNNModel

    if path.parent == MODEL_DIR and path.stem in SHIPPED and not options:
        return load_shipped(path.stem)
    return SNNModel.from_nir(path, **options)


def _point_snn(point: dict[str, Any], seed: int) -> Result:
    from workloads.snn.api import evaluate

    return evaluate(point, seed)


def _check_snn(point: dict[str, Any]) -> None:
    from workloads.snn.api import validate_point

    validate_point(point)


def _load_network(path: Path) -> Workload:
    from workloads.network.onnx_import import from_onnx

    return from_onnx(path)


def _point_network(point: dict[str, Any], seed: int) -> Result:
    from workloads.network.api import evaluate

    return evaluate(point, seed)


def _check_network(point: dict[str, Any]) -> None:
    from workloads.network.api import validate_point

    validate_point(point)


register(
    Family(
        "s4d",
        "S4D / GSU / Binary S4D sequence classifiers (project checkpoints, state-spaces reference state dicts)",
        (".safetensors", ".npz", ".h5", ".hdf5", ".pt", ".pth"),
        _load_s4d,
        _point_s4d,
        _check_s4d,
    )
)


def _is_glr(path: Path) -> bool:
    from workloads.glr.api import is_glr_checkpoint

    return is_glr_checkpoint(path)


def _load_glr(path: Path) -> Workload:
    from workloads.glr.model import GLRModel

    return GLRModel.load(path)


def _point_glr(point: dict[str, Any], seed: int) -> Result:
    from workloads.glr.api import evaluate

    return evaluate(point, seed)


def _check_glr(point: dict[str, Any]) -> None:
    from workloads.glr.api import validate_point

    validate_point(point)


register(
    Family(
        "glr",
        "gated linear recurrence (selective forgetting) sequence classifiers; checkpoints with family 'glr' in the"
        " metadata",
        (".safetensors", ".npz", ".h5", ".hdf5"),
        _load_glr,
        _point_glr,
        _check_glr,
        detect=_is_glr,
    )
)
register(Family("snn", "spiking networks in NIR", (".nir",), _load_snn, _point_snn, _check_snn))
register(
    Family(
        "network",
        "general layer networks (ONNX, opset >= 13)",
        (".onnx",),
        _load_network,
        _point_network,
        _check_network,
    )
)
