"""S4D on simulated tiles: ideal tiles reproduce the float model, tile counts (docs/s4d.md#packing), ADC/DAC state
feedback, determinism, cost report."""

import numpy as np
import pytest

from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError
from workloads.data import SequenceDataset
from workloads.s4d.config import S4DConfig
from workloads.s4d.hardware import S4DHardwareConfig
from workloads.s4d.model import S4DModel


def _model(rng, **kw):
    cfg = S4DConfig(**({"d_in": 1, "n_classes": 3, "d_model": 6, "d_state": 4, "n_layers": 1} | kw))
    return S4DModel.random(cfg, rng)


def _x(rng, n=6, L=12, d=1):
    return rng.random((n, L, d)).astype(np.float32)


@pytest.mark.parametrize("recurrence", ["analog", "digital"])
@pytest.mark.parametrize("variant", ["s4d", "gsu"])
def test_ideal_tile_equals_float(rng, recurrence, variant):
    """Ideal tiles (no noise, no quantisation): hardware logits = float logits (float32 rounding)."""
    m = _model(rng, variant=variant)
    x = _x(rng)
    logits, ledger, prog = m.on({"tile": "ideal", "recurrence": recurrence}).logits(x, seed=0)
    np.testing.assert_allclose(logits, m.forward(x, "fft"), atol=2e-4)
    assert ledger.total("tile_read") > 0


def test_tile_count_digits_example(rng):
    """docs/s4d.md#packing: 2 layers, H=64, P=8 on 64x64 differential tiles: 64 SSM + 4 mixing/layer + 2 + 1 = 139."""
    m = _model(rng, d_model=64, d_state=16, n_layers=2, n_classes=10)
    hw = m.on({"tile": {"preset": "ideal", "rows": 64, "cols": 64}})
    prog = hw.program(np.random.default_rng(0), ledger=__import__("aimc_sim.cost", fromlist=["Ledger"]).Ledger())
    assert prog.n_tiles() == 139
    assert [sum(m.n_tiles for _, m in g) for g in prog.groups] == [64, 64]
    # one 17x17 channel in differential pairs uses 17*34 of 4096 cells
    ssm_util = prog.groups[0][0][1].utilisation
    assert ssm_util == pytest.approx(17 * 34 / 4096)
    dense = m.on({"tile": {"preset": "ideal", "rows": 64, "cols": 64}, "ssm_sim": "dense"})
    prog = dense.program(np.random.default_rng(0), ledger=__import__("aimc_sim.cost", fromlist=["Ledger"]).Ledger())
    assert prog.n_tiles() == 139
    assert [len(g) for g in prog.groups] == [64, 64]


def test_channels_packed_per_tile(rng):
    """k = min(rows // (2P+1), max_outputs // (2P+1)) channels share a tile; capped by ssm_channels_per_tile."""
    m = _model(rng, d_model=10, d_state=4)  # 2P+1 = 5
    from aimc_sim.cost import Ledger

    for sim in ("block", "dense"):
        hw = m.on({"tile": {"preset": "ideal", "rows": 20, "cols": 40}, "ssm_sim": sim})
        prog = hw.program(np.random.default_rng(0), Ledger())
        per_tile = prog.groups[0][0][1].blocks_per_tile if sim == "block" else [len(ch) for ch, _ in prog.groups[0]]
        assert per_tile == [4, 4, 2]
        hw = m.on({"tile": {"preset": "ideal"}, "ssm_channels_per_tile": 3, "ssm_sim": sim})
        prog = hw.program(np.random.default_rng(0), Ledger())
        per_tile = prog.groups[0][0][1].blocks_per_tile if sim == "block" else [len(ch) for ch, _ in prog.groups[0]]
        assert per_tile == [3, 3, 3, 1]


def test_state_feedback_is_quantised_by_adc(rng):
    """The fed-back state passes ADC -> DAC each step: fewer ADC bits, larger deviation from float."""
    m = _model(rng)
    x = _x(rng, n=8, L=24)
    ref = m.forward(x, "fft")
    errs = []
    for bits in (10, 6, 3):
        hw = {"tile": {"preset": "ideal", "adc": {"bits": bits, "range": "per_column"}}, "recurrence": "analog"}
        logits, _, _ = m.on(hw).logits(x, seed=0, x_cal=x)
        errs.append(np.abs(logits - ref).mean())
    assert errs[0] < errs[1] < errs[2]


