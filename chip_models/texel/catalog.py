"""The registry of chip experiments behind ``aimc chip NAME -o DIR``.

Each :class:`Experiment` runs from a seed, draws its figure, and reduces its data to a table
(equal-length columns, written as CSV) and headline numbers (printed as ``key=value`` lines).
Adding an experiment is one function triple and one registry line.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from chip_models.texel import device_learning as D
from chip_models.texel import eprop as EP
from chip_models.texel import experiments as E
from chip_models.texel import metaplasticity as MP
from chip_models.texel import network_experiments as N
from chip_models.texel import overwrite as OW
from chip_models.texel import plots as P
from chip_models.texel.config import TexelConfig
from chip_models.texel.readout import read_fraction


@dataclass(frozen=True)
class Experiment:
    """One experiment: ``run(seed) -> data``, ``plot(data, path)``, ``table(data) -> columns``,
    ``headline(data) -> {key: value}``."""

    run: Callable[[int], dict]
    plot: Callable[[dict, Path], Path]
    table: Callable[[dict], dict[str, np.ndarray]]
    headline: Callable[[dict], dict[str, float]]
    help: str


@dataclass(frozen=True)
class Outcome:
    """What running one experiment wrote and measured."""

    figure: Path
    table: Path
    headline: dict[str, float]


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _srdp(seed: int) -> dict:
    rates = {"rates_pre": (0.0, 25.0, 50.0, 75.0, 100.0), "rates_post": (0.0, 20.0, 50.0, 80.0, 120.0, 200.0, 300.0)}
    rng = _rng(seed)
    return {"maps": [E.srdp(rng, **rates), E.srdp(rng, theta_ca_high=0.72, **rates)]}


def _srdp_table(d: dict) -> dict:
    m = d["maps"][0]
    pre, post = np.meshgrid(m["rates_pre"], m["rates_post"], indexing="ij")
    cols = {"nu_pre": pre.ravel(), "nu_post": post.ravel()}
    for name, mm in zip(("", "_ca_high"), d["maps"]):
        cols[f"p_up{name}"] = mm["p_up"].ravel()
        cols[f"p_down{name}"] = mm["p_down"].ravel()
    return cols


def _stdp(seed: int) -> dict:
    rng = _rng(seed)
    return {"full": E.stdp(rng), "branch_off": E.stdp(rng, rho_neg=0.0)}


def _trace(seed: int) -> dict:
    rng = _rng(seed)
    return {"open": E.trace_gating(rng), "blocked": E.trace_gating(rng, theta_ca_low=0.95)}


def _write_cycling_table(d: dict) -> dict:
    return {
        "sigma_c2c": d["sigmas"],
        "q_high_mean_pC": d["q_high"].mean(axis=1) * 1e12,
        "q_high_min_pC": d["q_high"].min(axis=1) * 1e12,
        "q_low_mean_pC": d["q_low"].mean(axis=1) * 1e12,
        "q_low_max_pC": d["q_low"].max(axis=1) * 1e12,
    }


def _device_learning_table(d: dict) -> dict:
    names = list(d["runs"])
    return {
        "synapse": np.array(names),
        "accuracy": np.array([d["runs"][k]["accuracy"] for k in names]),
        "mean_learned_weight": np.array([d["runs"][k]["weights"].mean() for k in names]),
        "device_write_pulses": np.array([d["runs"][k]["device_writes"] for k in names]),
    }


def _compat_table(d: dict) -> dict:
    cc, rr = np.meshgrid(d["c_dev"], d["on_off"], indexing="ij")
    acc, out = d["accuracy"].ravel(), d["read_out"].ravel()
    return {"c_dev_F": cc.ravel(), "on_off": rr.ravel(), "accuracy": acc, "read_out": out}


def _compat_headline(d: dict) -> dict:
    i = int(np.argmin(np.abs(np.log(d["c_dev"] / d["ref"][0]))))
    j = int(np.argmin(np.abs(np.log(d["on_off"] / d["ref"][1]))))
    return {
        "accuracy_reference_device": float(d["accuracy"][i, j]),
        "accuracy_ratio_min": float(d["accuracy"][i, 0]),
        "accuracy_c_max": float(d["accuracy"][-1, j]),
        "working_fraction": float(np.mean(d["accuracy"] >= 0.9)),
    }


def _routing_table(d: dict) -> dict:
    runs = d["runs"]
    cols = ("rate", "trains_differ", "counts_differ", "weights_differ", "dropped", "mean_wait")
    return {"arbiter_time_s": d["arbiter_times"], **{c: np.array([r[c] for r in runs]) for c in cols}}


def _routing_headline(d: dict) -> dict:
    r = d["runs"][int(np.argmin(np.abs(d["arbiter_times"] - d["realistic"])))]
    return {
        "arbiter_time_us": d["realistic"] * 1e6,
        "spike_trains_differ": r["trains_differ"],
        "spike_counts_differ": r["counts_differ"],
        "learned_weights_differ": r["weights_differ"],
        "dropped_events": float(r["dropped"]),
        f"dropped_events_at_{d['arbiter_times'][-1] * 1e6:g}us": float(d["runs"][-1]["dropped"]),
        "mean_arbiter_wait_us": r["mean_wait"] * 1e6,
        "router_hops": float(sum(r["hops"].values())),
        "rate_hz_per_neuron": r["rate"],
    }


def _eprop_table(d: dict) -> dict:
    names = list(d["runs"])
    return {
        "run": np.array(names),
        "accuracy": np.array([d["runs"][k]["accuracy"] for k in names]),
        "final_loss": np.array([d["runs"][k]["loss"][-10:].mean() for k in names]),
        "write_pulses": np.array([d["runs"][k]["pulses"] for k in names]),
        "write_energy_J": np.array([d["runs"][k]["write_energy"] for k in names]),
    }


def _eprop_headline(d: dict) -> dict:
    r = d["runs"]
    return {
        "eprop_bptt_cosine": min(d["cosine"].values()),
        **{f"eprop_bptt_cosine_{k}": v for k, v in d["cosine"].items()},
        **{f"accuracy_{k}": v["accuracy"] for k, v in r.items()},
        "device_write_pulses": float(sum(v["pulses"] for v in r.values())),
        "device_write_energy_J": sum(v["write_energy"] for v in r.values()),
    }


def _meta_table(d: dict) -> dict:
    names = list(d["runs"])
    r = d["runs"]
    return {
        "run": np.array(names),
        "A_after_A": np.array([r[k]["after_A"]["A"] for k in names]),
        "A_after_B": np.array([r[k]["after_B"]["A"] for k in names]),
        "B_after_B": np.array([r[k]["after_B"]["B"] for k in names]),
        "write_pulses": np.array([r[k]["pulses"] for k in names]),
        "write_energy_J": np.array([r[k]["write_energy"] for k in names]),
    }


def _meta_headline(d: dict) -> dict:
    r = d["runs"]
    out = {}
    for where in ("software", "device"):
        a_plain, a_meta = r[f"{where}_plain"]["after_B"]["A"], r[f"{where}_metaplastic"]["after_B"]["A"]
        out[f"task_A_after_B_plain_{where}"] = a_plain
        out[f"task_A_after_B_metaplastic_{where}"] = a_meta
        out[f"task_B_metaplastic_{where}"] = r[f"{where}_metaplastic"]["after_B"]["B"]
        out[f"retention_gain_{where}"] = a_meta - a_plain
    out["retention_gain"] = out["retention_gain_device"]
    return out


def _overwrite_table(d: dict) -> dict:
    r = d["runs"]
    cols = ("A_after_A", "A_after_B", "B_after_B", "importance_A", "write_pulses")
    return {"rule": np.array(list(r)), **{c: np.array([r[k][c] for k in r]) for c in cols}}


def _overwrite_headline(d: dict) -> dict:
    r = d["runs"]
    out = {f"pattern_A_after_B_{k}": v["A_after_B"] for k, v in r.items()}
    out.update({f"pattern_B_after_B_{k}": v["B_after_B"] for k, v in r.items()})
    out.update({f"write_pulses_{k}": v["write_pulses"] for k, v in r.items()})
    out["retention_gain_chip"] = d["retention_gain_chip"]
    return out


EXPERIMENTS: dict[str, Experiment] = {
    "adaptation": Experiment(
        lambda s: E.adaptation(_rng(s)),
        P.plot_adaptation,
        lambda d: {"i_dc_A": d["currents"], "f0_Hz": d["f0"], "f_ss_Hz": d["fss"]},
        lambda d: {"f_ss_over_f0_max_current": float(d["fss"][-1] / d["f0"][-1])},
        "checklist 2: DC step, spike-frequency adaptation, f-I curve",
    ),
    "trace-gating": Experiment(
        _trace,
        lambda d, p: P.plot_trace_gating(d["open"], p, blocked=d["blocked"]),
        lambda d: {k: d["open"]["probes"][k] for k in ("t", "x_pre", "x_post", "x_ca", "rho")},
        lambda d: {
            "post_spikes": float(d["open"]["post"].size),
            "rho_change_gate_blocked": float(np.ptp(d["blocked"]["probes"]["rho"])),
        },
        "checklist 3 (F3a): traces and the Ca gate",
    ),
    "stdp": Experiment(
        _stdp,
        lambda d, p: P.plot_stdp(d["full"], d["branch_off"], p),
        lambda d: {"dt_s": d["full"]["dt"], "drho": d["full"]["drho"], "drho_rho_neg_0": d["branch_off"]["drho"]},
        lambda d: {"drho_max": float(d["full"]["drho"].max()), "drho_min": float(d["full"]["drho"].min())},
        "checklists 4, 5 (F3b/c): STDP on the analog weight",
    ),
    "srdp": Experiment(
        _srdp,
        lambda d, p: P.plot_srdp(d["maps"], p),
        _srdp_table,
        lambda d: {"p_up_max": float(d["maps"][0]["p_up"].max()), "p_down_max": float(d["maps"][0]["p_down"].max())},
        "checklist 6 (F3d): transition probabilities vs pre/post rates",
    ),
    "retention": Experiment(
        lambda s: E.retention(_rng(s)),
        P.plot_retention,
        lambda d: {"rho0": d["rho0"], "rho_end": d["rho"][-1], "before": d["before"], "after_power_cycle": d["after"]},
        lambda d: {"restored_after_power_cycle": float(np.mean(d["before"] == d["after"]))},
        "checklist 7: bistable drift, power cycle through devices",
    ),
    "read": Experiment(
        lambda s: {"sweep": E.read_sweep(), "compat": E.compatibility_map()},
        lambda d, p: P.plot_read(d["sweep"], d["compat"], p),
        lambda d: {"r_neg_ohm": d["sweep"]["r_neg"], **{f"out_c{i}": y for i, y in enumerate(d["sweep"]["ratio"])}},
        lambda d: {"reference_output": float(read_fraction(1e9, 100e9, 100e-15, TexelConfig.default().read))},
        "checklists 8, 9 (F4b-d): differential read and its read-only compatibility map",
    ),
    "write-cycling": Experiment(
        lambda s: E.write_cycling(_rng(s)),
        P.plot_write_cycling,
        _write_cycling_table,
        lambda d: {"q_gap_default_sigma_pC": float((d["q_high"][0].min() - d["q_low"][0].max()) * 1e12)},
        "checklist 10 (F5): POT/DEP cycling with C2C variability",
    ),
    "energy": Experiment(
        lambda s: E.energy(_rng(s)),
        P.plot_energy,
        lambda d: {"component": np.array(list(d["report"])), "value": np.array(list(d["report"].values()))},
        lambda d: {"power_uW": d["report"]["power"] * 1e6, "expected_power_uW": d["expected_power"] * 1e6},
        "checklist 11: energy bookkeeping, 180 neurons at 80 Hz",
    ),
    "vsa": Experiment(
        lambda s: E.vsa(_rng(s), n_test=3),
        P.plot_vsa,
        lambda d: {"item": np.array(d["labels"]), "rate_A_Hz": d["responses"][:, 0], "rate_B_Hz": d["responses"][:, 1]},
        lambda d: {"accuracy": d["accuracy"]},
        "checklist 12 (ON demo): VSA set association, CMOS mode",
    ),
    "device-learning": Experiment(
        D.device_learning,
        P.plot_device_learning,
        _device_learning_table,
        lambda d: {k: d[k] for k in ("learned_weights_differ", "accuracy_reference", "accuracy_poor")},
        "set association in device mode: F4 reference vs very poor devices vs device_models presets",
    ),
    "compat-map": Experiment(
        D.compat_map,
        P.plot_compat_map,
        _compat_table,
        _compat_headline,
        "F4c/d as a learning-outcome map over C_dev x on/off ratio at R_on = 1 GOhm",
    ),
    "routing": Experiment(
        N.routing,
        P.plot_routing,
        _routing_table,
        _routing_headline,
        "recurrent network on 2 cores through the AER router: arbiter service time 0 vs realistic",
    ),
    "eprop": Experiment(
        EP.experiment,
        P.plot_eprop,
        _eprop_table,
        _eprop_headline,
        "e-prop (LIF, AdLIF): gradients vs BPTT, online learning in software and on pulsed device pairs",
    ),
    "metaplasticity": Experiment(
        MP.experiment,
        P.plot_metaplasticity,
        _meta_table,
        _meta_headline,
        "Bayesian metaplasticity: task A retained after task B, with and without, software and device pairs",
    ),
    "rule-overwrite": Experiment(
        OW.experiment,
        P.plot_overwrite,
        _overwrite_table,
        _overwrite_headline,
        "event-driven chip, device mode: pattern A then B under each learning rule of the synapse (rules.py)",
    ),
}


def write_table(columns: dict[str, np.ndarray], path: Path) -> Path:
    """Write equal-length columns as a CSV file."""
    names = list(columns)
    cols = [np.atleast_1d(np.asarray(columns[k])) for k in names]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for row in zip(*cols):
            w.writerow([x.item() if hasattr(x, "item") else x for x in row])
    return path


def run(name: str, out: Path, seed: int) -> Outcome:
    """Run experiment ``name``; write ``texel_<name>.png`` and ``texel_<name>.csv`` into ``out``."""
    exp = EXPERIMENTS[name]
    out.mkdir(parents=True, exist_ok=True)
    stem = f"texel_{name.replace('-', '_')}"
    data = exp.run(seed)
    fig = exp.plot(data, out / f"{stem}.png")
    table = write_table(exp.table(data), out / f"{stem}.csv")
    return Outcome(fig, table, exp.headline(data))
