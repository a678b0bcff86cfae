"""e-prop: a three-factor rule with per-synapse eligibility traces and a broadcast learning signal.

Bellec et al., "A solution to the learning dilemma for recurrent networks of spiking neurons",
Nat. Commun. 11, 3625 (2020). Discrete time, a layer of LIF or AdLIF (adaptive-threshold)
neurons fed by inputs x_t, and a linear readout y_t = W_out·z_t with a softmax cross-entropy loss
at every step:

    v_t = α·v_(t−1) + W_in·x_t − thr·sg(z_(t−1))      (reset, gradient stopped: ``sg``)
    a_t = ρ·a_(t−1) + z_(t−1),   A_t = thr + β·a_t      (β = 0: LIF)
    z_t = H(v_t − A_t),   pseudo-derivative ψ_t = (γ/thr)·max(0, 1 − |v_t − A_t|/thr)

Eligibility (per synapse ij): ε^v_j,t = α·ε^v_j,(t−1) + x_j,t;
ε^a_ij,t = ψ_i,(t−1)·ε^v_j,(t−1) + (ρ − ψ_i,(t−1)·β)·ε^a_ij,(t−1); e_ij,t = ψ_i,t·(ε^v_j,t − β·ε^a_ij,t).
The loss is taken on the steps t ≥ ``t_loss``. Learning signal L_i,t = Σ_k W_out,ki·(p_k,t − y*_k,t),
broadcast to all synapses of neuron i;
ΔW_in,ij ∝ −Σ_t L_i,t·e_ij,t. Without recurrent connections and with the loss on the
instantaneous readout this equals the BPTT gradient exactly (the e-prop approximation drops only
the paths through recurrent weights and through future readout states); :func:`bptt_gradients`
computes that reference with torch autograd.

On the chip (device mode), W_in and W_out live in differential device pairs
(:class:`aimc_sim.pulsed_training.PulsedWeights`): every update computed by the rule is written as
pulses through the device model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from aimc_sim.tile_training import softmax


@dataclass(frozen=True)
class EpropNeuron:
    """LIF (``beta = 0``) or AdLIF neuron of the e-prop layer (time in steps)."""

    alpha: float = 0.9  # membrane decay per step, exp(−dt/τ_m)
    thr: float = 0.5
    beta: float = 0.0  # threshold adaptation strength (0: LIF)
    rho: float = 0.97  # adaptation decay per step
    gamma: float = 0.3  # pseudo-derivative dampening


def forward(x: np.ndarray, w_in: np.ndarray, nrn: EpropNeuron) -> dict[str, np.ndarray]:
    """Run the layer on inputs ``x`` (batch, T, n_in); returns spikes z, pseudo-derivatives ψ and
    the eligibility traces needed by :func:`eprop_gradients` (computed online, forward in time)."""
    b, t_len, n_in = x.shape
    n = w_in.shape[0]
    v = np.zeros((b, n))
    a = np.zeros((b, n))
    z_prev = np.zeros((b, n))
    psi_prev = np.zeros((b, n))
    eps_v = np.zeros((b, n_in))
    eps_v_prev = np.zeros((b, n_in))
    eps_a = np.zeros((b, n, n_in))
    z_all = np.zeros((b, t_len, n))
    e_all = np.zeros((b, t_len, n, n_in))
    for t in range(t_len):
        a = nrn.rho * a + z_prev
        eps_a = psi_prev[:, :, None] * eps_v_prev[:, None, :] + (nrn.rho - psi_prev * nrn.beta)[:, :, None] * eps_a
        v = nrn.alpha * v + x[:, t] @ w_in.T - nrn.thr * z_prev
        eps_v = nrn.alpha * eps_v + x[:, t]
        u = v - (nrn.thr + nrn.beta * a)
        z = (u > 0).astype(float)
        psi = nrn.gamma / nrn.thr * np.maximum(0.0, 1.0 - np.abs(u) / nrn.thr)
        e_all[:, t] = psi[:, :, None] * (eps_v[:, None, :] - nrn.beta * eps_a)
        z_all[:, t] = z
        z_prev, psi_prev, eps_v_prev = z, psi, eps_v.copy()
    return {"z": z_all, "e": e_all}


def eprop_gradients(
    x: np.ndarray, labels: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, nrn: EpropNeuron, t_loss: int = 0
) -> tuple[np.ndarray, np.ndarray, float]:
    """e-prop gradients of the cross-entropy averaged over the batch and the steps t ≥ ``t_loss``:
    (dW_in, dW_out, loss)."""
    fw = forward(x, w_in, nrn)
    z = fw["z"]
    p = softmax(z @ w_out.T)  # (b, T, classes)
    target = np.zeros_like(p)
    target[np.arange(x.shape[0]), :, labels] = 1.0
    mask = (np.arange(x.shape[1]) >= t_loss)[None, :, None]
    scale = 1.0 / (x.shape[0] * (x.shape[1] - t_loss))
    err = (p - target) * scale * mask
    learning_signal = err @ w_out  # (b, T, n): broadcast to every synapse of neuron i
    d_in = np.einsum("btn,btnj->nj", learning_signal, fw["e"])
    d_out = np.einsum("btk,btn->kn", err, z)
    loss = -float(np.sum(mask * target * np.log(p + 1e-12)) * scale)
    return d_in, d_out, loss


def bptt_gradients(
    x: np.ndarray, labels: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, nrn: EpropNeuron, t_loss: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The same loss differentiated by backpropagation through time (torch autograd, float64)."""
    try:
        import torch
    except ImportError as exc:  # optional runtime dependency
        raise ImportError("bptt_gradients needs torch (pip install torch)") from exc

    class Spike(torch.autograd.Function):
        @staticmethod
        def forward(ctx, u):
            ctx.save_for_backward(u)
            return (u > 0).to(u.dtype)

        @staticmethod
        def backward(ctx, grad):
            (u,) = ctx.saved_tensors
            return grad * nrn.gamma / nrn.thr * torch.clamp(1.0 - u.abs() / nrn.thr, min=0.0)

    xt = torch.tensor(x, dtype=torch.float64)
    wi = torch.tensor(w_in, dtype=torch.float64, requires_grad=True)
    wo = torch.tensor(w_out, dtype=torch.float64, requires_grad=True)
    b, t_len, _ = x.shape
    n = w_in.shape[0]
    v = torch.zeros(b, n, dtype=torch.float64)
    a = torch.zeros(b, n, dtype=torch.float64)
    z = torch.zeros(b, n, dtype=torch.float64)
    loss = torch.zeros((), dtype=torch.float64)
    lab = torch.tensor(labels)
    for t in range(t_len):
        a = nrn.rho * a + z
        v = nrn.alpha * v + xt[:, t] @ wi.T - nrn.thr * z.detach()
        z = Spike.apply(v - (nrn.thr + nrn.beta * a))
        if t >= t_loss:
            loss = loss + torch.nn.functional.cross_entropy(z @ wo.T, lab, reduction="sum")
    (loss / (b * (t_len - t_loss))).backward()
    return wi.grad.numpy(), wo.grad.numpy()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.ravel(a), np.ravel(b)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def temporal_task(
    rng: np.random.Generator, n: int, group: int = 10, period: int = 20, rate: float = 0.2
) -> tuple[np.ndarray, np.ndarray, int]:
    """Order classification that needs memory. Inputs: three groups of ``group`` channels (A, B,
    cue C), Bernoulli spikes at ``rate`` per step. Class 0: A for ``period`` steps, then B; class 1:
    B, then A; then, for both, the cue C for ``period`` steps. The two classes have the same input
    statistics in the cue window and the same spike counts per channel, so the answer, read out
    during the cue (the loss window, returned as ``t_loss``), depends on what happened before, e.g.
    on which group adapted the neurons most recently. Returns (x (n, 3·period, 3·group), labels, t_loss)."""
    labels = rng.integers(0, 2, n)
    x = np.zeros((n, 3 * period, 3 * group))
    a, b, c = slice(0, group), slice(group, 2 * group), slice(2 * group, 3 * group)
    for k, cls in enumerate(labels):
        first, second = (a, b) if cls == 0 else (b, a)
        x[k, :period, first] = rng.random((period, group)) < rate
        x[k, period : 2 * period, second] = rng.random((period, group)) < rate
        x[k, 2 * period :, c] = rng.random((period, group)) < rate
    return x, labels, 2 * period


