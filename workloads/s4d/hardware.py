"""Running an S4D-family model on simulated crossbar tiles (docs/s4d.md#packing).

Mapping (docs/s4d.md#packing): encoder, mixing and decoder are dense :class:`aimc_sim.crossbar.AnalogMatrix`
objects. With ``recurrence: analog`` each layer's fused real matrices M_h ((2P+1) x (2P+1) per channel, 5.1)
are packed block-diagonally, k channels per tile with k = min(rows // (2P+1), max_outputs // (2P+1)), and the
recurrence runs step by step: the array output [x'; y] goes through the ADC, and the state part is fed back
through the DAC at the next step (so ADC/DAC resolution quantises the state, and programming error in Abar
compounds over L steps). With ``recurrence: digital`` the SSM (Abar*x elementwise, Bbar*u, C*x, D*u) runs
in near-memory digital logic and only the dense matrices sit on the arrays. GELU, GLU/GSU gates, LayerNorm,
residual, pooling and argmax are digital and are counted as digital operations in the ledger.

``backend: float`` runs the same model in FP32 numpy and prices it as a digital FP32 baseline.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from aimc_sim.config import Config, check, in_range, int_in, nonnegative, one_of
from aimc_sim.cost import Ledger
from aimc_sim.cost.events import FP32_ADD, FP32_MUL, INT32_ADD, DigitalOp, Memory, MemoryAccess, Op, Precision
from aimc_sim.errors import ConfigError, DataError
from workloads.data.base import SequenceDataset
from workloads.hwconfig import coerce_config, resolve_tile
from workloads.result import Result, exclude_programming, score
from workloads.s4d.model import S4DModel
from workloads.s4d.ssm import replica_index, replicate_fused

NONLINEAR_OPS = 5
"""FP32 multiplies and adds charged per GELU / sigmoid / LayerNorm-normalise evaluation (a degree-5 polynomial
or rational approximation) [proposal]; the cost model prices fp32_mul / fp32_add (Horowitz 45 nm table)."""


def _datapath(*bits: int | str | None) -> tuple[DigitalOp, DigitalOp]:
    """(multiply, accumulate) of digital work on weights of these bit widths (None: float; "ternary": 2 bits).
    Float if any is float; else an integer datapath at the widest weight, accumulating in int32 [proposal:
    the activations are taken quantised to the same width]."""
    if any(b is None for b in bits):
        return FP32_MUL, FP32_ADD
    widest = max(2 if b == "ternary" else int(b) for b in bits)
    return DigitalOp(Op.MUL, Precision.integer(widest)), INT32_ADD


def _weight_read(bits: int | str | None) -> MemoryAccess:
    """One weight or coefficient read from SRAM at its stored width (fp32 if float; ternary packed in 2 bits)."""
    return MemoryAccess(Memory.SRAM, 32 if bits is None else 2 if bits == "ternary" else int(bits))


@dataclass(frozen=True)
class S4DHardwareConfig(Config):
    """Where and how an S4D model runs. ``tile``: a tile preset name, a YAML path, or a dict of tile fields
    (with an optional ``preset`` key naming the base preset); ``t``: read time after programming (s);
    ``prog_noise``: if set, the tile's device is the ``rram-hfo2-prog`` preset (HfO2 RRAM, 1-100 uS) with
    additive Gaussian programming noise of this fraction of G_max and no relaxation or read noise
    (docs/s4d.md#hardware-defaults, :func:`prog_noise_device`); a tile that names another device is refused;
    ``adc_calibration``: training sequences used to calibrate ADC ranges when the tile's ``adc.range`` is
    ``calibrated`` or ``per_column`` (docs/s4d.md#hardware-defaults: 99.9th percentile on calibration data);
    ``ssm_channels_per_tile``: cap on the channels packed block-diagonally into one tile (null: as many as fit);
    ``ssm_sim``: how the packed tiles are simulated: ``block`` (:class:`aimc_sim.crossbar.BlockDiagonalMatrix`,
    only the diagonal blocks are multiplied; off-block cells assumed unprogrammed at the zero-weight
    conductance, see ``docs/crossbar.md``), ``dense`` (the reference: one :class:`AnalogMatrix` per tile on the
    dense block-diagonal matrix, off-block cells programmed to zero with programming noise) or ``auto``
    (``block`` unless the tile config needs the dense path, ``blockdiag.unsupported_reason``: IR drop, offset
    mapping);
    ``ssm_adc_range``: ADC range of the recurrent SSM tiles (``recurrence: analog``): ``per_column`` (default,
    docs/s4d.md#hardware-defaults: each column's range calibrated to the 99.9th percentile of the state and output
    on the ``adc_calibration`` training sequences), ``calibrated`` (one range per tile) or ``tile`` (the tile config's
    own range, e.g. ``pcm-default``'s fixed +-12 full-scale rows, which quantises a 17-row state coarsely);
    ``ssm_replicas``: R copies of each channel's state on its recurrent block (docs/s4d.md#state-replicas,
    :func:`workloads.s4d.ssm.replica_index`): R^2 devices per Abar entry, R times the signal per column;
    ``ssm_tile``: tile fields that the recurrent SSM tiles alone override (nested dicts merge), e.g.
    ``{"mapping": {"variant": "symmetric"}}``: how the recurrence is mapped can differ from the dense layers."""

    tile: str | dict[str, Any] = "pcm-default"
    backend: str = field(default="analog", metadata=check(one_of("analog", "float")))
    recurrence: str = field(default="analog", metadata=check(one_of("analog", "digital")))
    t: float = field(default=0.0, metadata=check(nonnegative))
    cost_model: str = "22nm"
    prog_noise: float | None = field(
        default=None, metadata=check(lambda x: None if x is None else in_range(0.0, 1.0)(x))
    )
    adc_calibration: int = 32
    ssm_channels_per_tile: int | None = None
    ssm_sim: str = field(default="auto", metadata=check(one_of("auto", "block", "dense")))
    ssm_adc_range: str = field(default="per_column", metadata=check(one_of("per_column", "calibrated", "tile")))
    ssm_replicas: int = field(default=1, metadata=check(int_in(1, 8)))
    ssm_tile: dict[str, Any] = field(default_factory=dict)
    batch: int = 512

    def validate(self) -> None:
        k = self.ssm_channels_per_tile
        if k is not None and (not isinstance(k, int) or k < 1):
            raise ConfigError("ssm_channels_per_tile", f"must be null (pack tiles full) or an integer >= 1, got {k!r}")
        if not isinstance(self.batch, int) or self.batch < 1:
            raise ConfigError("batch", f"must be an integer >= 1, got {self.batch!r}")

    def block_sim(self, tile: Any) -> bool:
        """Whether the packed SSM tiles use the block-wise fast path for the resolved tile config."""
        from aimc_sim.crossbar.blockdiag import unsupported_reason

        bad = unsupported_reason(tile)
        if self.ssm_sim == "block" and bad is not None:
            raise ConfigError("hardware.ssm_sim", f"'block' is not available: {bad[0]}: {bad[1]}")
        return self.ssm_sim != "dense" and bad is None

    def tile_config(self) -> Any:
        """The resolved :class:`aimc_sim.crossbar.TileConfig`."""
        return self._resolve({})

    def ssm_tile_config(self) -> Any:
        """The tile config of the recurrent SSM tiles: ``ssm_tile`` over the tile, ``ssm_adc_range`` applied."""
        tile = self._resolve(self.ssm_tile)
        if self.ssm_adc_range == "tile" or tile.adc.bits is None:
            return tile
        return tile.replace(adc=tile.adc.replace(range=self.ssm_adc_range))

    def _resolve(self, extra: dict[str, Any]) -> Any:
        """The tile with ``extra`` tile fields on top (as ``__`` paths, so nested fields merge)."""
        fields = {"preset": self.tile} if isinstance(self.tile, str) else copy.deepcopy(self.tile)
        extra = _field_paths(extra)
        if self.prog_noise is None:
            return resolve_tile(fields, **extra)
        if fields.get("device", PROG_NOISE_PRESET) != PROG_NOISE_PRESET or "device_options" in fields:
            raise ConfigError(
                "hardware.prog_noise",
                f"selects the device preset {PROG_NOISE_PRESET!r}, but the tile names its own device "
                f"({fields.get('device')!r}); drop tile.device/device_options or prog_noise",
            )
        return resolve_tile(fields, **(prog_noise_device(self.prog_noise) | extra))


def _field_paths(fields: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tile fields as ``load_tile_config`` ``__`` paths, e.g. {"mapping": {"variant": v}} ->
    {"mapping__variant": v}; ``device_options`` stays one value."""
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if isinstance(v, dict) and k != "device_options":
            out |= _field_paths(v, f"{prefix}{k}__")
        else:
            out[prefix + k] = v
    return out


PROG_NOISE_PRESET = "rram-hfo2-prog"
"""The device preset that ``prog_noise`` selects (``device_models/presets/rram-hfo2-prog.yaml``)."""


def prog_noise_device(sigma_p: float) -> dict[str, Any]:
    """Tile fields for the ``rram-hfo2-prog`` preset (HfO2 1T1R, 1-100 uS, Li et al., Nat. Electron. 2018) with
    additive N(0, sigma_p * G_max) programming noise (docs/s4d.md#hardware-defaults) and read noise off (read noise is a
    separate sweep axis)."""
    from device_models import load_preset

    g_max = load_preset(PROG_NOISE_PRESET).g_max
    options = {"pv_sigma": [float(sigma_p) * g_max, 0.0]}
    return {"device": PROG_NOISE_PRESET, "device_options": options, "noise": {"programming": True, "read": False}}


def hardware_config(hardware: Any) -> S4DHardwareConfig:
    """Accept a config object, a dict of fields, or a YAML path."""
    return coerce_config(S4DHardwareConfig, hardware)


class HardwareS4D:
    """An :class:`S4DModel` bound to a hardware config; programmed lazily per seed in :meth:`evaluate`."""

    def __init__(self, model: S4DModel, hardware: Any):
        self.model = model
        self.hw = hardware_config(hardware)

    # ------------------------------------------------------------------ programming
    def program(self, rng: np.random.Generator, ledger: Ledger, x_cal: np.ndarray | None = None) -> _Programmed:
        """Program every matrix onto tiles (programming noise and faults are drawn here); calibrate the ADC
        ranges on the float activations of ``x_cal`` if the tile's ADC range is calibrated."""
        from aimc_sim.crossbar import AnalogMatrix

        tile = self.hw.tile_config()
        ssm_tile = self.hw.ssm_tile_config()
        block = self.hw.block_sim(ssm_tile)
        m = self.model
        mats: dict[str, Any] = {}

        def dense(name: str, W: np.ndarray) -> None:
            mats[name] = AnalogMatrix(tile, np.ascontiguousarray(W.T), rng, ledger=ledger)

        dense("encoder", m.encoder[0])
        groups: list[list[tuple[np.ndarray, Any]]] = []
        for i, lay in enumerate(m.layers):
            for name, W in mix_matrices(m.config, i, lay).items():
                dense(name, W)
            groups.append(program_ssm(self.hw, lay, ssm_tile, block, rng, ledger))
        dense("decoder", m.decoder[0])
        prog = _Programmed(mats, groups)
        calibrated = ("calibrated", "per_column")
        if tile.adc.range in calibrated or (any(groups) and ssm_tile.adc.range in calibrated):
            if x_cal is None:
                raise ConfigError(
                    "hardware.adc_calibration", "calibrated ADC ranges need calibration inputs (dataset.x_train)"
                )
            self._calibrate(prog, x_cal, tile.adc.range in calibrated)
        return prog

    def _calibrate(self, prog: _Programmed, x: np.ndarray, dense_too: bool) -> None:
        """Record the float inputs of every matrix on ``x`` and calibrate the ADC ranges of the SSM tiles (and of
        the dense matrices if ``dense_too``) on them."""
        m = self.model
        seen: dict[str, np.ndarray] = {}

        def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            seen[name] = a
            return (a @ W.T + b).astype(a.dtype)

        def ssm(i: int, u: np.ndarray) -> np.ndarray:
            calibrate_ssm(self.hw, m, i, prog.groups[i], u)
            return m.ssm_forward(i, u, "fused")

        m.run(x, ssm, linear)
        for name, a in seen.items():
            if dense_too:
                prog.mats[name].calibrate_adc(a, self.hw.t)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, dataset: SequenceDataset, n_test: int | None = None, seed: int = 0) -> Result:
        """Accuracy, energy and latency per inference on the first ``n_test`` test samples."""
        x, y = dataset.test_subset(n_test)
        if x.shape[1:] != dataset.x_train.shape[1:] or x.shape[2] != self.model.config.d_in:
            raise DataError("dataset.x_test", f"must have shape (n, L, {self.model.config.d_in}), got {x.shape}")
        x = self.model.check_input(x, "dataset.x_test")
        x_cal = dataset.x_train[: self.hw.adc_calibration]
        logits, ledger, prog = self.logits(x, seed, x_cal if len(x_cal) else None)
        return self._result(score(logits, y), len(x), x.shape[1], ledger, prog)

    def logits(
        self, x: np.ndarray, seed: int = 0, x_cal: np.ndarray | None = None
    ) -> tuple[np.ndarray, Ledger, _Programmed | None]:
        """Program with ``seed`` and run ``x``: (logits, per-run ledger without programming, programmed tiles)."""
        x = self.model.check_input(x)
        ledger = Ledger()
        if self.hw.backend == "float":
            self._count_float(ledger, x.shape[0], x.shape[1])
            return self.model.forward(x, "fused"), ledger, None
        prog = self.program(np.random.default_rng(seed), ledger, x_cal)
        at_programming = Ledger()
        at_programming.merge(ledger)
        logits = np.concatenate(
            [self._run(prog, x[j : j + self.hw.batch], ledger) for j in range(0, len(x), self.hw.batch)]
        )
        exclude_programming(ledger, at_programming)  # writes and calibration are not per inference
        return logits, ledger, prog

    def _run(self, prog: _Programmed, x: np.ndarray, ledger: Ledger) -> np.ndarray:
        m, t = self.model, self.hw.t

        def linear(name: str, a: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
            with ledger.scope(name.split(".ter_")[0]):
                out = prog.mats[name].mvm(a, t=t)
                np.add(out, b, out=out, casting="unsafe")  # as (out + b).astype(out.dtype), without the temporary
                ledger.add(INT32_ADD, out.size)
            return out.astype(np.float32, copy=False)

        def ssm(i: int, u: np.ndarray) -> np.ndarray:
            lay = m.layers[i]
            with ledger.scope(f"layers.{i}.ssm"):
                if self.hw.recurrence == "digital":
                    count_digital_ssm(ledger, m.config, lay, u.shape[0] * u.shape[1])
                    return m.ssm_forward(i, u, "fused")
                return run_ssm(self.hw, lay, prog.groups[i], u)

        logits = m.run(x, ssm, linear)
        self._count_digital_block(ledger, x.shape[0], x.shape[1])
        return logits

    # ------------------------------------------------------------------ digital op counts
    def _count_digital_block(self, ledger: Ledger, n: int, L: int) -> None:
        cfg = self.model.config
        for i in range(cfg.n_layers):
            with ledger.scope(f"layers.{i}"):
                count_digital_block(ledger, cfg, n * L)
        with ledger.scope("decoder"):
            ledger.add(FP32_ADD, n * L * cfg.d_model)  # mean-pool

    def _count_float(self, ledger: Ledger, n: int, L: int) -> None:
        m = self.model
        steps = n * L

        cfg = m.config

        def macs(count: float, bits: int | str | None) -> None:  # multiply + accumulate, weights read from SRAM
            mul, add = _datapath(bits)
            ledger.add(mul, count)
            ledger.add(add, count)
            ledger.add(_weight_read(bits), count)

        with ledger.scope("encoder"):
            macs(steps * np.count_nonzero(m.encoder[0]), cfg.bits("encoder"))
        for i, lay in enumerate(m.layers):
            with ledger.scope(f"layers.{i}.ssm"):
                count_digital_ssm(ledger, cfg, lay, steps)
            with ledger.scope(f"layers.{i}.mix"):
                for k, v in lay.mix.items():
                    if v.ndim == 2:
                        macs(steps * np.count_nonzero(v), "ternary" if k == "terW" else cfg.bits("mix"))
        with ledger.scope("decoder"):
            macs(n * np.count_nonzero(m.decoder[0]), cfg.bits("decoder"))
        self._count_digital_block(ledger, n, L)

    # ------------------------------------------------------------------ result
    def _result(self, acc: float, n: int, L: int, ledger: Ledger, prog: _Programmed | None) -> Result:
        from aimc_sim.cost.model import CostModel

        priced = CostModel.load(self.hw.cost_model).price(ledger)
        cx = self.model.complexity(self.hw.recurrence)
        n_tiles = prog.n_tiles() if prog else 0
        cx |= {"tiles": float(n_tiles), "energy_per_step_j": priced.energy_j / n / L}
        res = Result(
            accuracy=acc,
            n_samples=n,
            n_tiles=n_tiles,
            utilisation=prog.utilisation() if prog else math.nan,
            complexity=cx,
            extra={"backend": self.hw.backend, "recurrence": self.hw.recurrence, "seq_len": L, "t": self.hw.t},
        ).add_cost(priced, n)
        res.extra |= {f"events.{ev}": v / n for ev, v in _event_totals(ledger).items()}
        return res


def mix_matrices(cfg: Any, i: int, lay: Any) -> dict[str, np.ndarray]:
    """The mixing matrices of layer ``i`` by the name its ``linear`` calls use (out x in)."""
    if cfg.variant == "gsu":
        return {f"layers.{i}.mix.ter_x": lay.mix["W"], f"layers.{i}.mix.ter_w": lay.mix["terW"]}
    return {f"layers.{i}.mix": lay.mix["W"]}


def program_ssm(
    hw: S4DHardwareConfig, lay: Any, ssm_tile: Any, block: bool, rng: np.random.Generator, ledger: Ledger
) -> list[tuple[np.ndarray, Any]]:
    """The fused SSM matrices M_h of one layer packed block-diagonally, k channels per tile, as (channels,
    array) groups; none with ``recurrence: digital``."""
    from aimc_sim.crossbar import AnalogMatrix, BlockDiagonalMatrix, BlockView

    if hw.recurrence != "analog":
        return []
    groups = []
    M = replicate_fused(lay.M, hw.ssm_replicas)
    S = M.shape[1]
    k = max(1, min(ssm_tile.rows // S, ssm_tile.max_outputs // S))
    k = min(k, hw.ssm_channels_per_tile or k)
    kept = np.flatnonzero(lay.channel_mask)
    if block and len(kept):  # x @ M_h^T per channel: blocks (H_kept, S, S)
        Wb = np.swapaxes(M[kept], 1, 2)
        groups.append((kept, BlockDiagonalMatrix(ssm_tile, Wb, rng, ledger, per_tile=k)))
    for j in range(0, len(kept) if not block else 0, k):
        ch = kept[j : j + k]
        W = np.zeros((len(ch) * S, len(ch) * S))
        for q, h in enumerate(ch):
            W[q * S : (q + 1) * S, q * S : (q + 1) * S] = M[h].T
        groups.append((ch, BlockView(AnalogMatrix(ssm_tile, W, rng, ledger=ledger), len(ch))))
    return groups


def ssm_inputs(
    hw: S4DHardwareConfig, model: S4DModel, i: int, groups: list[tuple[np.ndarray, Any]], u: np.ndarray
) -> Iterator[tuple[Any, np.ndarray]]:
    """(array, its float inputs [x_{k-1}; u_k] of shape (n L, channels, S)) of each of layer ``i``'s SSM groups
    on u (n, L, H), the state repeated for ``hw.ssm_replicas``."""
    n, L, _ = u.shape
    xs = model.ssm_states(i, u)  # (n, L, H, S-1): the state before each step
    idx, _ = replica_index(xs.shape[-1] + 1, hw.ssm_replicas)
    for ch, mat in groups:
        v = np.concatenate([xs[:, :, ch], u[:, :, ch, None]], axis=-1)[..., idx]
        yield mat, v.reshape(n * L, len(ch), -1)


def calibrate_ssm(
    hw: S4DHardwareConfig, model: S4DModel, i: int, groups: list[tuple[np.ndarray, Any]], u: np.ndarray
) -> None:
    """Calibrate the ADC ranges of layer ``i``'s SSM arrays on the float states and inputs of u (n, L, H)."""
    for mat, v in ssm_inputs(hw, model, i, groups, u):
        if mat.config.adc.range in ("calibrated", "per_column"):
            mat.calibrate_adc(v, hw.t)


def run_ssm(hw: S4DHardwareConfig, lay: Any, groups: list[tuple[np.ndarray, Any]], u: np.ndarray) -> np.ndarray:
    """The SSM of one layer on its arrays: the state [x; u] -> [x'; y] is fed back through ADC -> DAC each step."""
    n_state = (lay.M.shape[1] - 1) * hw.ssm_replicas
    ut = np.ascontiguousarray(u.transpose(1, 0, 2))  # (L, n, H): steps first, as run_feedback takes them
    yt = np.zeros_like(ut)
    for ch, mat in groups:
        sel = _channel_run(ch)
        uc = ut[:, :, sel] if isinstance(sel, slice) else np.take(ut, sel, axis=2)
        yt[:, :, sel] = mat.run_feedback(uc[..., None], n_state, hw.t)[..., 0]
    return np.ascontiguousarray(yt.transpose(1, 0, 2))


def _channel_run(ch: np.ndarray) -> slice | np.ndarray:
    """Sorted channel indices as a slice when they are consecutive (views and block copies, where an index array
    makes numpy gather element by element along the last axis), else the indices."""
    if len(ch) and int(ch[-1]) - int(ch[0]) + 1 == len(ch):
        return slice(int(ch[0]), int(ch[-1]) + 1)
    return ch


def count_digital_ssm(ledger: Ledger, cfg: Any, lay: Any, n_steps: int) -> None:
    """Book one layer's SSM run in near-memory digital logic for ``n_steps`` (sample, step) pairs."""
    modes = int(lay.mode_mask[lay.channel_mask].sum())
    chans = int(lay.channel_mask.sum())
    bits = {"A": cfg.a_bits, "B": cfg.bits("B"), "C": cfg.bits("C"), "D": cfg.bits("D")}
    mul, add = _datapath(*bits.values())
    # complex Abar*x (4 mul + 2 add), Bbar*u (2 mul + 2 add), 2 Re(C x) (2 mul + 2 add) per mode; D*u per channel
    ledger.add(mul, n_steps * (8 * modes + chans))
    ledger.add(add, n_steps * (6 * modes + chans))
    for name, reads in (("A", 4 * modes), ("B", 2 * modes), ("C", 2 * modes), ("D", chans)):
        ledger.add(_weight_read(bits[name]), n_steps * reads)  # one coefficient read per multiply


def count_digital_block(ledger: Ledger, cfg: Any, steps: int) -> None:
    """Book one layer's digital work over ``steps`` (sample, step) pairs: activation (GELU / spike / ternarise),
    gate (sigmoid + product or Hadamard), residual, LayerNorm."""
    H = cfg.d_model
    n_nonlin = steps * H * (3 if cfg.variant != "binary" else 2)
    ledger.add(FP32_MUL, steps * H * 3 + NONLINEAR_OPS * n_nonlin)
    ledger.add(FP32_ADD, steps * H * 4 + NONLINEAR_OPS * n_nonlin)


def _event_totals(ledger: Ledger) -> dict[str, float]:
    out: dict[str, float] = {}
    for (_, ev), v in ledger.counts.items():
        out[ev] = out.get(ev, 0.0) + v
    return out


@dataclass
class _Programmed:
    mats: dict[str, Any]
    groups: list[list[tuple[np.ndarray, Any]]]

    def all(self) -> list[Any]:
        return list(self.mats.values()) + [m for g in self.groups for _, m in g]

    def n_tiles(self) -> int:
        return int(sum(m.n_tiles for m in self.all()))

    def utilisation(self) -> float:
        mats = self.all()
        tiles = np.array([m.n_tiles for m in mats], dtype=float)
        return float(np.sum(tiles * np.array([m.utilisation for m in mats])) / tiles.sum())
