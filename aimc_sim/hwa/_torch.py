"""The one place the HWA layers import torch: an optional dependency with a clear error when it is missing."""

from __future__ import annotations

from types import ModuleType


def require_torch() -> ModuleType:
    """The torch module, or ImportError telling how to install the CPU build."""
    try:
        import torch
    except ImportError as e:  # pragma: no cover - torch is installed wherever the tests run
        raise ImportError(
            "aimc_sim.hwa (hardware-aware training) needs PyTorch: pip install -e '.[train]' (CPU torch==2.13.0)"
        ) from e
    return torch
