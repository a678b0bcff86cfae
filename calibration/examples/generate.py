"""Generate the example measurement files in this directory from known device-model parameters.

Every file is GENERATED (simulated), not measured; its header records the generating preset,
parameters, seed and this command. Regenerate all with:

    python -m calibration.examples.generate
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from calibration.measurements import Measurement, save_csv
from device_models.registry import load_preset

HERE = Path(__file__).resolve().parent
COMMAND = "python -m calibration.examples.generate"


def _meta(preset: str, params: str, seed: int) -> dict[str, str]:
    return {
        "GENERATED": f"simulated with device_models preset '{preset}', NOT measured data",
        "parameters": params,
        "seed": str(seed),
        "command": COMMAND,
    }


def programming(seed: int = 1, n: int = 400) -> Path:
    """Target vs achieved conductance of n PCM devices (aihwkit PCMLike programming noise)."""
    rng = np.random.default_rng(seed)
    model = load_preset("pcm")
    gt = rng.uniform(0.5e-6, model.config.g_max, n)
    gp = model.program(gt, rng).g0
    m = Measurement("programming", {"g_target": gt, "g_achieved": gp}, "generated", np.arange(1, n + 1))
    out = HERE / "pcm_programming.csv"
    params = f"pcm preset: prog_coeffs={list(model.config.prog_coeffs)} S, g_max={model.config.g_max} S"
    save_csv(m, out, {"g_target": "uS", "g_achieved": "uS"}, _meta("pcm", params, seed))
    return out


def main() -> None:
    for gen in (programming,):
        print(f"wrote {gen()}")


if __name__ == "__main__":
    main()
