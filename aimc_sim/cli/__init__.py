"""The ``aimc`` command line.

Each sub-command is a module in this package that defines ``COMMAND`` (its name), ``HELP``
(one line), ``add_arguments(parser)`` and ``run(args) -> int``. Modules are found
automatically, so adding a command means adding one module. Keep module-level imports light:
import heavy dependencies inside ``run``.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from aimc_sim import __version__
from aimc_sim.errors import AimcError


def _commands() -> dict[str, object]:
    found = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "COMMAND"):
            found[module.COMMAND] = module
    return dict(sorted(found.items()))


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="aimc",
        description="aimc-sim: analog in-memory computing and mixed-signal neuromorphic hardware simulator",
    )
    parser.add_argument("--version", action="version", version=f"aimc-sim {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, module in _commands().items():
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``aimc`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except AimcError as e:
        print(f"aimc {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"aimc {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
