"""The evaluator registry: which code a sweep spec may name, and the trust check before any import.

A spec is data. Its ``evaluator`` names an entry of this registry:

* the shipped evaluators (:data:`SHIPPED`), by name (``workloads``) or by their ``module:function``
  target (``workloads.api:evaluate``);
* evaluators that installed packages declare as Python entry points in the group
  :data:`ENTRY_POINT_GROUP` (``[project.entry-points."aimc_sim.evaluators"] mine = "pkg.mod:evaluate"``).

Any other ``module:function`` is arbitrary code (it is imported, with the working directory on
``sys.path``, and called): :func:`resolve_entry` refuses it unless the caller passes
``allow_code=True`` (``aimc sweep --allow-code``). The check reads names only; nothing is imported
before it passes. Each evaluator's module may define ``validate_point(config)``, which the runner
calls on every point before anything runs; every shipped evaluator does.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from aimc_sim.errors import ConfigError

__all__ = ["ENTRY_POINT_GROUP", "SHIPPED", "Evaluator", "registered", "resolve_entry", "import_function"]

ENTRY_POINT_GROUP = "aimc_sim.evaluators"
TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


@dataclass(frozen=True)
class Evaluator:
    """A resolved evaluator: its registry name, ``module:function`` target, origin, and whether it is
    arbitrary code (then the working directory is put on ``sys.path`` to import it)."""

    name: str
    target: str
    origin: str
    code: bool = False

    @property
    def paths(self) -> list[str]:
        """Extra import paths for the workers (the working directory, for ``--allow-code`` only)."""
        import os

        return [os.getcwd()] if self.code else []

    def function(self) -> Callable[..., Any]:
        """Import and return the evaluator function."""
        return import_function(self.target, self.paths)

    def validator(self) -> Callable[[dict[str, Any]], None] | None:
        """The module's ``validate_point(config)`` hook, or None (imports the module)."""
        self.function()
        hook = getattr(sys.modules[self.target.partition(":")[0]], "validate_point", None)
        return hook if callable(hook) else None


SHIPPED = {
    "workloads": Evaluator("workloads", "workloads.api:evaluate", "aimc-sim"),
}
"""Evaluators shipped with aimc-sim (S4D and SNN workload points, see :mod:`workloads.api`)."""


def registered() -> dict[str, Evaluator]:
    """Shipped evaluators plus those declared by installed packages (entry points; nothing is imported)."""
    found = dict(SHIPPED)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name not in found and TARGET.match(ep.value):
            dist = getattr(ep.dist, "name", None) or "an installed package"
            found[ep.name] = Evaluator(ep.name, ep.value, f"entry point of {dist}")
    return found


def resolve_entry(name: str, allow_code: bool = False) -> Evaluator:
    """The registry entry for ``name`` (a registered name or target), or, with ``allow_code``, any
    ``module:function``. Raises ConfigError naming ``evaluator``; imports nothing."""
    known = registered()
    if name in known:
        return known[name]
    for entry in known.values():
        if entry.target == name:
            return entry
    names = ", ".join(f"{k} ({e.target})" for k, e in known.items())
    if not isinstance(name, str) or not TARGET.match(name):
        raise ConfigError("evaluator", f"{name!r} is not a registered evaluator ({names}) nor 'module:function'")
    if not allow_code:
        raise ConfigError(
            "evaluator",
            f"{name!r} is not a registered evaluator ({names}); a spec naming module:function runs code from "
            "that module (found via the working directory): pass --allow-code (allow_code=True) only for a "
            "spec and code you trust",
        )
    return Evaluator(name, name, "arbitrary code (--allow-code)", code=True)


def import_function(target: str, paths: Sequence[str] = ()) -> Callable[..., Any]:
    """Import ``module:function``; ``paths`` are appended to ``sys.path`` first."""
    for p in paths:
        if p not in sys.path:
            sys.path.append(p)
    module_name, _, func_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise ConfigError("evaluator", f"cannot import module {module_name!r}: {e}") from None
    func = getattr(module, func_name, None)
    if not callable(func):
        raise ConfigError("evaluator", f"module {module_name!r} has no function {func_name!r}")
    return func
