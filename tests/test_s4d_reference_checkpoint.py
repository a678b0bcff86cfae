"""S4D checkpoints of the state-spaces reference code (``models/s4/s4d.py`` + ``S4Model`` of ``example.py``)
load through the key map of :mod:`workloads.s4d.checkpoint` as ``.pt`` and ``.safetensors``.

The torch module below is written here from the reference's conventions (ZOH, ``C`` stored as
``view_as_real`` of a complex (H, N/2) tensor, ``K = 2 Re(sum C (exp(dt A) - 1)/A exp(dt A l))``, FFT
convolution, ``D`` skip, GELU, kernel-1 Conv1d + GLU, residual, post-LayerNorm, mean pool) with random weights.
"""

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from aimc_sim.errors import DataError
from workloads.s4d.model import S4DModel


class RefKernel(nn.Module):
    def __init__(self, h, n, g):
        super().__init__()
        self.log_dt = nn.Parameter(torch.rand(h, generator=g) * (math.log(0.1) - math.log(1e-3)) + math.log(1e-3))
        self.C = nn.Parameter(torch.view_as_real(torch.randn(h, n // 2, dtype=torch.cfloat, generator=g)))
        self.log_A_real = nn.Parameter(
            torch.log(0.5 * torch.ones(h, n // 2)) + 0.3 * torch.randn(h, n // 2, generator=g)
        )
        self.register_buffer("A_imag", math.pi * torch.arange(n // 2).repeat(h, 1).float())

    def forward(self, length):
        dt = torch.exp(self.log_dt)
        c = torch.view_as_complex(self.C)
        a = -torch.exp(self.log_A_real) + 1j * self.A_imag
        dta = a * dt[:, None]
        c = c * (torch.exp(dta) - 1.0) / a
        return 2 * torch.einsum("hn,hnl->hl", c, torch.exp(dta[..., None] * torch.arange(length))).real


class RefS4D(nn.Module):
    def __init__(self, h, n, g):
        super().__init__()
        self.D = nn.Parameter(torch.randn(h, generator=g))
        self.kernel = RefKernel(h, n, g)
        self.activation = nn.GELU()
        self.output_linear = nn.Sequential(nn.Conv1d(h, 2 * h, kernel_size=1), nn.GLU(dim=-2))

    def forward(self, u):  # (B, H, L)
        length = u.size(-1)
        k = self.kernel(length)
        y = torch.fft.irfft(torch.fft.rfft(u, n=2 * length) * torch.fft.rfft(k, n=2 * length), n=2 * length)
        y = y[..., :length] + u * self.D[:, None]
        return self.output_linear(self.activation(y))


class RefS4Model(nn.Module):
    def __init__(self, d_input, d_output, d_model, n_layers, d_state, g):
        super().__init__()
        self.encoder = nn.Linear(d_input, d_model)
        self.s4_layers = nn.ModuleList([RefS4D(d_model, d_state, g) for _ in range(n_layers)])
        self.norms = nn.ModuleList([nn.LayerNorm(d_model) for _ in range(n_layers)])
        self.decoder = nn.Linear(d_model, d_output)
        with torch.no_grad():  # non-trivial norms
            for norm in self.norms:
                norm.weight.add_(0.2 * torch.randn(d_model, generator=g))
                norm.bias.add_(0.1 * torch.randn(d_model, generator=g))

    def forward(self, x):  # (B, L, d_input)
        x = self.encoder(x).transpose(-1, -2)
        for layer, norm in zip(self.s4_layers, self.norms):
            x = norm((layer(x) + x).transpose(-1, -2)).transpose(-1, -2)
        return self.decoder(x.transpose(-1, -2).mean(dim=1))


@pytest.fixture(scope="module")
def reference():
    torch.manual_seed(0)  # nn.Linear / nn.Conv1d initialisation draws from the global generator
    g = torch.Generator().manual_seed(0)
    model = RefS4Model(d_input=3, d_output=5, d_model=16, n_layers=2, d_state=8, g=g).eval()
    x = torch.randn(6, 40, 3, generator=g)
    with torch.no_grad():
        return model, x, model(x).numpy(), model.double()(x.double()).numpy()


def _save(model, path, kind):
    sd = {k: v.float() for k, v in model.state_dict().items()}
    if kind == "pt":
        torch.save(sd, path)
    elif kind == "pt_lightning":
        torch.save({"state_dict": {f"model.{k}": v for k, v in sd.items()}, "epoch": 3}, path)
    else:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in sd.items()}, str(path))


@pytest.mark.parametrize(("kind", "suffix"), [("pt", ".pt"), ("pt_lightning", ".pt"), ("st", ".safetensors")])
def test_reference_checkpoint_matches_torch(tmp_path, reference, kind, suffix):
    model, x, ref32, ref64 = reference
    path = tmp_path / f"ref{suffix}"
    _save(model.float(), path, kind)
    ours = S4DModel.load(path)
    cfg = ours.config
    assert (cfg.d_in, cfg.d_model, cfg.d_state, cfg.n_layers, cfg.n_classes) == (3, 16, 8, 2, 5)
    got32 = ours.forward(x.numpy())
    assert got32.dtype == np.float32
    assert np.max(np.abs(got32 - ref32)) <= 1e-5 * np.max(np.abs(ref32))
    got64 = ours.forward(x.double().numpy())  # float64 input stays float64
    assert got64.dtype == np.float64
    assert np.max(np.abs(got64 - ref64)) <= 1e-6 * np.max(np.abs(ref64))


def test_bf16_reference_checkpoint_loads(tmp_path, reference):
    from safetensors.torch import save_file

    model = reference[0].float()
    sd = {k: v.to(torch.bfloat16).contiguous() for k, v in model.state_dict().items()}
    save_file(sd, str(tmp_path / "bf16.safetensors"))
    ours = S4DModel.load(tmp_path / "bf16.safetensors")
    np.testing.assert_array_equal(ours.weights["encoder.weight"], sd["encoder.weight"].float().numpy())


def test_reference_key_errors_named(tmp_path, reference):
    sd = {k: v.float() for k, v in reference[0].state_dict().items()}
    torch.save(sd | {"s4_layers.0.extra": torch.ones(1)}, tmp_path / "a.pt")
    with pytest.raises(DataError, match=r"a\.pt:s4_layers\.0\.extra: not a key of the reference S4Model"):
        S4DModel.load(tmp_path / "a.pt")
    del sd["s4_layers.1.kernel.C"]
    torch.save(sd, tmp_path / "b.pt")
    with pytest.raises(DataError, match=r"layers\.1\.ssm\.C: tensor missing"):
        S4DModel.load(tmp_path / "b.pt")


REAL = Path(__file__).parent / "data" / "s4d_reference"


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_checkpoint_written_by_the_reference_code(suffix):
    """A checkpoint trained and saved by the state-spaces code itself (make_fixture.py there) matches its logits."""
    d = np.load(REAL / "s4d_reference.npz")
    ours = S4DModel.load(REAL / f"s4d_reference{suffix}")
    got32 = ours.forward(d["x"])
    assert np.max(np.abs(got32 - d["logits32"])) <= 1e-5 * np.max(np.abs(d["logits32"]))
    got64 = ours.forward(d["x"].astype(np.float64))
    assert np.max(np.abs(got64 - d["logits64"])) <= 1e-6 * np.max(np.abs(d["logits64"]))
    assert np.mean(got32.argmax(1) == d["y"]) == np.mean(d["logits32"].argmax(1) == d["y"])
