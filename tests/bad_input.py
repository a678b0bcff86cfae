"""Helpers of the bad-input suite (tests/test_bad_input_*.py): snapshot a folder, run the CLI, assert.

Every case asserts two things: the error is clear (an aimc-sim error, or exit status 2 with one line
``aimc CMD: error: ...`` on stderr, naming the field, file or node) and nothing was created or changed.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from aimc_sim.cli import main
from aimc_sim.errors import AimcError

HERE = Path(__file__).resolve().parent


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Every file and folder under ``root`` (hidden ones too) with its size and content hash."""
    out: dict[str, tuple[int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for d in dirnames:
            out[os.path.relpath(os.path.join(dirpath, d), root) + "/"] = (0, "")
        for f in filenames:
            p = Path(dirpath) / f
            data = p.read_bytes() if p.is_file() else b""
            out[str(p.relative_to(root))] = (len(data), hashlib.sha256(data).hexdigest())
    return out


def cli_error(capsys, args: list[str], *expected: str) -> str:
    """Run ``aimc ARGS``: exit status 2, one clear error line naming every ``expected`` text; returns it."""
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2, f"exit status {rc}, stderr: {err}"
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines and lines[-1].startswith(f"aimc {args[0]}: error: "), err
    assert "Traceback" not in err, err
    for text in expected:
        assert text in err, f"{text!r} not in: {err}"
    return err


def refused(folder: Path, call, *expected: str, error: type[Exception] = AimcError) -> Exception:
    """``call()`` raises ``error`` whose text holds every ``expected`` text, and ``folder`` is unchanged."""
    before = snapshot(folder)
    with pytest.raises(error) as e:
        call()
    for text in expected:
        assert text in str(e.value), f"{text!r} not in: {e.value}"
    assert snapshot(folder) == before
    return e.value


def cli_refused(capsys, folder: Path, args: list[str], *expected: str) -> str:
    """:func:`cli_error`, and ``folder`` is unchanged."""
    before = snapshot(folder)
    err = cli_error(capsys, args, *expected)
    assert snapshot(folder) == before
    return err
