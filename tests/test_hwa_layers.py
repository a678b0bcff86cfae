"""Torch analog layers (aimc_sim.hwa): statistically the numpy tile, exact when ideal, STE gradients, bad input."""

import math

import numpy as np
import pytest
import torch

from aimc_sim.crossbar import AnalogMatrix, AnalogTile, load_tile_config
from aimc_sim.errors import ConfigError
from aimc_sim.hwa import (
    AnalogBlockRecurrence,
    AnalogConv1d,
    AnalogConv2d,
    AnalogLinear,
    HWAConfig,
    convert_to_analog,
    set_analog,
)

torch.set_num_threads(1)


def _moments(samples: np.ndarray) -> tuple[float, float, float, float]:
    """Mean and variance of a scalar sample with their standard errors (variance s.e. from the 4th moment)."""
    n = len(samples)
    m, v = samples.mean(), samples.var(ddof=1)
    m4 = np.mean((samples - m) ** 4)
    return m, math.sqrt(v / n), v, math.sqrt(max(m4 - v * v, 0.0) / n)


# rram-default programs with iterative write-verify, ~60 ms per programming in python loops; the statistical
# program-and-verify of the same device (aihwkit ReRamCMONoiseModel) keeps this test to seconds. Programming is
# the device model's own code on both sides either way: what is compared is everything after it.
RRAM_FAST = {"device_options": {"verify": "statistical"}}


@pytest.mark.parametrize("preset, overrides", [("pcm-default", {}), ("rram-default", RRAM_FAST)])
@pytest.mark.parametrize("t", [0.0, 3600.0, 86400.0])
def test_torch_layer_is_statistically_the_numpy_tile(preset, overrides, t):
    """Same weights, same inputs, independent programmings: output mean and variance within 3 standard errors.

    Each programming multiplies x twice in one batch. Scalars compared (each over n programmings): the output
    projected on the ideal output x @ W (sensitive to drift and its compensation), the mean over outputs of the
    squared deviation from the ideal output (every noise source: programming, drift spread, read noise, output
    noise, DAC/ADC), and the mean squared difference of the two reads of x (the per-MVM noise alone)."""
    rng = np.random.default_rng(7)
    W = rng.standard_normal((24, 8))
    x = rng.standard_normal((2, 24))
    ideal = x @ W
    u = ideal / np.linalg.norm(ideal)
    n = 120
    cfg = load_tile_config(preset, **overrides)
    xx = np.vstack([x, x])
    y_np = np.stack([AnalogTile(cfg, W, np.random.default_rng([1, i])).mvm(xx, t) for i in range(n)])
    layer = AnalogLinear(24, 8, False, HWAConfig(tile=preset, tile_overrides=overrides, t_range=(t, t), seed=2))
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W.T))
        y_t = np.stack([layer(torch.tensor(xx, dtype=torch.float32)).double().numpy() for _ in range(n)])
    for name, f in [
        ("projection", lambda y: (y[:, :2] * u).sum(axis=(1, 2))),
        ("squared error", lambda y: ((y[:, :2] - ideal) ** 2).mean(axis=(1, 2))),
        ("repeat difference", lambda y: ((y[:, :2] - y[:, 2:]) ** 2).mean(axis=(1, 2))),
    ]:
        a, b = _moments(f(y_np)), _moments(f(y_t))
        assert abs(a[0] - b[0]) <= 3 * math.hypot(a[1], b[1]), f"{name} mean: numpy {a[:2]} torch {b[:2]}"
        assert abs(a[2] - b[2]) <= 3 * math.hypot(a[3], b[3]), f"{name} variance: numpy {a[2:]} torch {b[2:]}"


