"""Torch training twin (workloads/training/snn_train.py): F-3 delays, ATan surrogate, torch == numpy model."""

import numpy as np
import torch

from workloads.snn import surrogates
from workloads.training.snn_train import AxonalDelay, Net, SpikeATan


def test_f3_gaussian_delay_is_exact_shift_as_sigma_to_zero():
    """F-3: with integer positions and sigma -> 0 the DCLS kernel is an exact shift by d steps."""
    gen = torch.Generator().manual_seed(0)
    delay = AxonalDelay(4, 8, gen)
    with torch.no_grad():
        delay.pos.copy_(torch.tensor([0.0, 2.0, 5.0, 7.0]))
    delay.sigma = 0.05
    x = torch.randn(20, 3, 4, generator=gen)
    y = delay(x).detach().numpy()
    for j, d in enumerate([0, 2, 5, 7]):
        np.testing.assert_allclose(y[d:, :, j], x[: 20 - d, :, j].numpy(), atol=1e-6)
        np.testing.assert_allclose(y[:d, :, j], 0.0, atol=1e-6)


def test_f3_delay_position_gets_gradient_for_positive_sigma():
    gen = torch.Generator().manual_seed(1)
    delay = AxonalDelay(3, 6, gen)
    delay.sigma = 1.0
    x = torch.randn(15, 2, 3, generator=gen)
    loss = (delay(x) * torch.arange(15.0)[:, None, None]).sum()
    loss.backward()
    assert torch.all(delay.pos.grad.abs() > 0)


def test_atan_surrogate_matches_numpy_reference():
    x = torch.linspace(-1, 1, 41, requires_grad=True)
    SpikeATan.apply(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), surrogates.atan_grad(x.detach().numpy(), 2.0), rtol=1e-6)
    assert torch.equal(SpikeATan.apply(x.detach()), (x.detach() >= 0).float())


def test_torch_net_equals_exported_numpy_model():
    """With hard (rounded, sigma -> 0) delays the torch forward and the exported SNNModel give the same logits."""
    gen = torch.Generator().manual_seed(2)
    net = Net([6, 12, 4], 5, gen)
    with torch.no_grad():
        for d in net.delays:
            d.pos.copy_(torch.round(d.pos))
            d.sigma = 1e-3
        net.weights[0].mul_(3.0)
    net.eval()
    x = (torch.rand(30, 5, 6, generator=gen) < 0.4).float()
    with torch.no_grad():
        logits = net(x).double().numpy()
    model = net.to_snn()
    run = model.run(x.numpy().astype(float))
    assert run.spike_counts[0] > 0
    np.testing.assert_allclose(run.logits, logits, rtol=1e-4, atol=1e-4)
