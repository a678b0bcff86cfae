"""The chip engine's numba cache is dropped when the kernels it inlines change (numba alone would keep it)."""

from chip_models.texel import _engine


def test_engine_cache_entries_are_dropped_when_the_kernels_change(tmp_path, monkeypatch):
    kernels = tmp_path / "_kernels.py"
    kernels.write_text("x = 1\n")
    engine = tmp_path / "_engine.py"
    engine.write_text("")
    cache = tmp_path / "__pycache__"
    cache.mkdir()
    entry = cache / "_engine.run_chip-1.py311.nbi"
    other = cache / "_kernels.step-1.py311.nbi"
    monkeypatch.setattr(_engine, "__file__", str(engine))
    monkeypatch.setattr(_engine.K, "__file__", str(kernels))

    entry.write_text("compiled")
    other.write_text("compiled")
    _engine._drop_stale_cache()  # no stamp yet: entries of unknown provenance are dropped
    assert not entry.exists() and other.exists()

    entry.write_text("compiled")
    _engine._drop_stale_cache()  # same kernels: kept
    assert entry.exists()

    kernels.write_text("x = 2\n")
    _engine._drop_stale_cache()  # kernels edited: dropped
    assert not entry.exists() and other.exists()


def test_importing_the_engine_leaves_a_current_stamp():
    assert (_engine.Path(_engine.__file__).with_name("__pycache__") / "_engine.kernels.sha256").is_file()
