"""aimc-sim engine: crossbar tiles, mixed-signal circuits, cost accounting, sweeps and the CLI."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("aimc-sim")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+local"
