"""End-to-end (issue 8 'must show'): a calibrated preset programs a crossbar tile and runs an S4D evaluation.

Calibration (layer 2) cannot import aimc_sim or workloads, so this test lives in tests/.
"""

import numpy as np
import pytest

from calibration.api import calibrate
from calibration.measurements import Measurement
from device_models.pcm import programming_sigma
from device_models.registry import load_preset


@pytest.fixture(scope="module")
def fitted_preset(tmp_path_factory):
    """A PCM preset whose programming noise is fitted to data from a device with 2x the aihwkit noise."""
    rng = np.random.default_rng(7)
    truth = load_preset("pcm", s_prog=2.0)
    gt = rng.uniform(0.5e-6, 25e-6, 2000)
    gp = np.maximum(0.0, gt + programming_sigma(gt, truth.config) * rng.standard_normal(gt.size))
    m = Measurement("programming", {"g_target": gt, "g_achieved": gp}, "noisy_pcm.csv", np.arange(1, gt.size + 1), {})
    path = tmp_path_factory.mktemp("cal") / "pcm-noisy.yaml"
    calibrate("pcm", [m]).write(path, name="pcm-noisy")
    return path


def _tile_error(device: str, rng_seed: int) -> float:
    from aimc_sim.crossbar import AnalogTile, load_tile_config

    cfg = load_tile_config("pcm-default", device=device, rows=64, cols=64)
    rng = np.random.default_rng(rng_seed)
    w = rng.uniform(-1, 1, (64, 32))
    x = rng.uniform(-1, 1, (64, 64))
    tile = AnalogTile(cfg, w, rng)
    y = tile.mvm(x)
    assert y.shape == (64, 32) and np.isfinite(y).all()
    ref = x @ w
    return float(np.linalg.norm(y - ref) / np.linalg.norm(ref))


def test_fitted_preset_programs_a_tile(fitted_preset):
    """The fitted preset (2x programming noise) loads into a tile; its MVM error exceeds the base preset's."""
    pytest.importorskip("aimc_sim.crossbar")
    err_fit = np.mean([_tile_error(str(fitted_preset), s) for s in range(3)])
    err_base = np.mean([_tile_error("pcm", s) for s in range(3)])
    assert 0 < err_base < err_fit < 1.0


def test_fitted_preset_runs_an_s4d_evaluation(fitted_preset):
    api = pytest.importorskip("workloads.api")
    """The noise-aware 4-bit QAT S4D model (digital recurrence, matrices on tiles with the fitted device)."""
    point = {
        "model": "s4d_digits_qat4_noise",
        "hardware": {"tile": {"preset": "pcm-default", "device": str(fitted_preset)}, "recurrence": "digital"},
        "dataset": {"name": "digits_pixel", "n_test": 30},
    }
    result = api.evaluate(point, seed=0)
    assert result.n_samples == 30
    assert result.accuracy >= 0.8  # 10 classes; 1.0 measured with this seed
    assert result.energy_j > 0
