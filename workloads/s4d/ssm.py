"""The S4D diagonal state-space layer in numpy: initialisation, discretisation and three equal forms.

Equations (docs/s4d.md#discretisation; Gu et al. 2022, arXiv 2206.11893):

- A = -exp(log_A_real) + i*A_imag per mode, B = 1 (folded into C), Delta = exp(log_dt) per channel;
- ZOH: Abar = exp(Delta*A), Bbar = (exp(Delta*A) - 1)/A; bilinear: Abar = (1 + Delta*A/2)/(1 - Delta*A/2),
  Bbar = Delta/(1 - Delta*A/2);
- recurrence x_k = Abar*x_{k-1} + Bbar*u_k, y_k = 2*Re(C*x_k) + D*u_k;
- kernel K_l = 2*Re(sum_n C_n*Bbar_n*Abar_n^l), so y = K * u + D*u (FFT convolution);
- fused real matrix M per channel ((2P+1) x (2P+1)): M @ [x_r; x_i; u_k] = [x_r'; x_i'; y_k].

:func:`ssm_fft`, :func:`ssm_recurrence` and :func:`ssm_fused` agree to float rounding; test E1 in
``tests/test_s4d_ssm.py`` checks it (<= 1e-12 in float64, <= 1e-5 in float32).
"""

from __future__ import annotations

import numpy as np

from aimc_sim.errors import ConfigError


def init_ssm(
    H: int, P: int, rng: np.random.Generator, init: str = "lin", dt_min: float = 1e-3, dt_max: float = 1e-1
) -> dict[str, np.ndarray]:
    """S4D parameters for H channels with P modes: log_dt (H,), log_A_real, A_imag (H, P), C (H, P, 2), D (H,)."""
    n = np.arange(P)
    if init == "lin":
        a_imag = np.pi * n
    elif init == "inv":
        N = 2 * P
        a_imag = N / np.pi * (N / (2 * n + 1) - 1)
    else:
        raise ConfigError("model.init", f"must be one of 'lin', 'inv', got {init!r}")
    log_dt = rng.uniform(np.log(dt_min), np.log(dt_max), size=H)
    return {
        "log_dt": log_dt,
        "log_A_real": np.full((H, P), np.log(0.5)),
        "A_imag": np.tile(a_imag, (H, 1)).astype(np.float64),
        "C": rng.standard_normal((H, P, 2)) * np.sqrt(0.5),
        "D": rng.standard_normal(H),
    }


def discretise(
    log_dt: np.ndarray, log_A_real: np.ndarray, A_imag: np.ndarray, method: str = "zoh"
) -> tuple[np.ndarray, np.ndarray]:
    """Complex (Abar, Bbar), each (H, P), from the continuous parameters (B = 1)."""
    A = -np.exp(log_A_real) + 1j * A_imag
    dtA = np.exp(log_dt)[:, None] * A
    if method == "zoh":
        dA = np.exp(dtA)
        return dA, (dA - 1.0) / A
    if method == "bilinear":
        den = 1.0 - dtA / 2.0
        return (1.0 + dtA / 2.0) / den, np.exp(log_dt)[:, None] / den
    raise ConfigError("model.discretisation", f"must be one of 'zoh', 'bilinear', got {method!r}")


def ssm_kernel(dA: np.ndarray, dB: np.ndarray, C: np.ndarray, L: int) -> np.ndarray:
    """Convolution kernel K (H, L) with K_l = 2*Re(sum_n C_n*Bbar_n*Abar_n^l); C is complex (H, P)."""
    powers = dA[:, :, None] ** np.arange(L)[None, None, :]
    return 2.0 * np.einsum("hp,hpl->hl", C * dB, powers).real


def ssm_fft(u: np.ndarray, K: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Causal convolution y = K * u + D*u by FFT; u is (B, L, H)."""
    L = u.shape[1]
    n = 2 * L
    Uf = np.fft.rfft(u, n=n, axis=1)
    Kf = np.fft.rfft(K.T, n=n, axis=0)
    return (np.fft.irfft(Uf * Kf[None], n=n, axis=1)[:, :L] + u * D).astype(u.dtype, copy=False)


def ssm_recurrence(u: np.ndarray, dA: np.ndarray, dB: np.ndarray, C: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Complex diagonal recurrence; u is (B, L, H), C complex (H, P); returns y (B, L, H)."""
    B_, L, H = u.shape
    x = np.zeros((B_, H, dA.shape[1]), dtype=np.result_type(dA, u.dtype))
    y = np.empty_like(u)
    for k in range(L):
        x = dA * x + dB * u[:, k, :, None]
        y[:, k] = 2.0 * np.einsum("bhp,hp->bh", x, C).real + D * u[:, k]
    return y


def fused_matrix(dA: np.ndarray, dB: np.ndarray, C: np.ndarray, D: np.ndarray) -> np.ndarray:
    """Fused real matrices M (H, 2P+1, 2P+1): M @ [x_r; x_i; u_k] = [x_r'; x_i'; y_k] (docs/s4d.md#fused-mapping)."""
    H, P = dA.shape
    M = np.zeros((H, 2 * P + 1, 2 * P + 1))
    i = np.arange(P)
    ar, ai = dA.real, dA.imag
    M[:, i, i] = ar
    M[:, i, P + i] = -ai
    M[:, P + i, i] = ai
    M[:, P + i, P + i] = ar
    M[:, i, 2 * P] = dB.real
    M[:, P + i, 2 * P] = dB.imag
    out = np.concatenate([2.0 * C.real, -2.0 * C.imag], axis=1)  # (H, 2P)
    M[:, 2 * P, :] = np.einsum("hs,hsj->hj", out, M[:, : 2 * P, :])
    M[:, 2 * P, 2 * P] += D
    return M


def replica_index(S: int, R: int) -> tuple[np.ndarray, np.ndarray]:
    """(index, input scale) that put R replicas of the state of a fused S x S matrix on one block
    (docs/s4d.md#state-replicas): M_R = M[:, idx][:, :, idx] * scale, of size R (S-1) + 1. Inputs
    [x_1; ...; x_R; u], outputs [x_1'; ...; x_R'; y]; every replica's output reads all R state replicas with
    weights A/R (and u with its own weight), so with equal replicas x_a' = A x + b u and y is unchanged."""
    n = S - 1
    idx = np.concatenate([np.tile(np.arange(n), R), [n]])
    return idx, np.concatenate([np.full(R * n, 1.0 / R), [1.0]])


def replicate_fused(M: np.ndarray, R: int) -> np.ndarray:
    """M (H, S, S) with R state replicas, (H, R (S-1) + 1, R (S-1) + 1) (:func:`replica_index`)."""
    idx, scale = replica_index(M.shape[1], R)
    return M[:, idx][:, :, idx] * scale


def ssm_fused(u: np.ndarray, M: np.ndarray) -> np.ndarray:
    """Run the fused real recurrence v_k = [x_{k-1}; u_k] -> M v_k; u is (B, L, H); returns y (B, L, H).

    One batched matmul per step over channels, (H, B, 2P+1) @ (H, 2P+1, 2P+1)^T (BLAS).
    """
    B_, L, H = u.shape
    S = M.shape[1] - 1
    Mt = np.ascontiguousarray(np.swapaxes(M, 1, 2)).astype(u.dtype, copy=False)
    v = np.zeros((H, B_, S + 1), dtype=u.dtype)
    y = np.empty_like(u)
    for k in range(L):
        v[:, :, S] = u[:, k].T
        out = np.matmul(v, Mt)
        v[:, :, :S] = out[:, :, :S]
        y[:, k] = out[:, :, S].T
    return y
