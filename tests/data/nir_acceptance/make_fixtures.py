"""Generate the NIR acceptance fixtures: networks exported by snnTorch, Norse and Sinabs, with each
exporter's own simulation on a fixed input. Documentation only; not run in CI (tests read the files).

Environments used (none of these packages is a project dependency):

    python -m venv /tmp/i14io-venv --system-site-packages     # torch 2.13.0 CPU, nir 1.0.8 from the system
    /tmp/i14io-venv/bin/pip install --no-deps snntorch==1.0.0 norse==1.1.0 "nirtorch<2"
    /tmp/i14io-venv/bin/python tests/data/nir_acceptance/make_fixtures.py snntorch norse

    python -m venv /tmp/nir104 --system-site-packages          # Sinabs 3.1 pins nir <= 1.0.4
    /tmp/nir104/bin/pip install --no-deps nir==1.0.4 sinabs==3.1.3 nirtorch==2.6 pbr
    /tmp/nir104/bin/python tests/data/nir_acceptance/make_fixtures.py sinabs

Each network ``NAME`` gives ``NAME.nir`` (written by the exporter's nir version) and ``NAME.npz`` with
``x`` (T, B, *input shape) and ``y`` (T, B, *output shape), the exporter's output of the graph's
Output node at every step, plus ``exporter`` and ``versions`` strings.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
T, B = 30, 4


def _save(name: str, graph, x: np.ndarray, y: np.ndarray, exporter: str) -> None:
    import nir

    nir.write(str(HERE / f"{name}.nir"), graph)
    version = getattr(nir, "__version__", "")
    np.savez_compressed(HERE / f"{name}.npz", x=x, y=y, exporter=exporter, versions=f"{exporter}; nir {version}")
    print(f"{name}: output spikes/values sum {y.sum():.3f}, shape {y.shape}")


def _boost(net: torch.nn.Module, factor: float) -> torch.nn.Module:
    """Scale every Linear / Conv weight so that the small random networks spike a fair amount."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                m.weight.mul_(factor)
    return net


def _vec(n, v):
    return torch.full(n if isinstance(n, tuple) else (n,), float(v))


# --------------------------------------------------------------------------- snnTorch
def snntorch_fixtures() -> None:
    import snntorch as snn
    from snntorch import utils
    from snntorch.export_nir import export_to_nir

    # snnTorch 1.0 + nir 1.0.8: scalar beta / threshold fail nir's own shape check inside export_to_nir,
    # so every layer gets per-neuron beta and threshold tensors.
    def leaky(shape, beta, **kw):
        return snn.Leaky(beta=_vec(shape, beta), threshold=_vec(shape, 1.0), init_hidden=True, **kw)

    def simulate(net, x):
        utils.reset(net)
        outs = []
        with torch.no_grad():
            for t in range(x.shape[0]):
                out = net(torch.as_tensor(x[t], dtype=torch.float32))
                outs.append((out[0] if isinstance(out, tuple) else out).numpy())
        return np.stack(outs).astype(np.float64)

    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    mlp = _boost(
        torch.nn.Sequential(
            torch.nn.Linear(12, 16), leaky(16, 0.8), torch.nn.Linear(16, 4), leaky(4, 0.9, output=True)
        ),
        4.0,
    )
    x = rng.normal(0.4, 1.0, (T, B, 12)).astype(np.float32)
    _save("snntorch_mlp", export_to_nir(mlp, torch.randn(1, 12), ignore_dims=[0]), x, simulate(mlp, x), "snntorch")

    syn = _boost(
        torch.nn.Sequential(
            torch.nn.Linear(12, 16),
            snn.Synaptic(alpha=_vec(16, 0.7), beta=_vec(16, 0.85), threshold=_vec(16, 1.0), init_hidden=True),
            torch.nn.Linear(16, 4),
            leaky(4, 0.9, output=True),
        ),
        2.0,
    )
    _save("snntorch_synaptic", export_to_nir(syn, torch.randn(1, 12), ignore_dims=[0]), x, simulate(syn, x), "snntorch")

    rec = snn.RLeaky(beta=_vec(10, 0.85), threshold=_vec(10, 1.0), linear_features=10, init_hidden=True)
    with torch.no_grad():
        rec.recurrent.weight.mul_(0.5)
        rec.recurrent.bias.copy_(torch.linspace(-0.2, 0.6, 10))  # a bias that visibly drives the layer
    rnet = torch.nn.Sequential(_boost(torch.nn.Linear(6, 10), 3.0), rec, _boost(torch.nn.Linear(10, 3), 4.0))
    rnet.append(leaky(3, 0.9, output=True))
    xr = rng.normal(0.2, 1.0, (T, B, 6)).astype(np.float32)
    _save(
        "snntorch_rleaky", export_to_nir(rnet, torch.randn(1, 6), ignore_dims=[0]), xr, simulate(rnet, xr), "snntorch"
    )

    conv = _boost(
        torch.nn.Sequential(
            torch.nn.Conv2d(1, 4, 3, padding=1),
            leaky((4, 8, 8), 0.8),
            torch.nn.AvgPool2d(2),
            torch.nn.Flatten(),
            torch.nn.Linear(4 * 4 * 4, 10),
            leaky(10, 0.9, output=True),
        ),
        4.0,
    )
    xc = rng.normal(0.5, 1.0, (T, B, 1, 8, 8)).astype(np.float32)
    graph = export_to_nir(conv, torch.randn(1, 1, 8, 8), ignore_dims=[0])
    _save("snntorch_conv", graph, xc, simulate(conv, xc), "snntorch")


