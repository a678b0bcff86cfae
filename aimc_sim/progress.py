"""A small progress bar with rate and ETA, drawn on stderr; silent when stderr is not a terminal or in CI."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

__all__ = ["Progress", "format_duration"]


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s`` or ``1h02m``."""
    s = int(round(max(seconds, 0.0)))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


class Progress:
    """``Progress(total)``; call :meth:`update` per finished item and :meth:`close` at the end.

    ``enabled=None`` (default) draws only when ``stream`` is a TTY and the ``CI`` variable is unset;
    ``False`` never draws; ``True`` draws whenever ``stream`` is a TTY.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        width: int = 30,
        min_interval_s: float = 0.2,
    ):
        self.total = max(int(total), 0)
        self.desc = desc
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty and enabled is not False and (enabled is True or not os.environ.get("CI"))
        self.width = width
        self.min_interval_s = min_interval_s
        self.done = 0
        self.start = time.monotonic()
        self._last_draw = -1e9

    def line(self) -> str:
        """The current bar as text, e.g. ``sweep [#####-----] 5/10 2.0/s ETA 3s``."""
        frac = self.done / self.total if self.total else 1.0
        fill = int(round(frac * self.width))
        elapsed = time.monotonic() - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if self.done >= self.total:
            tail = f"done in {format_duration(elapsed)}"
        elif rate > 0:
            tail = f"ETA {format_duration((self.total - self.done) / rate)}"
        else:
            tail = "ETA ?"
        bar = "#" * fill + "-" * (self.width - fill)
        return f"{self.desc} [{bar}] {self.done}/{self.total} {rate:.2f}/s {tail}".strip()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished items and redraw (at most every ``min_interval_s``)."""
        self.done += n
        now = time.monotonic()
        if self.enabled and (now - self._last_draw >= self.min_interval_s or self.done >= self.total):
            self.stream.write("\r" + self.line())
            self.stream.flush()
            self._last_draw = now

    def close(self) -> None:
        """Draw the final state and end the line."""
        if self.enabled:
            self.stream.write("\r" + self.line() + "\n")
            self.stream.flush()
            self.enabled = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
