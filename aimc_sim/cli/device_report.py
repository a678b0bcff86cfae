"""``aimc device-report PRESET [-o DIR]``: PNG plots of one device model.

Four plots: programming error vs target, conductance vs time (median and 1σ band), pulse
response (potentiation then depression) and a variability histogram. Conductances are shown
in µS (converted here, at the edge).
"""

from __future__ import annotations

import argparse
from pathlib import Path

COMMAND = "device-report"
HELP = "write PNG plots of a device preset: programming error, drift/relaxation, pulse response, variability"

US = 1e-6
# Pulse (amplitude V, width s, potentiating pulses, depressing pulses) per model family for the
# pulse-response plot; update-law families use their state count instead (see _pulse_plan).
_PULSES = {
    "pcm": (1.0, 50e-9, 60, 3),
    "rram_binary": (None, None, 12, 12),
    "fefet": (1.5, 100e-9, 60, 60),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("preset", help="a shipped preset name (see `aimc devices`) or a preset YAML file")
    parser.add_argument(
        "-o", "--output", metavar="DIR", help="output directory (default aimc-out/device-report-PRESET)"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the random generator (default 0)")
    parser.add_argument("-n", "--devices", type=int, default=2000, help="devices per target (default 2000)")


def _pulse_plan(model, family: str) -> tuple[float, float, int, int]:
    cfg = model.config
    if family == "rram_binary":
        return cfg.v_set, cfg.t_ref, *_PULSES[family][2:]
    if family in _PULSES:
        return _PULSES[family]
    n = int(min(max(1.2 * cfg.update.states, 20), 10_000))
    return 1.0, 1e-6, n, n


def _band(ax, x, samples, label, color):
    import numpy as np

    lo, med, hi = np.percentile(samples, [15.87, 50.0, 84.13], axis=-1)
    ax.fill_between(x, lo, hi, color=color, alpha=0.25, linewidth=0)
    ax.plot(x, med, color=color, label=label)


def _finish(fig, ax, path: Path, title: str) -> Path:
    ax.set_title(title, fontsize=11)
    ax.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


def write_report(name: str, out: Path, seed: int, n: int) -> list[Path]:
    """Write the four PNGs for preset ``name`` into ``out``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from device_models import load_preset

    model = load_preset(name)
    family = model.family
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    g_lo, g_hi = model.g_min, model.g_max
    label = model.name
    paths = []

    # 1. programming error vs target
    targets = np.linspace(g_lo, g_hi, 41)
    state = model.program(np.repeat(targets[:, None], n // 4, axis=1), rng)
    err = (state.g0 - state.g_target) / US
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    _band(ax, targets / US, err, "median, 16-84 % band", "C0")
    ax.plot(targets / US, err.std(axis=1), "k--", lw=1, label="std")
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xlabel("target conductance (µS)")
    ax.set_ylabel("programming error G_P - G_T (µS)")
    ax.legend(fontsize=9)
    paths.append(_finish(fig, ax, out / "programming_error.png", f"{label}: programming error vs target"))
    plt.close(fig)

    # 2. conductance vs time (a binary device has two levels only)
    fracs = (0.0, 1.0) if family == "rram_binary" else (0.25, 0.5, 0.9)
    times = np.logspace(0, 8, 33)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, frac in enumerate(fracs):
        g_t = g_lo + frac * (g_hi - g_lo)
        st = model.program(np.full(n, g_t), rng)
        reads = np.stack([model.conductance(st, float(t), rng) for t in times])
        _band(ax, times, reads / US, f"target {g_t / US:.3g} µS", f"C{i}")
    ax.set_xscale("log")
    ax.set_xlabel("time since programming (s)")
    ax.set_ylabel("conductance (µS)")
    if family == "rram_binary":
        ax.set_yscale("log")
    else:
        lo, hi = ax.get_ylim()
        ax.set_ylim(lo, hi + 0.35 * (hi - lo))  # room for the legend
    ax.legend(fontsize=9, title="median, 1σ band", title_fontsize=9, loc="upper right", ncol=3 if len(fracs) > 2 else 2)
    paths.append(_finish(fig, ax, out / "conductance_vs_time.png", f"{label}: conductance vs time"))
    plt.close(fig)

    # 3. pulse response: potentiation from g_min, then depression
    amp, width, n_up, n_down = _pulse_plan(model, family)
    m = min(n, 200)
    st = model.program(np.full(m, g_lo), rng)
    trace = [st.g0]
    for k in range(n_up + n_down):
        up = k < n_up
        a = amp if up or family != "rram_binary" else model.config.v_reset
        st = model.pulse(st, 1 if up else -1, a, width, rng)
        trace.append(st.g0)
    trace = np.stack(trace)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    pulses = np.arange(trace.shape[0])
    _band(ax, pulses, trace / US, f"{m} devices: median, 1σ band", "C0")
    ax.plot(pulses, trace[:, 0] / US, color="C3", lw=0.7, alpha=0.8, label="one device")
    ax.axvline(n_up, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel(
        f"pulse number: 1-{n_up} potentiation, {n_up + 1}-{n_up + n_down} depression\n"
        f"(amplitude {amp:g} V, width {width:g} s)"
    )
    ax.set_ylabel("conductance (µS)")
    ax.legend(fontsize=9, loc="lower center")
    paths.append(_finish(fig, ax, out / "pulse_response.png", f"{label}: pulse response"))
    plt.close(fig)

    # 4. variability histogram at t = 1 h
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, frac in enumerate(fracs):
        g_t = g_lo + frac * (g_hi - g_lo)
        g = model.conductance(model.program(np.full(4 * n, g_t), rng), 3600.0, rng) / US
        bins = np.geomspace(g.min(), g.max(), 60) if family == "rram_binary" else 60
        ax.hist(g, bins=bins, alpha=0.55, color=f"C{i}", label=f"target {g_t / US:.3g} µS: σ = {g.std():.3g} µS")
    if family == "rram_binary":
        ax.set_xscale("log")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_xlabel("conductance at t = 1 h (µS)")
    ax.set_ylabel("devices")
    ax.legend(fontsize=9)
    paths.append(_finish(fig, ax, out / "variability_histogram.png", f"{label}: device-to-device variability"))
    plt.close(fig)
    return paths


def run(args: argparse.Namespace) -> int:
    from device_models import ConfigError, load_preset

    if args.devices < 8:
        raise ConfigError("--devices", f"must be an integer >= 8, got {args.devices}")
    name = load_preset(args.preset).name
    out = Path(args.output) if args.output else Path("aimc-out") / f"device-report-{name}"
    for path in write_report(args.preset, out, args.seed, args.devices):
        print(f"wrote {path}")
    print(f"device report for {name} in {out}/")
    return 0
