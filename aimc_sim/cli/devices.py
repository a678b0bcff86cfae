"""``aimc devices``: list the device-model presets with their sources."""

from __future__ import annotations

import argparse
import textwrap

COMMAND = "devices"
HELP = "list the device-model presets (PCM, RRAM, FeFET, ECRAM, ...) with their sources"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-v", "--verbose", action="store_true", help="also print descriptions and figures")


def run(args: argparse.Namespace) -> int:
    from device_models import list_presets, load_preset

    presets = list_presets()
    width = max(len(p.name) for p in presets)
    print(f"{'preset':<{width}}  {'model':<11}  {'window (uS)':<14}  source")
    for p in presets:
        m = load_preset(p.name)
        window = f"{m.g_min * 1e6:.3g}-{m.g_max * 1e6:.3g}"
        source = " ".join(p.source.split())
        print(f"{p.name:<{width}}  {p.model:<11}  {window:<14}  {textwrap.shorten(source, 100)}")
        if args.verbose:
            pad = " " * (width + 2)
            for line in textwrap.wrap(" ".join(p.description.split()), 100):
                print(pad + line)
            print(f"{pad}figure: {p.figure}")
            print(f"{pad}source: {source}")
            print(f"{pad}file:   {p.path}")
    print(f"\n{len(presets)} presets; `aimc device-report PRESET` plots one.")
    return 0
