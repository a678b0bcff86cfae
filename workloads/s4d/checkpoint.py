"""S4D checkpoints from other code: the key map of the state-spaces reference implementation.

The reference is the standalone S4D of https://github.com/state-spaces/s4 (``models/s4/s4d.py``) in the
``S4Model`` of ``example.py``: ``encoder`` (Linear) -> n x [S4D -> dropout -> residual -> LayerNorm
(post-norm)] -> mean over time -> ``decoder`` (Linear), where ``S4D`` is the SSM (ZOH, ``K = 2 Re(C dB
dA^l)``) plus ``D`` skip, GELU, then ``output_linear`` = Conv1d(H, 2H, kernel 1) + GLU. That is this
project's ``s4d`` variant with ``residual=True``, ``pool="mean"``, ``discretisation="zoh"``.

| reference key (``S4Model.state_dict()``) | shape | project key |
|---|---|---|
| ``encoder.weight`` / ``.bias`` | (H, d_in) / (H,) | same |
| ``s4_layers.{i}.kernel.log_dt`` | (H,) | ``layers.{i}.ssm.log_dt`` |
| ``s4_layers.{i}.kernel.C`` | (H, N/2, 2): ``view_as_real`` of complex C | ``layers.{i}.ssm.C`` |
| ``s4_layers.{i}.kernel.log_A_real`` / ``.A_imag`` | (H, N/2) | ``layers.{i}.ssm.log_A_real`` / ``.A_imag`` |
| ``s4_layers.{i}.D`` | (H,) | ``layers.{i}.ssm.D`` |
| ``s4_layers.{i}.output_linear.0.weight`` | (2H, H, 1) | ``layers.{i}.mix.weight`` (2H, H) |
| ``s4_layers.{i}.output_linear.0.bias`` | (2H,) | ``layers.{i}.mix.bias`` |
| ``norms.{i}.weight`` / ``.bias`` | (H,) | ``layers.{i}.norm.weight`` / ``.bias`` |
| ``decoder.weight`` / ``.bias`` | (classes, H) / (classes,) | same |

A common prefix (``model.``, ``module.``, as Lightning or DataParallel add) is removed first. A checkpoint
without the project's ``model`` metadata (the reference's, or the project's own state dict saved from
torch) gets its config inferred from the tensor shapes: ``d_in``, ``d_model``, ``d_state = 2 C.shape[1]``,
``n_layers``, ``n_classes``. Prenorm (``prenorm=True`` in the example) has no counterpart here.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from aimc_sim.errors import DataError

REFERENCE_KEYS: tuple[tuple[str, str], ...] = (
    (r"encoder\.(weight|bias)", "encoder.{0}"),
    (r"decoder\.(weight|bias)", "decoder.{0}"),
    (r"s4_layers\.(\d+)\.kernel\.(log_dt|C|log_A_real|A_imag)", "layers.{0}.ssm.{1}"),
    (r"s4_layers\.(\d+)\.D", "layers.{0}.ssm.D"),
    (r"s4_layers\.(\d+)\.output_linear\.0\.(weight|bias)", "layers.{0}.mix.{1}"),
    (r"norms\.(\d+)\.(weight|bias)", "layers.{0}.norm.{1}"),
)
_PREFIXES = ("model.", "module.", "net.")


def _strip_prefix(tensors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    for prefix in _PREFIXES:
        if tensors and all(k.startswith(prefix) for k in tensors):
            return _strip_prefix({k[len(prefix) :]: v for k, v in tensors.items()})
    return tensors


def is_reference(tensors: dict[str, np.ndarray]) -> bool:
    """True if the (prefix-stripped) keys are those of the reference ``S4Model``."""
    return any(k.startswith("s4_layers.") for k in _strip_prefix(tensors))


def from_reference(tensors: dict[str, np.ndarray], source: str) -> dict[str, np.ndarray]:
    """Rename (and reshape the kernel-1 Conv1d weights of) a reference state dict to project keys."""
    out: dict[str, np.ndarray] = {}
    for key, value in _strip_prefix(tensors).items():
        for pattern, template in REFERENCE_KEYS:
            m = re.fullmatch(pattern, key)
            if m:
                new = template.format(*m.groups())
                if new.endswith("mix.weight"):
                    if value.ndim != 3 or value.shape[2] != 1:
                        raise DataError(
                            f"{source}:{key}", f"must be a kernel-1 Conv1d weight (2H, H, 1), got {value.shape}"
                        )
                    value = value[:, :, 0]
                out[new] = value
                break
        else:
            raise DataError(f"{source}:{key}", "not a key of the reference S4Model (docs: workloads/s4d/checkpoint.py)")
    return out


def infer_config(tensors: dict[str, np.ndarray], source: str) -> dict[str, Any]:
    """Model-config fields of a project-keyed S4D state dict, from its tensor shapes."""
    need = ("encoder.weight", "decoder.weight", "layers.0.ssm.C")
    missing = [k for k in need if k not in tensors]
    if missing:
        raise DataError(
            source,
            f"checkpoint has neither the project's 'model' metadata nor S4D tensors ({missing[0]} missing); "
            "expected the project's keys or the reference S4Model keys (s4_layers.*, norms.*)",
        )
    layer_ids = {int(m.group(1)) for k in tensors if (m := re.match(r"layers\.(\d+)\.", k))}
    d_model, d_in = np.shape(tensors["encoder.weight"])
    return {
        "d_in": int(d_in),
        "d_model": int(d_model),
        "d_state": 2 * int(np.shape(tensors["layers.0.ssm.C"])[1]),
        "n_layers": len(layer_ids),
        "n_classes": int(np.shape(tensors["decoder.weight"])[0]),
    }


def project_tensors(tensors: dict[str, np.ndarray], source: str) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(project-keyed tensors, inferred config)`` for a checkpoint without project metadata."""
    if is_reference(tensors):
        mapped = from_reference(tensors, source)
        return mapped, infer_config(mapped, source) | {"variant": "s4d", "residual": True, "pool": "mean"}
    mapped = _strip_prefix(tensors)
    return mapped, infer_config(mapped, source)
