"""``aimc devices`` and ``aimc device-report``."""

from aimc_sim.cli import main


def test_aimc_devices_lists_presets_with_sources(capsys):
    assert main(["devices"]) == 0
    out = capsys.readouterr().out
    for name in ("pcm", "pcm-hermes", "rram", "rram-binary", "fefet", "ecram"):
        assert f"\n{name} " in out
    assert "Nandakumar" in out and "Le Gallo" in out and "Deng" in out


def test_device_report_writes_four_pngs(tmp_path, capsys):
    for preset in ("pcm", "rram-binary"):
        out = tmp_path / preset
        assert main(["device-report", preset, "-o", str(out), "-n", "40"]) == 0
        names = sorted(p.name for p in out.glob("*.png"))
        assert names == [
            "conductance_vs_time.png",
            "programming_error.png",
            "pulse_response.png",
            "variability_histogram.png",
        ]
        assert all((out / n).stat().st_size > 10_000 for n in names)
    assert str(tmp_path / "pcm") in capsys.readouterr().out


def test_device_report_unknown_preset(capsys):
    assert main(["device-report", "nope"]) == 2
    assert "unknown preset 'nope'; available:" in capsys.readouterr().err
