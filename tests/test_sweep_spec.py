"""Sweep specs: expansion of grid / zip / random axes, content hashes, derived seeds, errors."""

from __future__ import annotations

import numpy as np
import pytest

from aimc_sim.errors import ConfigError
from aimc_sim.sweep import content_hash, derive_seed, expand_points, load_spec

BASE = {"size": 8, "noise": 0.0, "bits": 8, "hw": {"adc": {"bits": 8}, "preset": "pcm"}}


def spec(**over):
    data = {"evaluator": "sweep_helpers:noisy_matmul", "base": BASE, "axes": [], "seeds": 1}
    data.update(over)
    return load_spec(data)


def test_grid_is_cartesian_product_in_order_times_seeds():
    s = spec(axes=[{"kind": "grid", "params": {"noise": [0.0, 0.1], "hw.preset": ["pcm", "rram", "ecram"]}}], seeds=2)
    pts = expand_points(s)
    assert len(pts) == 2 * 3 * 2
    assert [(p.params["noise"], p.params["hw.preset"], p.seed) for p in pts[:4]] == [
        (0.0, "pcm", 0),
        (0.0, "pcm", 1),
        (0.0, "rram", 0),
        (0.0, "rram", 1),
    ]
    assert pts[2].config["hw"]["preset"] == "rram" and pts[2].config["hw"]["adc"]["bits"] == 8
    assert BASE["hw"]["preset"] == "pcm"  # the base is not mutated


def test_zip_steps_lists_together_and_axes_multiply():
    s = spec(
        axes=[
            {"kind": "zip", "params": {"noise": [0.0, 0.1, 0.2], "bits": [8, 6, 4]}},
            {"kind": "grid", "params": {"hw.adc.bits": [4, 8]}},
        ]
    )
    pts = expand_points(s)
    assert len(pts) == 6
    assert [(p.params["noise"], p.params["bits"]) for p in pts[::2]] == [(0.0, 8), (0.1, 6), (0.2, 4)]


def test_range_values_linear_and_log():
    s = spec(axes=[{"kind": "grid", "params": {"noise": {"low": 0.0, "high": 0.1, "count": 5}}}])
    assert [p.params["noise"] for p in expand_points(s)] == pytest.approx(np.linspace(0, 0.1, 5))
    s = spec(axes=[{"kind": "grid", "params": {"noise": {"low": 1e-3, "high": 1e-1, "count": 3, "log": True}}}])
    assert [p.params["noise"] for p in expand_points(s)] == pytest.approx([1e-3, 1e-2, 1e-1])


def test_random_axis_is_reproducible_bounded_and_follows_the_spec_seed():
    axis = {
        "kind": "random",
        "count": 50,
        "params": {"noise": {"low": 1e-3, "high": 1e-1, "log": True}, "bits": [4, 8]},
    }
    a = [p.params for p in expand_points(spec(axes=[axis]))]
    b = [p.params for p in expand_points(spec(axes=[axis]))]
    c = [p.params for p in expand_points(spec(axes=[axis], seed=1))]
    assert a == b and a != c
    noise = np.array([p["noise"] for p in a])
    assert np.all((noise >= 1e-3) & (noise <= 1e-1))
    assert np.mean(np.log10(noise) < -2) == pytest.approx(0.5, abs=0.25)  # log-uniform: half below 1e-2
    assert {p["bits"] for p in a} == {4, 8}


def test_hash_is_content_based_and_seed_streams_are_distinct():
    h1 = content_hash("m:f", {"a": 1, "b": {"c": 2.5}}, 0, 0)
    assert h1 == content_hash("m:f", {"b": {"c": 2.5}, "a": 1}, 0, 0)  # key order does not matter
    assert h1 != content_hash("m:f", {"a": 1, "b": {"c": 2.5}}, 1, 0)
    assert h1 != content_hash("m:f", {"a": 1, "b": {"c": 2.5}}, 0, 1)
    assert h1 != content_hash("m:g", {"a": 1, "b": {"c": 2.5}}, 0, 0)
    assert len(h1) == 64
    pts = expand_points(spec(axes=[{"kind": "grid", "params": {"noise": [0.0, 0.1]}}], seeds=[3, 5]))
    assert len({p.rng_seed for p in pts}) == 4 and all(0 <= p.rng_seed < 2**63 for p in pts)
    assert derive_seed(0, pts[0].hash) == pts[0].rng_seed


@pytest.mark.parametrize(
    ("over", "path", "words"),
    [
        ({"axes": [{"params": {"hw.adc.bitz": [4]}}]}, "axes[0].params[hw.adc.bitz]", "unknown parameter 'bitz'"),
        ({"axes": [{"params": {"size.x": [4]}}]}, "axes[0].params[size.x]", "is a value, not a section"),
        ({"axes": [{"kind": "zip", "params": {"noise": [0, 1], "bits": [4]}}]}, "axes[0].params", "equal length"),
        ({"axes": [{"kind": "random", "params": {"noise": [0, 1]}}]}, "axes[0].count", "needs an integer count"),
        ({"axes": [{"kind": "grid", "count": 3, "params": {"noise": [0]}}]}, "axes[0].count", "only a random axis"),
        ({"axes": [{"kind": "cube", "params": {"noise": [0]}}]}, "axes[0].kind", "must be one of"),
        ({"axes": [{"params": {"noise": []}}]}, "axes[0].params[noise]", "at least one value"),
        ({"axes": [{"params": {"noise": 0.1}}]}, "axes[0].params[noise]", "must be a list"),
        ({"axes": [{"params": {"noise": {"low": 1, "high": 0, "count": 2}}}]}, "axes[0].params[noise].high", ">= low"),
        ({"axes": [{"params": {"noise": {"low": 0, "high": 1, "count": 2, "log": True}}}]}, "noise].low", "> 0"),
        ({"axes": [{"params": {"noise": {"low": 0, "high": 1}}}]}, "axes[0].params[noise].count", "integer >= 1"),
        ({"axes": [{"params": {"noise": {"low": 0, "hi": 1, "count": 2}}}]}, "axes[0].params[noise]", "unknown key"),
        ({"axes": [{"params": {"noise": [0]}}, {"params": {"noise": [1]}}]}, "axes[1].params[noise]", "already swept"),
        ({"evaluator": "workloads.api.evaluate"}, "evaluator", "module:function"),
        ({"seeds": 0}, "seeds", ">= 1"),
        ({"seeds": [1, 1]}, "seeds", "repeat"),
        ({"outptu": "x.h5"}, "outptu", "unknown field"),
    ],
)
def test_bad_spec_names_the_field(over, path, words):
    with pytest.raises(ConfigError) as e:
        spec(**over)
    assert path in e.value.path and words in e.value.message, str(e.value)


def test_malformed_yaml_names_file_and_line(tmp_path):
    f = tmp_path / "bad.yaml"
    f.write_text("base: {size: 8\naxes: [\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: malformed YAML \(line"):
        load_spec(f)