def test_programming_noise_seeded(rng):
    m = _model(rng)
    x = _x(rng)
    hw = m.on({"tile": "ideal", "prog_noise": 0.05})
    a, _, _ = hw.logits(x, seed=1)
    b, _, _ = hw.logits(x, seed=1)
    c, _, _ = hw.logits(x, seed=2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_result_report(rng):
    m = _model(rng)
    xtr, xte = _x(rng, n=4), _x(rng, n=5)
    data = SequenceDataset("toy", xtr, np.zeros(4, int), xte, np.arange(5) % 3, 3)
    r = m.on({"tile": "pcm-default"}).evaluate(data, seed=0)
    assert r.n_samples == 5 and r.n_tiles == 4  # encoder, SSM (6 channels in one tile), mixing, decoder
    assert r.energy_j > 0 and r.latency_s > 0
    assert set(r.energy_per_layer_j) >= {"encoder", "layers.0.ssm", "layers.0.mix", "decoder"}
    assert r.energy_per_component_j["adc"] > 0
    assert r.complexity["adc_per_step"] == 6 + 6 * 5 + 12
    flat = r.to_flat_dict()
    assert flat["n_tiles"] == 4 and "energy_layer.layers.0.ssm" in flat and "complexity.params" in flat


def test_hardware_config_errors():
    with pytest.raises(ConfigError, match="ssm_channels_per_tile"):
        S4DHardwareConfig(ssm_channels_per_tile=0)
    with pytest.raises(ConfigError, match="prog_noise"):
        S4DHardwareConfig(prog_noise=2.0)
    with pytest.raises(ConfigError, match="tile"):
        S4DHardwareConfig(tile="nonexistent-tile").tile_config()


@pytest.mark.parametrize("noise", [{"programming": False, "read": False, "out_noise": 0.0}, {"programming": False}])
def test_block_fast_path_equals_dense_tiles(rng, noise):
    """ssm_sim block (BlockDiagonalMatrix) vs dense (AnalogMatrix on the block-diagonal tile matrix) on PCM tiles
    with 8-bit DAC/ADC: identical logits and ledger counts with programming noise off (the per-tile noise streams
    are the same; off-block PCM cells at 0 S add no current or read noise)."""
    m = _model(rng, d_model=10, d_state=4)
    x = _x(rng)
    tile = {"preset": "pcm-default", "rows": 20, "cols": 40, "noise": noise}
    # fixed ADC range: with calibrated ranges a 1-ulp difference of a float32 product (another summation order)
    # can flip one ADC level, which the recurrence then carries (tests/test_crossbar_blockdiag.py covers those)
    hw = [m.on({"tile": tile, "ssm_sim": sim, "ssm_adc_range": "tile"}) for sim in ("block", "dense")]
    out = [h.logits(x, seed=3) for h in hw]
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-5, atol=1e-6)
    for key, v in out[1][1].counts.items():
        assert out[0][1].counts[key] == pytest.approx(v), key
    assert out[0][2].n_tiles() == out[1][2].n_tiles()


@pytest.mark.parametrize(
    "feature",
    [
        {"management": {"bound": "iterative"}, "adc": {"bound": 1.0}},
        {"dac": {"bit_serial": True, "bits": 4}},
        {"dac": {"stochastic_rounding": True}},
    ],
)
def test_block_fast_path_features_equal_dense_tiles(rng, feature):
    """Bound management, bit-serial and stochastic DACs: ``auto`` takes the block-wise path, and it equals the dense
    tiles (programming noise off, read noise on: the same per-tile streams)."""
    m = _model(rng, d_model=10, d_state=4)
    x = _x(rng)
    tile = {"preset": "pcm-default", "rows": 20, "cols": 40, "noise": {"programming": False}, **feature}
    hw = [m.on({"tile": tile, "ssm_sim": sim, "ssm_adc_range": "tile"}) for sim in ("auto", "dense")]
    assert hw[0].hw.block_sim(hw[0].hw.ssm_tile_config()) and not hw[1].hw.block_sim(hw[1].hw.ssm_tile_config())
    out = [h.logits(x, seed=3) for h in hw]
    np.testing.assert_allclose(out[0][0], out[1][0], rtol=1e-5, atol=1e-6)
    for key, v in out[1][1].counts.items():
        assert out[0][1].counts[key] == pytest.approx(v), key