def test_programming_is_the_numpy_matrix_with_the_same_seed():
    """The torch layer programs through AnalogMatrix: same seed -> the same programmed, drifted, compensated
    weights as the numpy object (exact), so only the periphery is re-implemented in torch."""
    rng = np.random.default_rng(3)
    W = rng.standard_normal((30, 5))
    layer = AnalogLinear(30, 5, False, HWAConfig(tile="pcm-default", t_range=(3600.0, 3600.0), seed=4), key=9)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W.T))
    w = layer.weight
    x = torch.tensor(rng.standard_normal((4, 30)), dtype=torch.float32, requires_grad=True)
    layer(x).sum().backward()
    prog_seq = np.random.SeedSequence([4, 9]).spawn(2)[0]  # AnalogCore's programming stream for seed 4, key 9
    mat = AnalogMatrix(load_tile_config("pcm-default"), W, np.random.default_rng(prog_seq))
    tile = mat.tiles[(0, 0)]
    W_prog = tile.weights_at(3600.0) * tile.drift_alpha(3600.0)[None, :]
    # straight-through: d sum(y) / dx = W_prog summed over outputs; d sum(y) / dW = sum of x over the batch
    np.testing.assert_allclose(x.grad.numpy()[0], W_prog.sum(axis=1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(w.grad.numpy(), np.tile(x.detach().numpy().sum(0), (5, 1)), rtol=1e-5)


def test_ideal_tile_layers_equal_float_layers():
    torch.manual_seed(0)
    hwa = HWAConfig(tile="ideal")
    lin = torch.nn.Linear(7, 5)
    c1 = torch.nn.Conv1d(3, 4, 3, stride=2, padding=1, dilation=1)
    c2 = torch.nn.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0), dilation=(2, 1))
    x1, x2 = torch.randn(2, 3, 11), torch.randn(2, 2, 9, 8)
    xl = torch.randn(2, 6, 7)
    pairs = [
        (lin, AnalogLinear.from_float(lin, hwa), xl),
        (c1, AnalogConv1d.from_float(c1, hwa), x1),
        (c2, AnalogConv2d.from_float(c2, hwa), x2),
    ]
    for float_layer, analog_layer, x in pairs:
        with torch.no_grad():
            np.testing.assert_allclose(analog_layer(x).numpy(), float_layer(x).numpy(), rtol=1e-5, atol=1e-5)


def test_block_recurrence_ideal_equals_float_and_pcm_is_noisy():
    torch.manual_seed(1)
    H, S, B, L = 5, 5, 3, 12
    M = 0.3 * torch.randn(H, S, S)
    u = torch.randn(B, L, H)
    x = torch.zeros(B, H, S - 1)
    ys = []
    for k in range(L):
        out = torch.einsum("hij,bhj->bhi", M, torch.cat([x, u[:, k, :, None]], -1))
        x, y = out[..., : S - 1], out[..., S - 1]
        ys.append(y)
    ref = torch.stack(ys, 1)
    for k in (1, 2):
        rec = AnalogBlockRecurrence(HWAConfig(tile="ideal", ssm_channels_per_tile=k), key=0)
        np.testing.assert_allclose(rec(M, u).numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)
    Mg = M.clone().requires_grad_(True)
    y = AnalogBlockRecurrence(HWAConfig(tile="pcm-default", t_range=(0.0, 86400.0)), key=0)(Mg, u)
    err = (y - ref).abs().mean().item()
    assert 1e-3 < err < 0.5 * ref.abs().mean().item()
    y.sum().backward()
    assert torch.isfinite(Mg.grad).all() and Mg.grad.abs().sum() > 0


def test_convert_to_analog_swaps_layers_and_names_unmapped_ones():
    net = torch.nn.Sequential(
        torch.nn.Conv1d(2, 4, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.LayerNorm(24), torch.nn.Linear(24, 3)
    )
    x = torch.randn(5, 2, 8)
    convert_to_analog(net, {"tile": "pcm-default", "t_range": [0.0, 3600.0]})
    assert isinstance(net[0], AnalogConv1d) and isinstance(net[4], AnalogLinear)
    assert net(x).shape == (5, 3)
    set_analog(net, False)
    assert not net[4].analog
    with pytest.raises(ConfigError, match=r"^1\.lstm: .*LSTM.*no analog mapping"):
        convert_to_analog(torch.nn.Sequential(torch.nn.Linear(3, 3), _WithLSTM()))
    kept = convert_to_analog(torch.nn.Sequential(torch.nn.Linear(3, 3), _WithLSTM()), digital=["1.lstm"])
    assert isinstance(kept[0], AnalogLinear)


class _WithLSTM(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = torch.nn.LSTM(3, 3)


@pytest.mark.parametrize(
    "fields, path",
    [
        ({"tile": "no-such-tile"}, "tile"),
        ({"t_range": [-1.0, 10.0]}, "t_range[0]"),
        ({"t_range": [0.0, float("nan")]}, "t_range[1]"),
        ({"t_range": [10.0, 1.0]}, "t_range"),
    ],
)
def test_bad_hwa_config_names_the_field(fields, path):
    with pytest.raises(ConfigError) as e:
        HWAConfig.from_dict(fields, "hwa")
    assert e.value.path == f"hwa.{path}"


def test_unsupported_tile_option_is_refused():
    hwa = HWAConfig(tile="pcm-default", tile_overrides={"adc__cap_mismatch": 0.01})
    layer = AnalogLinear(4, 2, True, hwa)
    with pytest.raises(ConfigError, match="cap_mismatch"):
        layer(torch.randn(3, 4))
