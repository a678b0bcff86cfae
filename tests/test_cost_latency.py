"""Latency model: tiles of a layer in parallel, layers in sequence, pipelined layers set the interval,
digital units have a throughput (docs/cost.md, "Latency model")."""

import numpy as np
import pytest

from aimc_sim.cost import CostModel, Ledger
from aimc_sim.cost.events import FP32_MUL, INT32_ADD, TILE_READ, DigitalOp, Op, Precision
from aimc_sim.crossbar import AnalogMatrix, load_tile_config


def _matrix_latency(n_out: int, batch: int = 5) -> float:
    rng = np.random.default_rng(0)
    led = Ledger()
    cfg = load_tile_config("ideal", rows=64, cols=64)
    m = AnalogMatrix(cfg, rng.standard_normal((64, n_out)), rng, led, name="fc")
    m.mvm(rng.standard_normal((batch, 64)))
    assert m.n_tiles == -(-2 * n_out // 64)  # one row block: no digital partial sums between tiles
    return CostModel.load("22nm").price(led).latency_s


def test_tiles_of_a_layer_work_in_parallel():
    one, three = _matrix_latency(32), _matrix_latency(96)  # 1 tile and 3 tiles of 32 outputs each
    assert three == pytest.approx(one, rel=1e-12)
    cm = CostModel.load("22nm")
    # one tile, 5 vectors: 100 ns read (ideal converters: no conversion time) + 32 fp32 output scalings
    lat = cm.config.latency
    per_vector = 100e-9 + 32 * 32 / (lat.datapath_bits * lat.clock_hz)
    assert one == pytest.approx(5 * per_vector, rel=1e-9)


def test_layers_add_up_and_pipelining_sets_the_interval():
    led = Ledger()
    with led.scope("a"):
        led.add(TILE_READ, 10, unit="tile#a")
    with led.scope("b"):
        led.add(TILE_READ, 30, unit="tile#b1")
        led.add(TILE_READ, 20, unit="tile#b2")  # parallel with b1
        led.add(FP32_MUL, 512)  # the layer's shared digital unit, after the tiles
    cm = CostModel.load("22nm")
    br = cm.price(led)
    lat = cm.config.latency
    t_b = 30 * 100e-9 + 512 * 32 / (lat.datapath_bits * lat.clock_hz)
    assert br.per_layer["b"]["latency_s"] == pytest.approx(t_b)
    assert br.latency_s == pytest.approx(10 * 100e-9 + t_b)
    assert br.interval_s == pytest.approx(t_b) and br.throughput_hz == pytest.approx(1 / t_b)
    texel = CostModel.load("texel-180nm").price(led)  # no layer pipelining
    assert texel.interval_s == pytest.approx(texel.latency_s)


def test_digital_throughput_scales_with_precision_and_merge_keeps_units():
    cm = CostModel.load("22nm")
    t32 = cm.price_event(DigitalOp(Op.MUL, Precision.FP32))[1]
    t4 = cm.price_event(DigitalOp(Op.MUL, Precision.INT4))[1]
    assert t32 > 0 and t32 / t4 == pytest.approx(8.0)
    a, b = Ledger(), Ledger()
    b.add(INT32_ADD, 100, layer="x", unit="u", unit_count=40)
    a.merge(b)
    a.merge(b, scale=-1.0)
    assert cm.price(a).latency_s == pytest.approx(0.0, abs=1e-18)


def test_float_backend_has_latency_and_throughput():
    from workloads.s4d.config import S4DConfig
    from workloads.s4d.model import S4DModel

    rng = np.random.default_rng(1)
    m = S4DModel.random(S4DConfig(d_in=1, n_classes=3, d_model=6, d_state=4, n_layers=1), rng)
    x = rng.random((4, 8, 1)).astype(np.float32)
    from workloads.data import SequenceDataset

    data = SequenceDataset("toy", x, np.zeros(4, int), x, np.arange(4) % 3, 3)
    r = m.on({"backend": "float"}).evaluate(data)
    assert r.latency_s > 0 and r.throughput_per_s > 0
    assert r.to_flat_dict()["throughput_per_s"] == r.throughput_per_s


def test_block_diagonal_array_is_timed_like_its_parallel_tiles():
    """The S4D SSM layer on packed tiles: BlockDiagonalMatrix (one ledger unit, busiest tile) and dense
    AnalogMatrix tiles (one unit per tile) give the same layer latency."""
    from workloads.s4d.config import S4DConfig
    from workloads.s4d.model import S4DModel

    rng = np.random.default_rng(2)
    m = S4DModel.random(S4DConfig(d_in=1, n_classes=3, d_model=10, d_state=4, n_layers=1), rng)
    x = rng.random((3, 6, 1)).astype(np.float32)
    tile = {"preset": "pcm-default", "rows": 20, "cols": 40, "noise": {"programming": False}}
    cm = CostModel.load("22nm")
    lat = []
    for sim in ("block", "dense"):
        _, ledger, prog = m.on({"tile": tile, "ssm_sim": sim, "ssm_adc_range": "tile"}).logits(x, seed=3)
        lat.append(cm.price(ledger).per_layer["layers.0.ssm"]["latency_s"])
        serial_reads = ledger.counts[("layers.0.ssm", "tile_read")] * 100e-9  # the tiles' reads one after another
    ssm_tiles = sum(mat.n_tiles for _, mat in prog.groups[0])
    assert ssm_tiles >= 3  # several SSM tiles work in parallel
    assert lat[0] == pytest.approx(lat[1], rel=1e-9)
    assert serial_reads / ssm_tiles < lat[0] < serial_reads / ssm_tiles * 1.5  # one tile's reads, plus its ADC/digital
