"""In-memory training of a crossbar tile with pulsed updates (``aimc train-tile``).

A single-layer softmax classifier of the 8×8 digits (scikit-learn's bundled set, 64 pixels in
[0, 1] plus a bias input, 10 classes; stratified 80/20 split) is trained online, one sample per
update, in two ways with the same data order:

* floating-point SGD: W ← W − lr·x⊗δ, δ = softmax(W^T x) − onehot(label);
* in memory: W = w_scale·w, w on differential pairs of a pulsed device preset
  (:class:`aimc_sim.pulsed_training.PulsedWeights`), forward reads with the device's read noise,
  and every update written by stochastic pulse coincidence (Gokmen & Vlasov 2016; aihwkit's
  stochastic pulse update), so the device's asymmetry, nonlinearity (soft bounds), device-to-
  device spread and cycle-to-cycle noise act on the learning.

The array read is an ideal product of the read weights (no DAC/ADC or IR drop: the tile's
periphery is not part of this training loop). Reported: test accuracy per epoch, number of
device pulses and their resistive energy V²·G·t_p (``pulsed_training.WritePulse``).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError
from aimc_sim.pulsed_training import PulsedWeights


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test); x with a trailing bias input of 1."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = np.hstack([d.data / 16.0, np.ones((len(d.data), 1))])
    return train_test_split(x, d.target, test_size=0.2, stratify=d.target, random_state=seed)


def softmax(y: np.ndarray) -> np.ndarray:
    """Softmax over the last axis (shifted by the maximum for stability)."""
    e = np.exp(y - y.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def train(
    device: str | None,
    seed: int = 0,
    epochs: int = 4,
    lr: float = 0.05,
    w_scale: float = 1.0,
    bl: int = 31,
    max_train: int | None = None,
) -> dict:
    """Train on the digits (the first ``max_train`` training samples, all by default);
    ``device=None`` is floating-point SGD. Returns accuracy per epoch, pulses and write energy."""
    if epochs < 1:
        raise ConfigError("epochs", f"must be >= 1, got {epochs!r}")
    x_tr, x_te, y_tr, y_te = digits(seed)
    x_tr, y_tr = x_tr[:max_train], y_tr[:max_train]
    rng = np.random.default_rng(seed)
    n_in, n_out = x_tr.shape[1], 10
    w = np.zeros((n_in, n_out))
    bank = None
    if device is not None:
        from device_models import load_preset

        bank = PulsedWeights(load_preset(device), w, rng)
    order_rng = np.random.default_rng(seed + 1)
    acc = []
    for _ in range(epochs):
        for k in order_rng.permutation(len(y_tr)):
            if bank is not None:
                w = w_scale * bank.read(rng)
            delta = softmax(x_tr[k] @ w)
            delta[y_tr[k]] -= 1.0
            if bank is None:
                w = w - lr * np.outer(x_tr[k], delta)
            else:
                bank.coincidence_update(x_tr[k], delta, lr / w_scale, rng, bl)
        w_test = w if bank is None else w_scale * bank.read(rng)
        acc.append(float(np.mean(np.argmax(x_te @ w_test, axis=1) == y_te)))
    return {
        "accuracy": np.array(acc),
        "pulses": bank.pulses if bank else 0,
        "write_energy": bank.energy if bank else 0.0,
        "updates": epochs * len(y_tr),
    }
