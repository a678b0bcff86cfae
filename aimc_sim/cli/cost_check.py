"""``aimc cost-check [-o DIR]``: published AIMC chips against the simulator's tiles and cost model."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

COMMAND = "cost-check"
HELP = "compare reported energy efficiency and throughput of published AIMC chips with the simulated ones"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", default="aimc-out/cost-check", help="output folder (default aimc-out/cost-check)"
    )
    parser.add_argument("--chips", nargs="*", help="chip presets (default: all shipped, aimc_sim/data/cost/chips)")
    parser.add_argument(
        "--adc-model", help="registered ADC energy model for every chip (default: each chip preset's, else survey-fom)"
    )


def run(args: argparse.Namespace) -> int:
    from aimc_sim.cost.chips import METRICS, chip_names, evaluate_chip, load_chip

    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    rows, worst = [], 0.0
    print(f"{'chip':<16} {'benchmark':<28} {'metric':<7} {'reported':>9} {'simulated':>9} {'factor':>6}")
    for name in args.chips or chip_names():
        chip = load_chip(name)
        for res in evaluate_chip(chip, adc_model=args.adc_model):
            factors = res.factors()
            for metric, (ref, sim) in res.metrics.items():
                unit = METRICS[metric]
                print(f"{res.chip:<16} {res.benchmark:<28} {unit:<7} {ref:>9.3g} {sim:>9.3g} {factors[metric]:>6.2f}")
                worst = max(worst, factors[metric])
            comps = ", ".join(
                f"{k} {v * 1e9:.3g}" for k, v in sorted(res.per_component_j.items(), key=lambda kv: -kv[1])
            )
            print(
                f"{'':<16} simulated per MVM: {res.energy_per_mvm_j * 1e9:.3g} nJ ({comps} nJ), "
                f"{res.time_per_mvm_s * 1e9:.3g} ns; ADC model {res.adc_model}"
            )
            rows.append(
                {
                    "chip": res.chip,
                    "benchmark": res.benchmark,
                    "metrics": {
                        k: {"reported": r, "simulated": s, "factor": factors[k]} for k, (r, s) in res.metrics.items()
                    },
                    "energy_per_mvm_j": res.energy_per_mvm_j,
                    "time_per_mvm_s": res.time_per_mvm_s,
                    "per_component_j": res.per_component_j,
                    "adc_model": res.adc_model,
                    "citation": chip.citation,
                }
            )
    (out / "cost_check.json").write_text(
        json.dumps({"adc_model": args.adc_model or "default", "results": rows}, indent=2)
    )
    print(f"wrote {out / 'cost_check.json'}")
    print(f"cost_worst_factor={worst:.3g}")
    return 0
