"""Hardware-aware training: the S4D and SNN hooks of convert_to_analog, and the ``aimc train`` command."""

import numpy as np
import pytest
import torch

from aimc_sim.cli import main
from aimc_sim.hwa import HWAConfig, convert_to_analog, set_analog
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.training.s4d_torch import TorchS4D
from workloads.training.snn_train import Net

torch.set_num_threads(1)


@pytest.mark.parametrize("variant", ["s4d", "gsu"])
def test_s4d_on_ideal_tiles_equals_the_numpy_model(rng, variant):
    """Every product (and the step-by-step recurrence) on ideal tiles reproduces the float model exactly."""
    cfg = S4DConfig(d_in=2, n_classes=3, d_model=4, d_state=4, n_layers=2, variant=variant)
    net = TorchS4D(cfg, rng).eval()
    convert_to_analog(net, HWAConfig(tile="ideal", ssm_channels_per_tile=3))
    assert len(net.cores) == (6 if variant == "gsu" else 4) and len(net.recurrences) == 2
    x = rng.random((3, 10, 2)).astype(np.float32)
    with torch.no_grad():
        lt = net(torch.tensor(x)).numpy()
    np.testing.assert_allclose(lt, S4DModel(cfg, net.state_numpy()).forward(x, "fft"), rtol=1e-4, atol=1e-4)


def test_s4d_on_pcm_is_noisy_and_trains(rng):
    cfg = S4DConfig(d_in=1, n_classes=2, d_model=3, d_state=4, n_layers=1)
    net = TorchS4D(cfg, rng)
    x = torch.tensor(rng.random((4, 12, 1)), dtype=torch.float32)
    with torch.no_grad():
        ref = net(x)
    convert_to_analog(net, HWAConfig(tile="pcm-default", t_range=(0.0, 86400.0)))
    out = net(x)
    assert not torch.allclose(out, ref, atol=1e-4)
    out.sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    set_analog(net, False)
    with torch.no_grad():
        np.testing.assert_allclose(net(x).numpy(), ref.numpy(), rtol=1e-6)


def test_snn_products_on_tiles():
    gen = torch.Generator().manual_seed(0)
    net = Net([6, 8, 3], 3, gen)
    x = (torch.rand(10, 4, 6, generator=gen) < 0.5).float()
    with torch.no_grad():
        ref = net(x)
    convert_to_analog(net, HWAConfig(tile="ideal"))
    with torch.no_grad():
        np.testing.assert_allclose(net(x).numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)
    convert_to_analog(net, "pcm-default")
    net(x).sum().backward()
    assert net.weights[0].grad.abs().sum() > 0


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--tile", "no-such"], "hwa.tile: unknown tile preset 'no-such'"),
        (["--t", "-1", "10"], "hwa.t_range[0]: must be a finite read time >= 0 s"),
        (["--t", "0", "nan"], "hwa.t_range[1]: must be a finite read time >= 0 s"),
    ],
)
def test_aimc_train_bad_input(tmp_path, capsys, argv, message):
    assert main(["train", "s4d", "-o", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_aimc_train_s4d_writes_a_checkpoint(tmp_path):
    args = "--classes 3,8 --d-model 4 --d-state 4 --n-layers 1 --batch 128"
    rc = main(["train", "s4d", "-o", str(tmp_path), "--epochs", "1", "--t", "0", "3600", "--trainer-args", args])
    assert rc == 0
    model = S4DModel.load(tmp_path / "s4d_hwa.safetensors")
    assert "--hwa-tile pcm-default" in model.metadata["training"]["command"]
