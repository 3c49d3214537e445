"""Columns against layers: what `mapping.chip_partition` changes on multi-chip presets.

Each (preset, workload, run shape) below runs analytic twice, as shipped (`columns`:
every linear split over every chip's units) and with `mapping.chip_partition=layers`
(whole groups on consecutive chips), and prints one Markdown row per run: chips, time per
output token, energy per token, chip-link bits per token and what bounds the token.

    python scripts/chip_partition_table.py
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Case:
    """One preset and workload, with the run shape its validation row (if any) uses."""

    preset: str
    workload: str
    batch: int = 1
    tokens: int = 2
    context_tokens: int | None = None


CASES = (
    # the shapes of scripts/accelerator_validation.py's NorthPole and Loihi 2 rows
    Case("northpole_rack", "granite-3.3-8b-northpole", batch=28, tokens=1, context_tokens=2048),
    Case("loihi2_matmulfree", "matmulfree-lm-370m-loihi2", tokens=16),
    # the README's comparison shape (2 tokens, batch 1)
    Case("spinnaker2", "nsllm-1.5b"),
    Case("loihi2", "nsllm-1.5b"),
)


def row(case: Case, partition: str) -> str:
    """The Markdown row of `case` run with `partition`."""
    arch = load_architecture(ROOT / "architectures" / f"{case.preset}.yaml")
    arch = with_overrides(arch, {"mapping.chip_partition": partition})
    workload = load_workload(ROOT / "workloads" / f"{case.workload}.yaml")
    r = simulate(arch, workload, n_tokens=case.tokens, fidelity="analytic", batch=case.batch,
                 context_tokens=case.context_tokens)
    m, pl = r.metrics, r.placement
    chips = f"{pl['chips']}"
    if pl.get("chips_added_for_layers"):
        chips += f" (+{pl['chips_added_for_layers']})"
    chip_bits = 8 * r.traffic_bytes_per_token["chip_links"]  # per token of each sequence
    return (f"| {case.preset} | {case.workload} | {case.batch} | {partition} | {chips} | "
            f"{1e3 * m['time_per_output_token_s']:.4g} | {1e3 * m['energy_per_token_j']:.4g} | "
            f"{chip_bits:.3e} | {r.bottleneck} |")


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    print("| preset | workload | batch | chip_partition | chips | TPOT ms | mJ/token | "
          "chip-link bits/token | bottleneck |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in CASES:
        for partition in ("columns", "layers"):
            print(row(case, partition))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