def accuracy(
    x: np.ndarray, labels: np.ndarray, w_in: np.ndarray, w_out: np.ndarray, nrn: EpropNeuron, t_loss: int
) -> float:
    """Class = argmax of the readout summed over the loss window t ≥ ``t_loss``."""
    z = forward(x, w_in, nrn)["z"]
    y = (z @ w_out.T)[:, t_loss:].sum(axis=1)
    return float(np.mean(np.argmax(y, axis=1) == labels))


def train(
    seed: int,
    device: str | None = None,
    nrn: EpropNeuron = EpropNeuron(beta=0.5),
    n_hidden: int = 24,
    steps: int = 150,
    batch: int = 16,
    lr: float = 2.0,
) -> dict:
    """Learn :func:`temporal_task` online with e-prop: float weights (``device=None``, the software
    reference) or weights on differential pairs of the ``device_models`` preset ``device``, every
    update written as pulses. Returns test accuracy, loss curve, pulse count and write energy."""
    from aimc_sim.pulsed_training import PulsedWeights

    rng = np.random.default_rng(seed)
    x_test, l_test, t_loss = temporal_task(np.random.default_rng(seed + 1000), 256)
    w_in = rng.normal(0.0, 0.3, (n_hidden, x_test.shape[2]))
    w_out = rng.normal(0.0, 0.3, (2, n_hidden))
    banks = None
    if device is not None:
        from device_models import load_preset

        model = load_preset(device)
        banks = [PulsedWeights(model, w, rng) for w in (w_in, w_out)]
    losses = []
    for _ in range(steps):
        if banks is not None:
            w_in, w_out = banks[0].read(rng), banks[1].read(rng)
        x, labels, _ = temporal_task(rng, batch)
        d_in, d_out, loss = eprop_gradients(x, labels, w_in, w_out, nrn, t_loss)
        losses.append(loss)
        if banks is None:
            w_in, w_out = w_in - lr * d_in, w_out - lr * d_out
        else:
            banks[0].apply(-lr * d_in, rng)
            banks[1].apply(-lr * d_out, rng)
    if banks is not None:
        w_in, w_out = banks[0].read(rng), banks[1].read(rng)
    return {
        "accuracy": accuracy(x_test, l_test, w_in, w_out, nrn, t_loss),
        "loss": np.array(losses),
        "pulses": sum(b.pulses for b in banks) if banks else 0,
        "write_energy": sum(b.energy for b in banks) if banks else 0.0,
    }


