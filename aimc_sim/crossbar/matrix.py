"""AnalogMatrix: a weight matrix of any size split over analog tiles (docs/crossbar.md#analogmatrix).

W (n_in x n_out) is cut into ceil(n_in / rows) row blocks and ceil(n_out / max_outputs) column blocks,
one :class:`AnalogTile` per block, with blocks of (nearly) equal size. Each tile converts its own partial
sums with its own ADCs; the row-block partial sums are then added digitally (counted as ``int32_add``).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.config import require_finite
from aimc_sim.cost.events import INT32_ADD
from aimc_sim.cost.ledger import Ledger
from aimc_sim.crossbar.api import feedback_loop
from aimc_sim.crossbar.config import TileConfig
from aimc_sim.crossbar.threads import blas_limit
from aimc_sim.crossbar.tile import AnalogTile, check_tile_args, check_time
from aimc_sim.errors import ConfigError

__all__ = ["AnalogMatrix"]


def _blocks(n: int, size: int) -> list[tuple[int, int]]:
    k = -(-n // size)
    edges = np.linspace(0, n, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


class AnalogMatrix:
    """Any (n_in x n_out) weight matrix on as many tiles of ``config`` as it needs; ``mvm(x, t)`` ~ x @ W, and
    ``x @ m`` is ``m.mvm(x)`` at the read time ``m.t`` (0 s unless set).

    ``layout="torch"`` takes the weights as PyTorch stores them, (out, in) (``nn.Linear.weight``); the matrix
    is still n_in x n_out. Attributes: ``shape`` (n_in, n_out), ``n_tiles``, ``utilisation`` (programmed
    cells / available cells), ``tiles`` (row block, column block) -> AnalogTile. Each tile gets its own
    generator spawned from ``rng``.
    """

    __array_ufunc__ = None  # numpy arrays defer ``x @ m`` to :meth:`__rmatmul__`

    def __init__(
        self,
        config: TileConfig,
        weights: np.ndarray,
        rng: np.random.Generator,
        ledger: Ledger | None = None,
        name: str = "",
        layout: str = "in_out",
    ):
        if layout not in ("in_out", "torch"):
            raise ConfigError("layout", f"must be 'in_out' (n_in x n_out) or 'torch' (out x in), got {layout!r}")
        W = check_tile_args(config, weights, rng, convert=False)  # each tile converts its block
        if layout == "torch":
            W = np.ascontiguousarray(W.T)
        if config.max_outputs < 1:
            raise ConfigError("tile.cols", f"{config.cols} cells cannot hold one weight column")
        self.config, self.ledger, self.name = config, ledger, name
        self.n_in, self.n_out = W.shape
        self.t = 0.0
        self.row_blocks = _blocks(self.n_in, config.rows)
        self.col_blocks = _blocks(self.n_out, config.max_outputs)
        rngs = rng.spawn(len(self.row_blocks) * len(self.col_blocks))
        self.tiles: dict[tuple[int, int], AnalogTile] = {}
        k = 0
        for r, (r0, r1) in enumerate(self.row_blocks):
            for c, (c0, c1) in enumerate(self.col_blocks):
                self.tiles[(r, c)] = AnalogTile(config, W[r0:r1, c0:c1], rngs[k], ledger, name)
                k += 1

    @property
    def shape(self) -> tuple[int, int]:
        """(n_in, n_out), the shape of W."""
        return self.n_in, self.n_out

    def __rmatmul__(self, x: np.ndarray) -> np.ndarray:
        """``x @ m``: the MVM read at ``m.t`` seconds after programming."""
        return self.mvm(x, t=self.t)

    @property
    def n_tiles(self) -> int:
        """Number of tiles used."""
        return len(self.tiles)

    @property
    def utilisation(self) -> float:
        """Programmed cells over the cells of all tiles used."""
        used = sum(t.utilisation for t in self.tiles.values()) * self.config.rows * self.config.cols
        return used / (self.n_tiles * self.config.rows * self.config.cols)

    def mvm(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """y ~ x @ W for x of shape (batch, n_in) (or (n_in,)), read at ``t`` seconds after programming."""
        t = check_time(t)
        a = require_finite("x", x)
        vec = a.ndim == 1
        if vec:
            a = a[None, :]
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ConfigError("x", f"must have shape (batch, {self.n_in}) or ({self.n_in},), got {np.shape(x)}")
        if a.dtype not in (np.float32, np.float64):
            a = a.astype(np.float32)
        y = np.zeros((a.shape[0], self.n_out), dtype=np.result_type(a.dtype, np.float32))
        with blas_limit():
            for (r, c), tile in self.tiles.items():
                r0, r1 = self.row_blocks[r]
                c0, c1 = self.col_blocks[c]
                y[:, c0:c1] += tile.mvm(np.ascontiguousarray(a[:, r0:r1]), t)
        if self.ledger is not None and len(self.row_blocks) > 1:
            self.ledger.add(INT32_ADD, a.shape[0] * self.n_out * (len(self.row_blocks) - 1), self.name or None)
        return y[0] if vec else y

    def run_feedback(self, u: np.ndarray, n_state: int, t: float = 0.0) -> np.ndarray:
        """A recurrence through ADC -> DAC: see :func:`aimc_sim.crossbar.api.feedback_loop`."""
        return feedback_loop(self, u, n_state, t)

    def calibrate_adc(self, x: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Calibrate every tile's ADC ranges on inputs ``x`` (batch x n_in), see AnalogTile.calibrate_adc.
        Returns the range behind each output (n_out,): the widest of its row-block tiles."""
        a = require_finite("x", x)
        if a.ndim != 2 or a.shape[1] != self.n_in:
            raise ConfigError("x", f"must have shape (batch, {self.n_in}), got {np.shape(x)}")
        bounds = np.zeros(self.n_out)
        for (r, c), tile in self.tiles.items():
            r0, r1 = self.row_blocks[r]
            c0, c1 = self.col_blocks[c]
            bounds[c0:c1] = np.maximum(bounds[c0:c1], tile.calibrate_adc(a[:, r0:r1], t))
        return bounds

    def weights_at(self, t: float = 0.0) -> np.ndarray:
        """The noise-free effective weights held at time t (n_in x n_out), without periphery."""
        W = np.zeros((self.n_in, self.n_out))
        for (r, c), tile in self.tiles.items():
            r0, r1 = self.row_blocks[r]
            c0, c1 = self.col_blocks[c]
            W[r0:r1, c0:c1] = tile.weights_at(t)
        return W
