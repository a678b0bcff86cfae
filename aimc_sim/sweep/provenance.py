"""Provenance of a result file: the aimc-sim version, its git commit and the versions of the numeric stack."""

from __future__ import annotations

import platform
import subprocess
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

__all__ = ["provenance", "git_commit"]

_PACKAGES = ("numpy", "numba", "scipy", "h5py")


def git_commit(folder: Path | None = None) -> str:
    """``HEAD`` of the git checkout holding ``folder`` (default: this package), with ``-dirty`` if the
    tracked files differ; ``""`` when it is not a checkout or git is missing."""
    folder = folder or Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(folder), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f"{head}-dirty" if dirty else head


@lru_cache(maxsize=1)
def provenance() -> dict[str, str]:
    """Attributes every result file records: ``aimc_sim_version``, ``git_commit`` (``""`` if unknown),
    ``python_version`` and ``<package>_version`` for numpy, numba, scipy and h5py."""
    from aimc_sim import __version__

    out = {"aimc_sim_version": __version__, "git_commit": git_commit(), "python_version": platform.python_version()}
    for name in _PACKAGES:
        try:
            out[f"{name}_version"] = version(name)
        except PackageNotFoundError:
            out[f"{name}_version"] = ""
    return out
