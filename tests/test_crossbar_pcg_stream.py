"""The kernels' PCG64 stream (aimc_sim/crossbar/pcg_stream.py) against numpy's own Generator draws."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba.np.random._constants import ziggurat_nor_r

from aimc_sim.crossbar import _kernels
from aimc_sim.crossbar._kernels import AdcState, Conversion, Digital, Draws
from aimc_sim.crossbar.pcg_stream import _BLOCK, fill_rows, stream_source


def test_stream_equals_numpy_draws_and_state():
    """Normals (including the ziggurat's tail and wedge rejections) and uniforms bit for bit equal to
    Generator.standard_normal / Generator.random drawn row by row, and numpy continues the same sequence after."""
    for seed, (B, m, mu) in enumerate([(400, 1237, 3), (3, 5, 0), (1, 1, 1)]):
        mine, ref = np.random.default_rng(seed), np.random.default_rng(seed)
        mine.standard_normal(7)  # numpy draws before the kernel move the live state the kernel starts from
        ref.standard_normal(7)
        z, u = np.empty((B, m)), np.empty((B, mu))
        fill_rows(stream_source(mine), z, u)
        zr, ur = np.empty((B, m)), np.empty((B, mu))
        for b in range(B):
            zr[b] = ref.standard_normal(m)
            ur[b] = ref.random(mu)
        np.testing.assert_array_equal(z, zr)
        np.testing.assert_array_equal(u, ur)
        assert mine.bit_generator.state == ref.bit_generator.state
        np.testing.assert_array_equal(mine.standard_normal(9), ref.standard_normal(9))
        if B * m > 100_000:  # the draws went through the tail beyond r (idx 0) at least once
            assert np.abs(zr).max() > ziggurat_nor_r


def test_stream_source_falls_back_to_the_generator():
    """Other bit generators are returned as they are (the ADC kernel then draws through numba's Generator)."""
    rng = np.random.Generator(np.random.Philox(5))
    assert stream_source(rng) is rng


def test_stream_source_falls_back_without_numbas_ziggurat_tables(monkeypatch):
    """A numba that moved its private copy of numpy's tables must not break the tile: numpy draws instead."""
    import aimc_sim.crossbar.pcg_stream as pcg

    rng = np.random.default_rng(5)
    assert stream_source(rng) is not rng
    monkeypatch.setattr(pcg, "_HAVE_TABLES", False)
    assert stream_source(rng) is rng


def test_adc_kernel_same_output_from_stream_and_generator():
    """adc_accumulate on rows drawn ahead from the live PCG64 state equals the Generator path (outputs and the state
    after), with and without stochastic rounding."""
    r = np.random.default_rng(0)
    B, m = 50, 70
    sig, var = r.standard_normal((B, m)), r.uniform(0, 0.1, (B, m))
    adc = AdcState(np.ones(m), np.zeros(m), np.full(m, 3.0), np.empty((m, 0)))
    dig = Digital(1.0, np.ones((B, 1)), np.ones(m), False)
    for sto in (False, True):
        conv = Conversion(254.0, True, True, True, sto)
        outs, states = [], []
        for use_stream in (True, False):
            rng = np.random.default_rng(9)
            out = np.empty((B, m))
            src = rng
            if use_stream:
                src = Draws(np.empty((B, m)), np.empty((B, m if sto else 0)))
                fill_rows(stream_source(rng), src.normals, src.uniforms)
            _kernels.adc_accumulate(sig, var, np.full((B, 1), 0.01), adc, conv, dig, out, np.zeros((B, 1), bool), src)
            outs.append(out)
            states.append(rng.bit_generator.state)
        np.testing.assert_array_equal(outs[0], outs[1])
        assert states[0] == states[1]


def test_tile_copies_draw_from_their_own_generator():
    """A pickled or deep-copied tile draws its noise from its own generator (not from the original's live state):
    the copy and the original give the same next outputs, and each one's generator moves past its own draws."""
    import copy
    import pickle

    from aimc_sim.crossbar import AnalogTile, load_tile_config

    rng = np.random.default_rng(4)
    W, x = rng.standard_normal((20, 12)), rng.standard_normal((5, 20))
    tile = AnalogTile(load_tile_config("pcm-default"), W, rng)
    tile.mvm(x, t=3600.0)
    for make_copy in (lambda a: pickle.loads(pickle.dumps(a)), copy.deepcopy):
        clone = make_copy(tile)
        y_clone = clone.mvm(x, t=3600.0)
        y_clone2 = clone.mvm(x, t=3600.0)
        np.testing.assert_array_equal(tile.mvm(x, t=3600.0), y_clone)
        np.testing.assert_array_equal(tile.mvm(x, t=3600.0), y_clone2)
        assert clone.stack.noise_rngs[0].bit_generator.state == tile.stack.noise_rngs[0].bit_generator.state
        tile = clone


def _numpy_rows(rng: np.random.Generator, B: int, m: int, mu: int) -> tuple[np.ndarray, np.ndarray]:
    """Generator.standard_normal(m) then Generator.random(mu), row by row: what fill_rows must reproduce."""
    z, u = np.empty((B, m)), np.empty((B, mu))
    for b in range(B):
        z[b] = rng.standard_normal(m)
        u[b] = rng.random(mu)
    return z, u


def _assert_same_as_numpy(seed: int, skip_raw: int, B: int, m: int, mu: int) -> None:
    """fill_rows on a generator advanced by ``skip_raw`` raw outputs equals numpy's draws from a twin, and both
    generators end in the same state."""
    mine, ref = np.random.default_rng(seed), np.random.default_rng(seed)
    mine.bit_generator.advance(skip_raw)
    ref.bit_generator.advance(skip_raw)
    z, u = np.empty((B, m)), np.empty((B, mu))
    fill_rows(stream_source(mine), z, u)
    zr, ur = _numpy_rows(ref, B, m, mu)
    np.testing.assert_array_equal(z, zr)
    np.testing.assert_array_equal(u, ur)
    assert mine.bit_generator.state == ref.bit_generator.state


@given(
    seed=st.integers(0, 2**32 - 1),
    skip_raw=st.integers(0, 3 * _BLOCK),
    B=st.integers(0, 5),
    m=st.integers(0, 2 * _BLOCK + 100),
    mu=st.integers(0, 80),
)
@settings(max_examples=60, deadline=None)
def test_any_row_sizes_with_interleaved_uniforms(seed, skip_raw, B, m, mu):
    """Row lengths around and across the stream's blocks, uniforms between the rows (shifting where each row starts
    in a block), any start in the raw stream: always numpy's numbers and state."""
    _assert_same_as_numpy(seed, skip_raw, B, m, mu)


@functools.cache
def _normal_draws(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(index of the first raw output, number of raw outputs) of each of numpy's first n standard normals, found by
    stepping a twin PCG64 until its state matches the generator's after each draw (numpy only, no ziggurat)."""
    rng, twin = np.random.default_rng(seed), np.random.PCG64(seed)
    starts, lengths, used = np.empty(n, np.int64), np.empty(n, np.int64), 0
    for i in range(n):
        rng.standard_normal()
        starts[i] = used
        while twin.state["state"]["state"] != rng.bit_generator.state["state"]["state"]:
            twin.advance(1)
            used += 1
        lengths[i] = used - starts[i]
    return starts, lengths


@pytest.mark.parametrize("at", [_BLOCK - 1, _BLOCK - 2])
@pytest.mark.parametrize("kind", ["wedge accepted", "wedge then a new candidate", "tail"])
def test_slow_paths_running_past_the_block(at, kind):
    """A normal whose first candidate is rejected at the last or second-to-last raw output of a block, so that its
    uniforms (wedge, tail) or its next candidate come from the next block: the stream is started so that numpy's
    draw of that kind begins at block index ``at``."""
    seed = 0
    starts, lengths = _normal_draws(seed, 20_000)
    layer = np.random.PCG64(seed).random_raw(int(starts[-1] + lengths[-1])) & np.uint64(0xFF)
    slow = lengths > 1
    is_kind = {
        "wedge accepted": slow & (lengths == 2) & (layer[starts] != 0),
        "wedge then a new candidate": slow & (lengths > 2) & (layer[starts] != 0),
        "tail": slow & (layer[starts] == 0),
    }[kind]
    aligned = np.isin(starts - at, starts)  # a draw starts at the stream's start, so the draws line up with numpy's
    hits = starts[is_kind & aligned & (starts >= at)]
    assert hits.size, f"no {kind} draw to place at block index {at}"
    _assert_same_as_numpy(seed, int(hits[0] - at), 3, 700, 0)
