"""QS4D mechanics (workloads/s4d/qs4d*.py): channel pruning frees tiles and leaves the kept channels alone, Abar on
a k-level grid holds exactly k levels and stays stable, the E5 arms differ only in what they are meant to."""

import numpy as np
import pytest

from aimc_sim.cost import Ledger
from aimc_sim.errors import ConfigError
from workloads.s4d import qs4d
from workloads.s4d.config import S4DConfig
from workloads.s4d.model import S4DModel
from workloads.s4d.qs4d_abar import abar_grid, quantise_abar_levels, with_abar_levels
from workloads.s4d.qs4d_prune import apply_pruning, channel_importance, keep_masks, prune_channels

TILE_3 = {"preset": "ideal", "rows": 20, "cols": 40}  # 2P+1 = 5: 4 channels per tile


def _model(rng, **kw):
    cfg = S4DConfig(**({"d_in": 1, "n_classes": 3, "d_model": 12, "d_state": 4, "n_layers": 2} | kw))
    return S4DModel.random(cfg, rng, dt_range=(0.1, 1.0))


def _tiles(model):
    prog = model.on({"tile": TILE_3}).program(np.random.default_rng(0), Ledger())
    return [sum(m.n_tiles for _, m in g) for g in prog.groups], prog.n_tiles()


@pytest.mark.parametrize("w_bits", [None, 4, "ternary"])
def test_pruning_frees_tiles_and_keeps_the_other_channels(rng, tmp_path, w_bits):
    m = _model(rng, w_bits=w_bits)
    x = rng.random((5, 16, 1)).astype(np.float32)
    keep = keep_masks(channel_importance(m, x), 8)
    p = prune_channels(m, keep)
    assert [int(lay.channel_mask.sum()) for lay in p.layers] == [8, 8]
    assert _tiles(m)[0] == [3, 3] and _tiles(p)[0] == [2, 2]  # 12 -> 8 channels at 4 per tile
    assert _tiles(p)[1] == _tiles(m)[1] - 2
    u = rng.standard_normal((3, 16, 12)).astype(np.float32)
    for i in range(2):  # same layer input: the kept channels' SSM outputs are unchanged, the pruned ones are 0
        y0, y1 = (mod.ssm_forward(i, u, "fused") * mod.layers[i].channel_mask for mod in (m, p))
        np.testing.assert_allclose(y1[..., keep[i]], y0[..., keep[i]], rtol=1e-5, atol=1e-6)
        assert np.all(y1[..., ~keep[i]] == 0)
    # the pruning survives a save / load (the checkpoint metadata lists the kept channels)
    q = apply_pruning(S4DModel.load(p.save(tmp_path / "p.safetensors")))
    assert [list(np.flatnonzero(lay.channel_mask)) for lay in q.layers] == [list(np.flatnonzero(k)) for k in keep]
    np.testing.assert_array_equal(q.forward(x), p.forward(x))


def test_importance_ranks_a_silenced_channel_last(rng):
    m = _model(rng)
    w = {k: v.copy() for k, v in m.weights.items()}
    w["layers.0.mix.weight"][:, 5] *= 1e-3  # channel 5 of layer 0 barely reaches the mixing layer
    s = channel_importance(S4DModel(m.config, w), rng.random((4, 16, 1)))
    assert int(np.argmin(s[0])) == 5
    assert not keep_masks(s, 11)[0][5]
    with pytest.raises(ConfigError, match="n_keep"):
        keep_masks(s, 13)


@pytest.mark.parametrize("k", [3, 4, 7, 15])
def test_abar_on_exactly_k_levels_and_stable(rng, k):
    H, P = 40, 8
    mag = 1.0 - 10 ** rng.uniform(-4, -0.5, (H, P))
    dA = mag * np.exp(1j * rng.uniform(0, np.pi, (H, P)))
    q, n_stepped = quantise_abar_levels(dA, k)
    grid = abar_grid(dA, k)
    for h in range(H):
        vals = np.concatenate([q[h].real, q[h].imag])
        assert np.all(np.min(np.abs(vals[:, None] - grid[h][None, :]), axis=1) < 1e-12)  # on the grid
    assert np.all(np.abs(q) <= 1 - 1e-4 + 1e-12)
    assert n_stepped > 0  # poles this close to 1 need stepping at these k
    # over many channels every one of the k levels is used, and no other value
    flat = np.concatenate([(q.real / grid[:, -1:]).ravel(), (q.imag / grid[:, -1:]).ravel()])
    assert len(np.unique(np.round(flat * (k - 1)))) == k


def test_abar_levels_model_rebuilds_the_fused_matrix(rng):
    m = _model(rng)
    q, _ = with_abar_levels(m, 7)
    assert q.layers[0].M is not m.layers[0].M
    assert not np.allclose(q.layers[0].M, m.layers[0].M)
    x = rng.random((2, 16, 1)).astype(np.float32)
    np.testing.assert_allclose(q.forward(x, "fused"), q.forward(x, "fft"), atol=1e-4)  # M matches dA
    same, n = with_abar_levels(m, None)
    assert n == 0 and np.array_equal(same.layers[1].M, m.layers[1].M)
    with pytest.raises(ConfigError, match="k"):
        quantise_abar_levels(m.layers[0].dA, 1)


def test_e5_arms_differ_only_as_intended(tmp_path, monkeypatch):
    """Every arm starts from the same parent with the same budget; QAT arms add --w-bits, noise arms --sigma-tr."""
    seen = {}
    monkeypatch.setattr(qs4d, "train", lambda out, argv: seen.setdefault(out.name, argv) and out)
    for arm in qs4d.ARMS:
        qs4d.arm_checkpoint(tmp_path, arm, 0, do_train=True)
    argv = {k.split("_s0")[0][3:]: v for k, v in seen.items()}
    common = ["--init-from", qs4d.PARENT, *qs4d.BUDGET]
    for arm, a in argv.items():
        assert a[: len(common)] == common, arm
        assert ("--w-bits" in a) == (arm in ("qat", "qat_noise", "hwa")), arm
        assert ("--sigma-tr" in a) == (arm in ("noise", "qat_noise")), arm
        assert ("--hwa-tile" in a) == (arm == "hwa"), arm
    assert argv["finetune"] == [*common, "--seed", "0"]
    tile = tmp_path / "ckpt" / "e5_device_tile.yaml"
    from aimc_sim.crossbar import load_tile_config
    from workloads.s4d.experiments import NOISE_TILE
    from workloads.s4d.hardware import S4DHardwareConfig

    e5 = S4DHardwareConfig.from_dict({"tile": NOISE_TILE, "prog_noise": 0.02}, "hw").tile_config()
    assert load_tile_config(str(tile)) == e5  # the HWA arm trains on exactly the E5 tile at sigma_p = 2 %
    with pytest.raises(ConfigError, match="--train"):
        qs4d.arm_checkpoint(tmp_path / "none", "qat", 0, do_train=False)
