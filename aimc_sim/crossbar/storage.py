"""What a tile keeps between calls: its programmed device state (compact by default) and shared work arrays."""

from __future__ import annotations

import math
import threading

import numpy as np

from device_models.base import DeviceState

__all__ = ["DROPPED", "stored_state", "work_array", "workspace"]

_WORKSPACE = threading.local()


def workspace() -> dict[str, np.ndarray]:
    """The calling thread's float32 work arrays, shared by every stack it runs: one set per thread, not one per
    tile (a 4096 x 4096 AnalogMatrix has 64 tiles)."""
    ws = getattr(_WORKSPACE, "arrays", None)
    if ws is None:
        ws = _WORKSPACE.arrays = {}
    return ws


def work_array(ws: dict[str, np.ndarray], key: str, shape: tuple[int, ...], dtype: type = np.float32) -> np.ndarray:
    """A reused work array of ``ws``: a view of the largest one requested under ``key`` (fresh large allocations
    cost page faults on every MVM, e.g. when MVMs alternate with drift readouts of another batch size); valid
    until the next request of ``key`` in the same workspace."""
    size = math.prod(shape)
    buf = ws.get(key)
    if buf is None or buf.size < size or buf.dtype != dtype:
        buf = ws[key] = np.empty(size, dtype)
    return buf[:size].reshape(shape)


DROPPED = np.broadcast_to(np.float32(np.nan), (0, 0))


def stored_state(state: DeviceState, dtype: str) -> DeviceState:
    """The programmed state as a tile keeps it. ``float64``: as programmed. ``float32``: conductances and
    per-device floats in float32 (relative rounding <= 6e-8: a PCM drift exponent nu ~ 0.05 keeps an absolute
    error <= 4e-9, so the drift factor ((t + t0) / t0)^-nu after 1 year is off by <= 6e-8 relative), write
    counts that are the same for every device as one broadcast int64 (later pulses make a full array again),
    and the targets not kept (``g_target`` is a NaN placeholder): a PCM weight then keeps 16 bytes of state."""
    if dtype == "float64":
        return state
    cycles = state.cycles
    if cycles is not None and cycles.size and np.all(cycles == cycles.flat[0]):
        cycles = np.broadcast_to(np.int64(cycles.flat[0]), cycles.shape)
    g0 = state.g0.astype(np.float32)
    return DeviceState(
        g0=g0,
        g_target=np.broadcast_to(np.float32(np.nan), g0.shape),
        per_device={k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in state.per_device.items()},
        stuck=state.stuck,
        cycles=cycles,
    )
