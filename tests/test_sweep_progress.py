"""The progress bar (tqdm): draws count, rate and ETA on a TTY, stays silent otherwise and in CI."""

from __future__ import annotations

import io

from aimc_sim.progress import Progress, format_duration


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_on_a_tty_with_count_rate_and_eta(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    out = FakeTTY()
    bar = Progress(4, desc="sweep", stream=out, min_interval_s=0.0)
    bar.update()
    assert "sweep" in out.getvalue() and "1/4" in out.getvalue() and "<" in out.getvalue()  # elapsed<remaining
    bar.update(3)
    bar.close()
    assert out.getvalue().endswith("\n") and "4/4" in out.getvalue() and "pt/s" in out.getvalue()
    assert bar.done == 4


def test_silent_when_not_a_tty_or_in_ci(monkeypatch):
    out = io.StringIO()
    bar = Progress(3, stream=out)
    bar.update(3)
    bar.close()
    assert out.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    tty = FakeTTY()
    bar = Progress(3, stream=tty)
    bar.update(3)
    bar.close()
    assert tty.getvalue() == ""


def test_format_duration():
    assert [format_duration(s) for s in (4.4, 65, 3725)] == ["4s", "1m05s", "1h02m"]
