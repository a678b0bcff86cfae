"""Figures of the TEXEL experiments (matplotlib, Agg). Each ``plot_*`` writes one PNG and returns its path."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _fig(nrows: int = 1, ncols: int = 1, size: tuple[float, float] = (7.0, 4.5)):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(nrows, ncols, figsize=size, constrained_layout=True)
    return plt, fig, ax


def _save(plt, fig, path: Path) -> Path:
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_adaptation(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (10, 4))
    for i_dc, st in zip(d["currents"], d["trains"]):
        if st.size > 1:
            a.plot(st[1:] * 1e3, 1.0 / np.diff(st), ".-", ms=3, label=f"{i_dc * 1e9:.0f} nA")
    a.set(xlabel="time after DC step (ms)", ylabel="instantaneous rate (Hz)", title="Spike-frequency adaptation")
    a.legend(fontsize=8)
    b.plot(d["currents"] * 1e9, d["f0"], "o-", label="f0 (peak)")
    b.plot(d["currents"] * 1e9, d["fss"], "s-", label="f_ss (steady)")
    b.axhline(1.0 / d["t_ref"], color="grey", ls=":", label="1/t_ref")
    b.set(xlabel="DC input (nA)", ylabel="rate (Hz)", title="f–I curve")
    b.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_trace_gating(d: dict, path: Path, blocked: dict | None = None) -> Path:
    rows = 4 if blocked is None else 5
    plt, fig, ax = _fig(rows, 1, (8, 1.9 * rows))
    p = d["probes"]
    t = p["t"] * 1e3
    for a, b in d["bursts"]:
        for x in ax:
            x.axvspan(a * 1e3, b * 1e3, color="orange", alpha=0.15)
    ax[0].eventplot([d["pre"] * 1e3, d["post"] * 1e3], lineoffsets=[1, 0], colors=["C0", "C3"])
    ax[0].set(yticks=[0, 1], yticklabels=["post", "pre"], title="F3a: traces (orange: post bursts)")
    ax[1].plot(t, p["x_pre"], label="x_pre")
    ax[1].plot(t, p["x_post"], label="x_post")
    ax[1].axhline(0.5, color="grey", ls=":", label="θ_post = θ_pre")
    ax[1].legend(fontsize=8, loc="upper right")
    ax[2].plot(t, p["x_ca"], color="C2", label="x_ca")
    ax[2].axhline(d["theta_ca_low"], color="grey", ls=":", label="θ_ca,low")
    ax[2].legend(fontsize=8, loc="upper right")
    ax[3].plot(t, p["rho"], color="k", label=f"ρ (θ_ca,low = {d['theta_ca_low']})")
    ax[3].legend(fontsize=8, loc="upper right")
    if blocked is not None:
        ax[4].plot(blocked["probes"]["t"] * 1e3, blocked["probes"]["rho"], color="k", label="ρ, gate never opens")
        ax[4].plot(blocked["probes"]["t"] * 1e3, blocked["probes"]["x_ca"], color="C2", alpha=0.6, label="x_ca")
        ax[4].axhline(blocked["theta_ca_low"], color="grey", ls=":", label=f"θ_ca,low = {blocked['theta_ca_low']}")
        ax[4].legend(fontsize=8, loc="upper right")
    ax[-1].set(xlabel="time (ms)")
    return _save(plt, fig, path)


def plot_stdp(full: dict, off: dict, path: Path) -> Path:
    plt, fig, ax = _fig(size=(7, 4.5))
    ax.plot(full["dt"] * 1e3, full["drho"], "o-", ms=3, label="all branches (F3b)")
    ax.plot(off["dt"] * 1e3, off["drho"], "s--", ms=3, label="ρ_neg = 0: Δt > 0 branch off (F3c)")
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set(xlabel="Δt = t_pre − t_post (ms)", ylabel="Δρ (analog weight)", title="STDP, isolated pairs, drift off")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_srdp(maps: list[dict], path: Path) -> Path:
    plt, fig, ax = _fig(len(maps), 2, (10, 3.8 * len(maps)))
    ax = np.atleast_2d(ax)
    for row, d in zip(ax, maps):
        for a, key, title in ((row[0], "p_up", "P(low → high)"), (row[1], "p_down", "P(high → low)")):
            im = a.imshow(d[key], origin="lower", vmin=0, vmax=1, cmap="viridis", aspect="auto")
            a.set_xticks(range(len(d["rates_post"])), [f"{r:.0f}" for r in d["rates_post"]])
            a.set_yticks(range(len(d["rates_pre"])), [f"{r:.0f}" for r in d["rates_pre"]])
            gate = "no upper Ca gate" if d["theta_ca_high"] is None else f"θ_ca,high = {d['theta_ca_high']}"
            a.set(xlabel="ν_post drive (Hz)", ylabel="ν_pre (Hz)", title=f"{title}, {gate}")
            fig.colorbar(im, ax=a)
    return _save(plt, fig, path)


def plot_retention(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (10, 4))
    a.plot(d["t"], d["rho"])
    a.axhline(0.5, color="grey", ls=":", label="θ_ρ")
    a.set(xlabel="time (s)", ylabel="ρ", title="Bistable drift after partial updates")
    a.legend(fontsize=8)
    x = np.arange(d["before"].size)
    b.bar(x - 0.2, d["before"].astype(float), 0.4, label="before power cycle")
    b.bar(x + 0.2, d["after"].astype(float), 0.4, label="after (read back from devices)")
    b.set(xlabel="synapse", ylabel="binary weight", title="Simulated power cycle", ylim=(0, 1.3))
    b.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_read(sweep: dict, compat: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (11, 4.5))
    for c, y in zip(sweep["c_dev"], sweep["ratio"]):
        a.semilogx(sweep["r_neg"], 100 * y, label=f"ratio law, C_dev = {c * 1e15:.0f} fF")
    a.semilogx(sweep["r_neg"], 100 * sweep["hard"], "--", label="hard threshold")
    a.axvline(1e9, color="grey", ls=":", label="R_pos = 1 GΩ")
    a.set(xlabel="R_neg (Ω)", ylabel="I_norm (% of norm_bias)", title="F4b: differential read, T = 500 µs")
    a.legend(fontsize=8)
    im = b.pcolormesh(compat["on_off"], compat["c_dev"] * 1e15, 100 * compat["out"], shading="auto", cmap="magma")
    b.set(xscale="log", yscale="log", xlabel="G_on/G_off", ylabel="C_dev (fF)", title="F4c/d: high-state output (%)")
    b.contour(compat["on_off"], compat["c_dev"] * 1e15, 100 * compat["out"], levels=[50], colors="w")
    b.plot(*[[compat["ref"][1]], [compat["ref"][0] * 1e15]], "c*", ms=14, label="reference device")
    b.axhline(compat["t_read"] / 1e9 * 1e15, color="c", ls=":", label="R_on·C = T_read")
    b.legend(fontsize=8, loc="lower right")
    fig.colorbar(im, ax=b)
    return _save(plt, fig, path)


def plot_write_cycling(d: dict, path: Path) -> Path:
    plt, fig, (a, b, c) = _fig(1, 3, (15, 4.5))
    q_all = np.concatenate([d["q_high"].ravel(), d["q_low"].ravel()]) * 1e12
    bins = np.linspace(0.0, q_all.max() * 1.02, 60)
    for s, qh, ql in zip(d["sigmas"], d["q_high"], d["q_low"]):
        a.hist(np.concatenate([qh, ql]) * 1e12, bins=bins, histtype="step", lw=1.5, label=f"σ_C2C = {s}")
        b.hist(qh * 1e12, bins=40, histtype="step", lw=1.5, label=f"high state, σ_C2C = {s}")
    for k, (name, qh, ql) in enumerate(zip(d["preset_labels"], d["q_preset_high"], d["q_preset_low"])):
        c.hist(
            np.concatenate([qh, ql]) * 1e12, bins=bins, histtype="step", lw=2.5 - k, ls=("-", "--")[k % 2], label=name
        )
    a.set(xlabel="EPSC charge per read spike (pC)", ylabel="count", yscale="log", title="F5: binary socket device")
    b.set(xlabel="EPSC charge per read spike (pC)", ylabel="count", title="High-state mode, linear counts")
    c.set(xlabel="EPSC charge per read spike (pC)", ylabel="count", yscale="log", title="device_models presets")
    for x in (a, b, c):
        x.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_energy(d: dict, path: Path) -> Path:
    plt, fig, ax = _fig(size=(7, 4.5))
    rep = d["report"]
    names = ["static", "spikes", "synaptic_events", "router_events", "device_writes"]
    vals = [rep[n] * 1e6 for n in names]
    ax.bar(names, vals)
    ax.set(
        ylabel="energy in 1 s (µJ)",
        title=f"Power {rep['power'] * 1e6:.3f} µW (spec: {d['expected_power'] * 1e6:.3f} µW)",
    )
    for i, v in enumerate(vals):
        ax.text(i, v, f"{v:.3f}", ha="center", va="bottom", fontsize=8)
    return _save(plt, fig, path)


def plot_vsa(d: dict, path: Path) -> Path:
    plt, fig, ax = _fig(size=(7, 4.5))
    x = np.arange(len(d["labels"]))
    ax.bar(x - 0.2, d["responses"][:, 0], 0.4, label="population A")
    ax.bar(x + 0.2, d["responses"][:, 1], 0.4, label="population B")
    ax.set_xticks(x, d["labels"])
    ax.set(xlabel="test item", ylabel="mean rate (Hz)", title="VSA set association after on-chip learning")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_device_learning(d: dict, path: Path) -> Path:
    plt, fig, (a, b, c) = _fig(1, 3, (16, 4.5))
    names = list(d["runs"])
    acc = [d["runs"][k]["accuracy"] for k in names]
    a.barh(np.arange(len(names)), acc, color=["grey", "tab:green", "tab:red"] + ["tab:blue"] * (len(names) - 3))
    a.set_yticks(np.arange(len(names)), names)
    a.invert_yaxis()
    a.set(xlabel="test accuracy (set association)", xlim=(0, 1.05), title="Same task, different synapses")
    for k, name in enumerate(("reference device", "poor device")):
        ax = (b, c)[k]
        ax.imshow(d["runs"][name]["weights"], aspect="auto", cmap="Greys", interpolation="nearest")
        ax.set(xlabel="plastic input", ylabel="neuron (A: 0-7, B: 8-15)", title=f"learned device states, {name}")
    fig.suptitle(
        f"device mode: learned states differ in {100 * d['learned_weights_differ']:.1f} % of synapses; "
        f"accuracy {d['accuracy_reference']:.2f} (reference) vs {d['accuracy_poor']:.2f} (poor)"
    )
    return _save(plt, fig, path)


def plot_compat_map(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (12, 4.8))
    for ax, z, title in (
        (a, d["accuracy"], "learning outcome: task accuracy after on-chip learning"),
        (b, d["read_out"], "read only: high-state I_norm / norm_bias"),
    ):
        im = ax.pcolormesh(d["on_off"], d["c_dev"] * 1e15, z, shading="nearest", cmap="viridis", vmin=0, vmax=1)
        ax.set(xscale="log", yscale="log", xlabel="G_on/G_off (R_on = 1 GΩ)", ylabel="C_dev (fF)", title=title)
        ax.plot([d["ref"][1]], [d["ref"][0] * 1e15], "r*", ms=14, label="F4 reference device")
        ax.axhline(d["t_read"] / 1e9 * 1e15, color="w", ls=":", label="R_on·C = T_read")
        ax.legend(fontsize=8, loc="lower right")
        fig.colorbar(im, ax=ax)
    return _save(plt, fig, path)


def plot_routing(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (13, 4.6))
    k = int(np.argmin(np.abs(d["arbiter_times"] - d["realistic"])))
    for r, style, label in (
        (d["runs"][0], "|", "arbiter 0"),
        (d["runs"][k], "_", f"arbiter {d['realistic'] * 1e6:g} µs"),
    ):
        m = (r["spike_neuron"] < 30) & (r["spike_t"] < 0.3)
        a.plot(r["spike_t"][m] * 1e3, r["spike_neuron"][m], style, ms=6, label=label)
    a.set(xlabel="time (ms)", ylabel="neuron", title="recurrent network on 2 cores (first 30 neurons, 300 ms)")
    a.legend(fontsize=8, loc="upper right")
    x = d["arbiter_times"] * 1e6
    b.plot(x, [r["trains_differ"] for r in d["runs"]], "o-", label="spike trains changed")
    b.plot(x, [r["counts_differ"] for r in d["runs"]], "s-", label="spike counts changed")
    b.plot(x, [r["weights_differ"] for r in d["runs"]], "^-", label="learned weights changed")
    b.set(xlabel="arbiter service time (µs)", ylabel="fraction vs arbiter 0", title="contention feeds back")
    b2 = b.twinx()
    b2.plot(x, [r["dropped"] for r in d["runs"]], "k--", label="dropped packets")
    b2.set_ylabel("dropped packets")
    b.legend(fontsize=8, loc="center right")
    b2.legend(fontsize=8, loc="lower right")
    return _save(plt, fig, path)


def plot_eprop(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (12, 4.5))
    k = 10
    for name, r in d["runs"].items():
        smooth = np.convolve(r["loss"], np.ones(k) / k, mode="valid")
        a.plot(smooth, ls="-" if name.startswith("software") else "--", label=f"{name} (acc {r['accuracy']:.2f})")
    a.set(xlabel="update", ylabel="loss (10-update mean)", title=f"e-prop online: software vs {d['device']} pairs")
    a.legend(fontsize=8)
    names = list(d["cosine"])
    b.bar(names, [d["cosine"][n] for n in names])
    b.set(ylim=(0.98, 1.0005), ylabel="cosine(e-prop, BPTT) of dW_in", title="gradient check (no recurrence: exact)")
    return _save(plt, fig, path)


def plot_metaplasticity(d: dict, path: Path) -> Path:
    plt, fig, (a, b) = _fig(1, 2, (12, 4.5))
    names = list(d["runs"])
    x = np.arange(len(names))
    for k, (phase, task, label) in enumerate(
        (("after_A", "A", "task A after A"), ("after_B", "A", "task A after B"), ("after_B", "B", "task B after B"))
    ):
        a.bar(x + (k - 1) * 0.27, [d["runs"][n][phase][task] for n in names], 0.27, label=label)
    a.set_xticks(x, names, fontsize=8)
    a.set(ylabel="accuracy", ylim=(0.4, 1.02), title=f"two tasks in sequence (device: {d['device']} pairs)")
    a.legend(fontsize=8)
    for n in names:
        if n.endswith("metaplastic"):
            b.plot(np.sort(d["runs"][n]["plasticity"]), ".-", ms=3, label=n)
    b.axhline(1.0, color="grey", ls=":", label="plain rule (plasticity 1)")
    b.set(
        xlabel="synapse (sorted)", ylabel="plasticity σ²/σ_p² after both tasks", yscale="log",
        title="accumulated importance scales plasticity down",
    )  # fmt: skip
    b.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_overwrite(d: dict, path: Path) -> Path:
    plt, fig, ax = _fig(1, 1, (7, 4.5))
    names = list(d["runs"])
    x = np.arange(len(names))
    for k, (key, label) in enumerate(
        (("A_after_A", "pattern A after A"), ("A_after_B", "pattern A after B"), ("B_after_B", "pattern B after B"))
    ):
        ax.bar(x + (k - 1) * 0.27, [d["runs"][n][key] for n in names], 0.27, label=label)
    ax.set_xticks(x, [f"{n}\n({d['runs'][n]['write_pulses']:.0f} write pulses)" for n in names])
    ax.set(ylabel="fraction of the pattern's synapses high (device read)", ylim=(0, 1.05))
    ax.set_title("two patterns in sequence on the chip (F4 reference device, write_on_flip)")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
