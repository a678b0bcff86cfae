"""The torch training twin equals the numpy inference model (so shipped checkpoints mean what they say)."""

from pathlib import Path

import numpy as np
import pytest
import torch

from aimc_sim.errors import ConfigError
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.s4d.quant import quantise
from workloads.s4d.ssm import discretise
from workloads.training.s4d_torch import Spike, TorchS4D, add_noise, fake_quant, quant_forward


@pytest.mark.parametrize(
    "kw",
    [
        {"variant": "s4d"},
        {"variant": "s4d", "w_bits": 4, "a_bits": 8},
        {"variant": "s4d", "w_bits": "ternary"},
        {"variant": "binary", "init": "inv", "discretisation": "bilinear"},
        {"variant": "gsu", "residual": False},
    ],
)
def test_torch_forward_equals_numpy(rng, kw):
    cfg = S4DConfig(d_in=2, n_classes=3, d_model=6, d_state=8, n_layers=2, **kw)
    net = TorchS4D(cfg, rng).eval()
    x = rng.random((4, 16, 2)).astype(np.float32)
    with torch.no_grad():
        lt = net(torch.tensor(x)).numpy()
    ln = S4DModel(cfg, net.state_numpy()).forward(x, "fft")
    tol = 1e-3 if kw["variant"] == "binary" else 2e-4  # float32 vs float64; spikes may flip at |y| ~ 1e-6
    assert np.mean(np.abs(lt - ln) < tol) >= (0.9 if kw["variant"] == "binary" else 1.0)


@pytest.mark.parametrize("bits", [8, 4, 2, "ternary"])
def test_quantiser_twins_agree(rng, bits):
    w = rng.standard_normal((5, 7))
    np.testing.assert_allclose(quant_forward(torch.tensor(w), bits, 0).numpy(), quantise(w, bits, 0), atol=1e-12)


def test_ste_and_noise_gradients():
    w = torch.tensor([[0.3, -1.0, 0.05]], requires_grad=True)
    fake_quant(w, 2, 0).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 1.0, 1.0]])  # straight-through
    w.grad = None
    torch.manual_seed(0)
    noisy = add_noise(w, 0.1)
    noisy.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0, 1.0, 1.0]])  # noise carries no gradient
    assert not torch.equal(noisy, w)


def test_arctan_surrogate_derivative():
    x = torch.tensor([0.0, 0.5, -2.0], requires_grad=True)
    s = Spike.apply(x, "arctan")
    np.testing.assert_array_equal(s.detach().numpy(), [0.0, 1.0, 0.0])  # strict x > 0
    s.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 1 / (1 + (np.pi * x.detach().numpy()) ** 2), rtol=1e-6)


def test_pole_bound_holds_and_is_exported(rng):
    """``abar_max`` bounds every ZOH pole, and the exported log_A_real realises the bounded poles in numpy."""
    cfg = S4DConfig(d_in=1, n_classes=3, d_model=6, d_state=8, n_layers=2)
    net = TorchS4D(cfg, rng, abar_max=0.8).eval()
    x = rng.random((3, 16, 1)).astype(np.float32)
    with torch.no_grad():
        lt = net(torch.tensor(x)).numpy()
    model = S4DModel(cfg, net.state_numpy())
    for i in range(2):
        w = model.weights
        dA, _ = discretise(w[f"layers.{i}.ssm.log_dt"], w[f"layers.{i}.ssm.log_A_real"], w[f"layers.{i}.ssm.A_imag"])
        assert np.abs(dA).max() <= 0.8 + 1e-6 and np.abs(dA).max() > 0.79  # S4D-Lin starts above 0.95: bound active
    np.testing.assert_allclose(lt, model.forward(x, "fft"), atol=2e-4)
    with pytest.raises(ConfigError, match="abar_max"):
        TorchS4D(cfg, rng, abar_max=1.2)


@pytest.mark.parametrize("replicas", [2, 3])
def test_state_replicas_on_ideal_tiles_equal_the_numpy_model(rng, replicas):
    """The recurrence with R state replicas (docs/s4d.md#state-replicas) on ideal tiles: torch (HWA forward) and
    numpy hardware both reproduce the float model."""
    from aimc_sim.hwa import HWAConfig, convert_to_analog

    cfg = S4DConfig(d_in=1, n_classes=3, d_model=4, d_state=4, n_layers=2)
    net = TorchS4D(cfg, rng).eval()
    convert_to_analog(net, HWAConfig(tile="ideal"))
    net.ssm_replicas = replicas
    x = rng.random((3, 10, 1)).astype(np.float32)
    with torch.no_grad():
        lt = net(torch.tensor(x)).numpy()
    model = S4DModel(cfg, net.state_numpy())
    ref = model.forward(x, "fft")
    np.testing.assert_allclose(lt, ref, rtol=1e-4, atol=1e-4)
    hw, _, prog = model.on({"tile": "ideal", "ssm_replicas": replicas}).logits(x)
    np.testing.assert_allclose(hw, ref, rtol=1e-4, atol=2e-4)
    assert prog.groups[0][0][1].n_in == replicas * 4 + 1  # blocks of R (2P) + 1 rows, 2P = d_state = 4


def test_hwa_hardware_yaml_sets_the_training_chip(tmp_path):
    """--hwa-hardware: the shipped chip YAML gives the tile, its overrides and the recurrence mapping of training;
    hardware fields that training does not model are refused naming the option."""
    from workloads.s4d.hardware import hardware_config
    from workloads.training.s4d_train import hwa_config, parse_args

    path = str(Path(__file__).resolve().parent.parent / "workloads/models/s4d_digits_hwa_pcm.hardware.yaml")
    hwa = hwa_config(parse_args(["--out", "x.safetensors", "--hwa-hardware", path]))
    tile = hwa.ssm_tile_config()
    assert (hwa.tile, hwa.ssm_recurrence, hwa.ssm_channels_per_tile) == ("pcm-default", "analog", 1)
    assert tile.drift_compensation.readout_statistic == "signed_mean" and tile.adc.range == "per_column"
    assert hardware_config(path).ssm_replicas == 3
    bad = tmp_path / "bad.yaml"
    bad.write_text("tile: pcm-default\nssm_tile: {noise: {read: false}}\n")
    with pytest.raises(ConfigError, match="hwa_hardware"):
        hwa_config(parse_args(["--out", "x.safetensors", "--hwa-hardware", str(bad)]))


def test_chip_readout_trains_through_the_tile_code(rng):
    """The drift readout options of the chip YAML are the tile code's: the training recurrence programs such tiles
    through the reference path, so training reads the same alpha as the numpy evaluation."""
    from aimc_sim.crossbar import load_tile_config
    from aimc_sim.hwa import HWAConfig, convert_to_analog
    from aimc_sim.hwa.programming import group_unsupported

    readout = {"readout_range": "full_scale", "readout_statistic": "signed_mean"}
    chip = load_tile_config("pcm-default", drift_compensation=readout)
    assert group_unsupported(load_tile_config("pcm-default")) is None
    assert group_unsupported(chip)[0] == "tile.drift_compensation"
    cfg = S4DConfig(d_in=1, n_classes=3, d_model=4, d_state=4, n_layers=1)
    net = TorchS4D(cfg, rng).eval()
    hwa = HWAConfig(tile_overrides={"drift_compensation": readout}, t_range=(3600.0, 3600.0))
    convert_to_analog(net, hwa)
    net.ssm_replicas = 3
    with torch.no_grad():
        out = net(torch.tensor(rng.random((2, 10, 1)), dtype=torch.float32))
    assert out.shape == (2, 3) and torch.isfinite(out).all()
