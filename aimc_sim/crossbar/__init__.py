"""Crossbar tiles: analog matrix-vector products with their non-idealities and cost (docs/crossbar.md).

``load_tile_config(name_or_path, **overrides)`` -> :class:`TileConfig`; ``AnalogTile(config, W, rng)`` and
``AnalogMatrix(config, W, rng)`` compute ``mvm(x, t)`` ~ ``x @ W``; ``BlockDiagonalMatrix(config, blocks, rng)``
packs equally shaped blocks block-diagonally on tiles and simulates only the blocks. All three implement the
:class:`AnalogArray` protocol (``api.py``) on one pipeline (``periphery.TileStack``); ``irdrop.solve_ir_drop``
is the exact wire-resistance solve.
"""

from aimc_sim.crossbar.api import AnalogArray, BlockView, feedback_loop
from aimc_sim.crossbar.blockdiag import BlockDiagonalMatrix
from aimc_sim.crossbar.config import (
    AdcConfig,
    DacConfig,
    DriftCompensationConfig,
    IrDropConfig,
    ManagementConfig,
    MappingConfig,
    NoiseConfig,
    TileConfig,
    load_tile_config,
)
from aimc_sim.crossbar.matrix import AnalogMatrix
from aimc_sim.crossbar.threads import set_mvm_blas_threads, set_tile_threads
from aimc_sim.crossbar.tile import AnalogTile

__all__ = [
    "AdcConfig",
    "AnalogArray",
    "AnalogMatrix",
    "AnalogTile",
    "BlockDiagonalMatrix",
    "BlockView",
    "DacConfig",
    "DriftCompensationConfig",
    "IrDropConfig",
    "ManagementConfig",
    "MappingConfig",
    "NoiseConfig",
    "TileConfig",
    "feedback_loop",
    "load_tile_config",
    "set_mvm_blas_threads",
    "set_tile_threads",
]
