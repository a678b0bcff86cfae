"""The analog SSM recurrence for training (aimc_sim.hwa.recurrence): the tiles of all channels programmed as one
group equal one AnalogMatrix per tile, the recurrence is statistically the numpy tile's feedback loop, and its
straight-through backward is the gradient of the linear recurrence."""

import math

import numpy as np
import pytest
import torch

from aimc_sim.crossbar import AnalogTile, load_tile_config
from aimc_sim.crossbar.mapping import build_layout, scale_weights
from aimc_sim.hwa import AnalogBlockRecurrence, HWAConfig
from aimc_sim.hwa.periphery import _largest, _upper_percentile
from aimc_sim.hwa.programming import program_group

torch.set_num_threads(1)

NOISE_OFF = {"noise__programming": False, "noise__read": False, "noise__out_noise": 0.0}


def _float_recurrence(M: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y (B, L, H) and the inputs v (B, L, H, S) of every step of the recurrence [x_k; y_k] = M_h [x_{k-1}; u_k]."""
    B, L, H = u.shape
    S = M.shape[1]
    x = np.zeros((B, H, S - 1))
    ys, vs = [], []
    for k in range(L):
        v = np.concatenate([x, u[:, k, :, None]], axis=-1)
        out = np.einsum("hij,bhj->bhi", M, v)
        x = out[..., : S - 1]
        ys.append(out[..., S - 1])
        vs.append(v)
    return np.stack(ys, 1), np.stack(vs, 1)


def _moments(samples: np.ndarray) -> tuple[float, float, float, float]:
    n = len(samples)
    m, v = samples.mean(), samples.var(ddof=1)
    m4 = np.mean((samples - m) ** 4)
    return m, math.sqrt(v / n), v, math.sqrt(max(m4 - v * v, 0.0) / n)


@pytest.mark.parametrize("q", [99.9, 99.0, 50.0, 100.0, 0.1])
def test_upper_percentile_is_numpy_percentile(q):
    vals = np.random.default_rng(0).random((3, 4, 777)).astype(np.float32)
    got = _upper_percentile(torch.tensor(vals), q).numpy()
    np.testing.assert_allclose(got, np.percentile(vals, q, axis=-1), rtol=1e-6)


@pytest.mark.parametrize("k", [1, 4, 16, 40])
@pytest.mark.parametrize("levels", [None, 50])
def test_largest_is_topk(k, levels):
    """The chunked selection (2048 = 64 chunks of 32; k = 40 takes the plain topk) gives torch.topk's values,
    also with many ties (values on 50 levels) and with the largest values crowded into one chunk."""
    vals = np.random.default_rng(k).random((3, 5, 2048))
    if levels:
        vals = np.round(vals * levels) / levels
    vals[0, 0, ::64] = 2.0 + np.arange(32)  # one chunk holds the 32 largest values of this row
    x = torch.tensor(vals, dtype=torch.float32)
    assert torch.equal(_largest(x, k), torch.topk(x, k, dim=-1).values)


@pytest.mark.parametrize("channels_per_tile", [1, 2])
@pytest.mark.parametrize("t", [0.0, 3600.0])
def test_group_programming_equals_one_matrix_per_tile(channels_per_tile, t):
    """Without random draws (no programming or read noise, no output noise) the group path gives the same
    conductances, calibrated ADC ranges, drift-compensation factors and effective weights as one AnalogMatrix
    per tile (the reference path), with the PCM drift and the 8-bit DAC / ADC of pcm-default."""
    rng = np.random.default_rng(5)
    H, S = 4, 5
    M = torch.tensor(0.4 * rng.standard_normal((H, S, S)), dtype=torch.float32)
    u = torch.tensor(rng.standard_normal((6, 9, H)), dtype=torch.float32)
    hwa = HWAConfig(tile="pcm-default", tile_overrides=NOISE_OFF, ssm_channels_per_tile=channels_per_tile)
    rec = AnalogBlockRecurrence(hwa, key=1)
    Mt = M.transpose(1, 2)
    rec._n_channels = H
    v_cal = rec._calibration_inputs(Mt, u)
    W = rec._tile_matrices(Mt.numpy().astype(np.float64))
    grp, eff_grp = rec._program_group(W, v_cal, t, u)
    ref, eff_ref = rec._program_tiles(W, v_cal, t, u)
    np.testing.assert_allclose(eff_grp, eff_ref, rtol=1e-5, atol=1e-7)
    for name in ("mats", "bounds"):
        for a, b in zip(getattr(grp, name), getattr(ref, name)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-7, err_msg=name)
    np.testing.assert_allclose(grp.col.numpy(), ref.col.numpy(), rtol=1e-5)
    if t > 0:  # the drift compensation did something
        assert not np.allclose(grp.col.numpy(), np.abs(W).max(axis=1), rtol=1e-3)


@pytest.mark.parametrize(
    "mapping",
    [{}, {"clip": "fixed", "clip_value": 0.8}, {"weight_scaling": "per_tensor"}, {"clip": "sigma", "clip_value": 1.0}],
)
def test_group_scales_each_tile_alone(mapping):
    """program_group scales every tile's matrix as scale_weights does for that tile alone (per-column scaling in one
    call over the tiles side by side, the rest tile by tile): the same column scales and device targets."""
    cfg = load_tile_config("pcm-default", **{f"mapping__{k}": v for k, v in mapping.items()})
    W = np.random.default_rng(2).standard_normal((5, 6, 4))
    W[1, :, 2] = 0.0  # an all-zero column: scale 1
    W[3] *= 10.0  # tiles of different ranges
    grp = program_group(cfg, W, np.random.default_rng(0))
    alone = [scale_weights(W[g], cfg.mapping) for g in range(len(W))]
    np.testing.assert_array_equal(grp.w_max, np.stack([w_max for _, w_max in alone]))
    targets = build_layout(np.concatenate([Wn for Wn, _ in alone]), cfg.mapping, grp.device.g_min, grp.device.g_max)
    np.testing.assert_array_equal(grp.layout.targets, targets.targets)


@pytest.mark.parametrize("t", [0.0, 86400.0])
def test_recurrence_is_statistically_the_numpy_feedback_loop(t):
    """Same blocks and inputs, independent programmings: the torch recurrence (one channel per tile, ADC ranges
    calibrated per column on the float states) against AnalogTile.calibrate_adc + AnalogTile.run_feedback per
    channel on pcm-default. Output projected on the float output and squared error to it: mean and variance
    within 3 standard errors."""
    rng = np.random.default_rng(11)
    H, S, B, L = 3, 5, 4, 8
    M = 0.45 * rng.standard_normal((H, S, S))
    u = rng.standard_normal((B, L, H))
    ideal, v = _float_recurrence(M, u)
    unit = ideal / np.linalg.norm(ideal)
    cfg = HWAConfig(tile="pcm-default").ssm_tile_config()
    n = 120
    y_np = np.empty((n, B, L, H))
    for i in range(n):
        for h in range(H):
            tile = AnalogTile(cfg, M[h].T, np.random.default_rng([3, i, h]))
            tile.calibrate_adc(v[:, :, h].reshape(B * L, S).astype(np.float32), t)
            y_np[i, :, :, h] = tile.run_feedback(u[:, :, h].T[..., None].astype(np.float32), S - 1, t)[..., 0].T
    rec = AnalogBlockRecurrence(HWAConfig(tile="pcm-default", t_range=(t, t), seed=4), key=0)
    Mt, ut = torch.tensor(M, dtype=torch.float32), torch.tensor(u, dtype=torch.float32)
    with torch.no_grad():
        y_t = np.stack([rec(Mt, ut).double().numpy() for _ in range(n)])
    for name, f in [
        ("projection", lambda y: (y * unit).sum(axis=(1, 2, 3))),
        ("squared error", lambda y: ((y - ideal) ** 2).mean(axis=(1, 2, 3))),
    ]:
        a, b = _moments(f(y_np)), _moments(f(y_t))
        assert abs(a[0] - b[0]) <= 3 * math.hypot(a[1], b[1]), f"{name} mean: numpy {a[:2]} torch {b[:2]}"
        assert abs(a[2] - b[2]) <= 3 * math.hypot(a[3], b[3]), f"{name} variance: numpy {a[2:]} torch {b[2:]}"


@pytest.mark.parametrize("channels_per_tile", [1, 2])
def test_backward_is_the_gradient_of_the_linear_recurrence(channels_per_tile):
    """On ideal tiles the forward pass is the float recurrence and the programmed matrices are M: the custom
    backward must equal autograd through the float recurrence, for M and u."""
    torch.manual_seed(2)
    H, S, B, L = 4, 5, 3, 7
    M = (0.4 * torch.randn(H, S, S, dtype=torch.float64)).requires_grad_(True)
    u = torch.randn(B, L, H, dtype=torch.float64, requires_grad=True)
    w = torch.randn(B, L, H, dtype=torch.float64)
    x = torch.zeros(B, H, S - 1, dtype=torch.float64)
    ys = []
    for k in range(L):
        out = torch.einsum("hij,bhj->bhi", M, torch.cat([x, u[:, k, :, None]], -1))
        x = out[..., : S - 1]
        ys.append(out[..., S - 1])
    ref_gM, ref_gu = torch.autograd.grad((torch.stack(ys, 1) * w).sum(), (M, u))
    rec = AnalogBlockRecurrence(HWAConfig(tile="ideal", ssm_channels_per_tile=channels_per_tile), key=0)
    gM, gu = torch.autograd.grad((rec(M, u) * w).sum(), (M, u))
    np.testing.assert_allclose(gM.numpy(), ref_gM.numpy(), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gu.numpy(), ref_gu.numpy(), rtol=1e-6, atol=1e-8)
