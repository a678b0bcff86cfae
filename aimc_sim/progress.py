"""Progress bars (tqdm) on stderr, silent when stderr is not a terminal or in CI; and a duration formatter."""

from __future__ import annotations

import os
import sys
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

    A :class:`tqdm.tqdm` bar (count, rate, elapsed and ETA). ``enabled=None`` (default) draws only when
    ``stream`` is a TTY and the ``CI`` variable is unset; ``False`` never draws; ``True`` draws whenever
    ``stream`` is a TTY.
    """

    def __init__(
        self,
        total: int,
        desc: str = "",
        stream: TextIO | None = None,
        enabled: bool | None = None,
        min_interval_s: float = 0.2,
    ):
        from tqdm import tqdm

        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.enabled = tty and enabled is not False and (enabled is True or not os.environ.get("CI"))
        self._bar = tqdm(
            total=max(int(total), 0),
            desc=desc or None,
            file=self.stream,
            disable=not self.enabled,
            mininterval=min_interval_s,
            unit="pt",
            dynamic_ncols=True,
        )

    @property
    def done(self) -> int:
        return int(self._bar.n)

    def update(self, n: int = 1) -> None:
        """Count ``n`` more finished items and redraw (at most every ``min_interval_s``)."""
        self._bar.update(n)

    def close(self) -> None:
        """Draw the final state and end the line."""
        self._bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