# --------------------------------------------------------------------------- Norse
def norse_fixtures() -> None:
    import norse.torch as norse
    from norse.torch.utils.export_nir import to_nir

    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    p_lif = norse.LIFBoxParameters(tau_mem_inv=_vec(16, 200.0), v_th=_vec(16, 0.3), v_leak=_vec(16, 0.0))
    p_li = norse.LIBoxParameters(tau_mem_inv=_vec(4, 100.0), v_leak=_vec(4, 0.0))
    model = norse.SequentialState(
        _boost(torch.nn.Linear(12, 16), 3.0), norse.LIFBoxCell(p_lif), torch.nn.Linear(16, 4), norse.LIBoxCell(p_li)
    )
    x = rng.normal(0.5, 1.0, (T, B, 12)).astype(np.float32)
    outs, state = [], None
    with torch.no_grad():
        for t in range(T):
            out, state = model(torch.as_tensor(x[t]), state)
            outs.append(out.numpy())
    _save("norse_lifbox", to_nir(model, torch.randn(12)), x, np.stack(outs).astype(np.float64), "norse")


# --------------------------------------------------------------------------- Sinabs
def sinabs_fixtures() -> None:
    import sinabs
    import sinabs.layers as sl
    from sinabs.activation import MembraneSubtract, SingleSpike

    torch.manual_seed(2)
    rng = np.random.default_rng(2)
    model = _boost(
        torch.nn.Sequential(
            torch.nn.Linear(12, 16),
            sl.LIF(tau_mem=torch.tensor(8.0), spike_fn=SingleSpike, reset_fn=MembraneSubtract(), norm_input=True),
            torch.nn.Linear(16, 8),
            sl.IAF(spike_fn=SingleSpike, reset_fn=MembraneSubtract()),
            torch.nn.Linear(8, 4),
            sl.ExpLeak(tau_mem=torch.tensor(5.0), norm_input=True),
        ),
        3.0,
    )
    x = rng.normal(0.5, 1.0, (T, B, 12)).astype(np.float32)
    with torch.no_grad():
        y = model(torch.as_tensor(x).transpose(0, 1)).transpose(0, 1).numpy()  # sinabs is batch-major
    graph = sinabs.to_nir(model, torch.randn(1, 1, 12))  # (batch, time, features): Input shape (1, 12)
    _save("sinabs_lif_iaf", graph, x, y.astype(np.float64), f"sinabs {sinabs.__version__}")


if __name__ == "__main__":
    makers = {"snntorch": snntorch_fixtures, "norse": norse_fixtures, "sinabs": sinabs_fixtures}
    for which in sys.argv[1:] or list(makers):
        makers[which]()