def test_block_sim_refused_for_ir_drop(rng):
    m = _model(rng)
    with pytest.raises(ConfigError, match="hardware.ssm_sim"):
        m.on({"tile": {"preset": "ideal", "ir_drop": {"mode": "exact"}}, "ssm_sim": "block"}).logits(_x(rng))


def test_ssm_adc_range_calibrated_per_column_by_default(rng):
    """docs/s4d.md#hardware-defaults: the recurrent tiles' ADC ranges are calibrated per column on training data
    even when the tile preset has a fixed range (pcm-default: +-12 full-scale rows); the dense layers keep the preset's
    range. The calibrated state quantisation tracks the float model more closely than the fixed range (noise off)."""
    m = _model(rng, d_model=8, d_state=8)
    x, x_cal = _x(rng, n=8, L=24), _x(rng, n=8, L=24)
    quiet = {"preset": "pcm-default", "noise": {"programming": False, "read": False, "out_noise": 0.0}}
    ref = m.forward(x, "fft")
    errs = {}
    for rng_mode in ("per_column", "tile"):
        logits, _, prog = m.on({"tile": quiet, "ssm_adc_range": rng_mode}).logits(x, seed=0, x_cal=x_cal)
        assert prog.groups[0][0][1].config.adc.range == ("per_column" if rng_mode == "per_column" else "fixed")
        assert prog.mats["encoder"].config.adc.range == "fixed"
        errs[rng_mode] = float(np.abs(logits - ref).max())
    assert errs["per_column"] < errs["tile"]
    with pytest.raises(ConfigError, match="hardware.adc_calibration"):
        m.on({"tile": quiet}).logits(x, seed=0)


def test_ssm_tile_maps_only_the_recurrent_tiles(rng):
    """``ssm_tile`` fields apply to the recurrent tiles alone, nested fields merged over the tile's own."""
    m = _model(rng)
    tile = {"preset": "pcm-default", "noise": {"out_noise": 0.0}}
    ssm = {"mapping": {"variant": "symmetric"}, "noise": {"read": False}}
    prog = m.on({"tile": tile, "ssm_tile": ssm}).program(np.random.default_rng(0), Ledger(), _x(rng))
    rec, enc = prog.groups[0][0][1].config, prog.mats["encoder"].config
    assert (rec.mapping.variant, rec.noise.read, rec.noise.out_noise, rec.adc.range) == (
        "symmetric",
        False,
        0.0,
        "per_column",
    )
    assert (enc.mapping.variant, enc.noise.read, enc.noise.out_noise) == ("single", True, 0.0)
    with pytest.raises(ConfigError, match="mapping.variant"):
        S4DHardwareConfig(ssm_tile={"mapping": {"variant": "crossed"}}).ssm_tile_config()


def test_state_replicas_average_programming_noise(rng):
    """R state replicas put R^2 devices behind every entry of the recurrence: with Gaussian programming noise the
    hardware logits stay closer to the float model (mean error over 4 programmings) with R = 3 than with R = 1."""
    m = _model(rng, d_model=8, d_state=8)
    x = _x(rng, n=16, L=24)
    ref = m.forward(x, "fft")
    errs = {}
    for R in (1, 3):
        hw = m.on({"tile": {"preset": "ideal"}, "prog_noise": 0.05, "ssm_replicas": R, "ssm_channels_per_tile": 1})
        errs[R] = np.mean([np.abs(hw.logits(x, seed=s)[0] - ref).mean() for s in range(4)])
    assert errs[3] < 0.7 * errs[1]