def gradient_check(seed: int, n_hidden: int = 24, batch: int = 16) -> dict[str, float]:
    """Cosine similarity of e-prop and BPTT gradients of W_in for LIF and AdLIF on the task."""
    out = {}
    for name, nrn in (("lif", EpropNeuron()), ("adlif", EpropNeuron(beta=0.5))):
        rng = np.random.default_rng(seed)
        x, labels, t_loss = temporal_task(rng, batch)
        w_in = rng.normal(0.0, 0.3, (n_hidden, x.shape[2]))
        w_out = rng.normal(0.0, 0.5, (2, n_hidden))
        e_in, _, _ = eprop_gradients(x, labels, w_in, w_out, nrn, t_loss)
        b_in, _ = bptt_gradients(x, labels, w_in, w_out, nrn, t_loss)
        out[name] = cosine(e_in, b_in)
    return out


def experiment(seed: int, device: str = "ecram", steps: int = 100) -> dict:
    """``aimc chip eprop``: the gradient check, then online learning of the task by the software
    reference (float weights) and on device pairs of ``device`` (pulsed writes), LIF and AdLIF."""
    runs = {}
    for name, nrn in (("lif", EpropNeuron()), ("adlif", EpropNeuron(beta=0.5))):
        for where, dev in (("software", None), ("device", device)):
            runs[f"{where}_{name}"] = train(seed, dev, nrn=nrn, steps=steps)
    return {"cosine": gradient_check(seed), "runs": runs, "device": device}
