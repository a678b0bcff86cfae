"""Device presets for the SSM experiments: HfO2 1T1R with additive Gaussian programming noise (``ssm.md`` 8).

``ssm.md`` section 8 specifies programming noise as additive N(0, sigma_p * G_max) per device, fixed per
programming, on a 1-100 uS window (Strachan-group 1T1R HfO2, Li et al., Nat. Electron. 2018). We express it
with the ``rram`` device family of ``device_models`` in statistical write-verify mode, with a constant
residual pv_sigma = (sigma_p * G_max, 0), and with relaxation and read noise switched off (read noise is a
separate sweep axis in the spec). The preset file is written once per sigma_p into a cache directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml

from aimc_sim.errors import ConfigError

G_MIN, G_MAX = 1e-6, 100e-6


def gaussian_prog_preset(sigma_p: float, directory: str | Path | None = None) -> Path:
    """Path of a device preset YAML with programming noise sigma_p (fraction of G_max, e.g. 0.02)."""
    if not isinstance(sigma_p, (int, float)) or not 0.0 <= sigma_p <= 1.0:
        raise ConfigError("hardware.prog_noise", f"must be a fraction of G_max in [0, 1], got {sigma_p!r}")
    d = Path(directory) if directory else Path(tempfile.gettempdir()) / "aimc_s4d_presets"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"hfo2_gauss_{sigma_p:.6f}.yaml"
    if not path.is_file():
        preset = {
            "name": f"hfo2-gauss-{sigma_p:g}",
            "model": "rram",
            "description": f"HfO2 1T1R, additive Gaussian programming noise sigma_p = {sigma_p:g} * G_max, "
            "no relaxation, no read noise (ssm.md section 8)",
            "source": "ssm.md section 8 [proposal]; window after Li et al., Nat. Electron. 2018",
            "figure": "none",
            "config": {
                "g_min": G_MIN,
                "g_max": G_MAX,
                "verify": "statistical",
                "pv_sigma": [float(sigma_p) * G_MAX, 0.0],
                "relax_shift": 0.0,
                "relax_sigma": [0.0, 0.0],
                "read_coeff": 0.0,
            },
        }
        tmp = path.with_suffix(f".{id(preset)}.tmp")
        tmp.write_text(yaml.safe_dump(preset))
        tmp.replace(path)  # atomic: parallel sweep workers may race
    return path
