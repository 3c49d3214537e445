"""Measured neuromorphic-chip LLM results against neurosim: ours beside published, with the error.

Each row names the preset of the chip, the workload preset of the model as the chip ran it,
and the run shape of the measurement (batch, prompt, decoded tokens); neurosim runs exactly
that shape (analytic fidelity) and is compared on the measured quantity. No preset number
was chosen with these figures in view: the published values sit in each preset's
`published:` block, which is compared and never read as an input.
Sources: docs/sources.md#loihi2-matmulfree-llm, docs/sources.md#northpole-llm.

    python scripts/chip_validation_rows.py          # the Markdown table
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import neurosim  # noqa: E402

METRICS = {
    "energy mJ/token": "energy per decoded token of the whole modelled system, static included",
    "decode tokens/s": "decoded tokens per second of one sequence",
    "TPOT ms": "mean decode step of each sequence (per-user inter-token latency)",
}


@dataclass(frozen=True)
class Measurement:
    """One published chip figure and the run shape it was measured with."""

    key: str  # anchor-style id, listed in docs/sources.md
    accelerator: str  # what was measured on
    preset: str  # architecture preset describing that chip
    workload: str
    runtime: str  # the software / representation the measurement used
    batch: int
    prompt_tokens: int
    decode_steps: int
    metric: str  # one of METRICS
    measured: float
    note: str = ""
    context_tokens: int = 0  # tokens already in each sequence's KV cache before the prompt


MEASUREMENTS: tuple[Measurement, ...] = (
    Measurement("loihi2-matmulfree-llm", "Intel Loihi 2 (chip count UNCONFIRMED)",
                "loihi2_matmulfree", "matmulfree-lm-370m-loihi2",
                "8-bit weights, 24-bit graded spikes", 1, 0, 16, "energy mJ/token", 405.0,
                "Abreu et al. 2025; ~405 mJ from the body via a secondary source"),
    Measurement("loihi2-matmulfree-llm", "Intel Loihi 2 (chip count UNCONFIRMED)",
                "loihi2", "matmulfree-lm-370m",
                "as shipped: 1.58-bit packed, NSLLM binary spikes", 1, 0, 16,
                "energy mJ/token", 405.0,
                "same measurement; the shipped pair, not the paper's representation"),
    Measurement("northpole-llm", "IBM NorthPole, 96 of a 288-card rack", "northpole_rack",
                "granite-3.3-8b-northpole", "A8-C8-W4, pipeline-parallel over cards", 28, 0, 1,
                "TPOT ms", 2.8, "DeBole et al. 2025; 28 users at context 2,048", 2048),
)


LESSONS = {
    ("loihi2-matmulfree-llm", "loihi2_matmulfree"):
        "77 % of our energy is static power over a token time set by cross-chip spike traffic "
        "(every layer spread over all 21 chips); at 12x below the measurement, the per-chip "
        "power of a real Loihi 2 board (static, I/O, microcode neuron programs) is what the "
        "Hala Point-derived preset lacks; without a published token rate the two cannot be "
        "separated",
    ("loihi2-matmulfree-llm", "loihi2"):
        "the shipped representation (1.58-bit packed weights, 4-bit NSLLM spike trains) needs 5 "
        "chips instead of 21, so it misses further: the chip count, set by the 8-bit weights "
        "the real deployment stores, drives static energy",
    ("northpole-llm", "northpole_rack"):
        "neurosim splits every layer over all 96 cards and sends each activation to every "
        "card (37 GB of card-link traffic per token); the measured system pipelines layers "
        "over cards and sends only a layer boundary's activations; neurosim has no "
        "layer-per-chip placement, and 2.8 ms over 96 cards (~29 us per card) says card-hop "
        "and runtime latency, not MACs, set the real TPOT",
}
"""What each row's error points to (for the README's validation table)."""


def modelled(m: Measurement) -> tuple[float, dict]:
    """Our figure for `m`'s metric, and facts about the run (chips, tokens/s, bottleneck)."""
    arch = neurosim.load_architecture(ROOT / "architectures" / f"{m.preset}.yaml")
    workload = neurosim.load_workload(ROOT / "workloads" / f"{m.workload}.yaml")
    r = neurosim.run_system(arch, workload, n_tokens=m.decode_steps, fidelity="analytic",
                            batch=m.batch, prompt_tokens=m.prompt_tokens,
                            context_tokens=m.context_tokens)
    if m.metric == "energy mJ/token":
        value = 1e3 * r.metrics["energy_per_token_j"]
    elif m.metric == "decode tokens/s":
        value = 1.0 / r.metrics["time_per_output_token_s"]
    elif m.metric == "TPOT ms":
        value = 1e3 * r.metrics["time_per_output_token_s"]
    else:
        raise ValueError(f"unknown metric {m.metric!r}; known: {', '.join(METRICS)}")
    static = r.metrics["static_energy_per_token_j"] / r.metrics["energy_per_token_j"]
    facts = {"chips": r.placement["chips"], "tokens_per_s": r.metrics["tokens_per_s"],
             "bottleneck": r.bottleneck, "static_share": static}
    return value, facts


def error(ours: float, measured: float) -> float:
    """Signed relative error: ours / measured - 1 (+: we give more energy or time than was
    measured)."""
    return ours / measured - 1.0


def table() -> str:
    """The Markdown rows, ours beside published."""
    rows = ["| # | chip (preset) | model (workload) | representation | batch | metric | "
            "measured | ours | error | chips | ours tokens/s (all sequences) | static share | "
            "bound by |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for i, m in enumerate(MEASUREMENTS, 1):
        ours, f = modelled(m)
        rows.append(
            f"| {i} | {m.accelerator} (`{m.preset}`) | `{m.workload}` | {m.runtime} | "
            f"{m.batch} | {m.metric} | {m.measured:.4g} | {ours:.4g} | "
            f"{100 * error(ours, m.measured):+.0f} % | {f['chips']} | "
            f"{f['tokens_per_s']:.1f} | {100 * f['static_share']:.0f} % | {f['bottleneck']} |")
    rows += ["", "What each miss teaches:"]
    rows += [f"{i}. {LESSONS[(m.key, m.preset)]}" for i, m in enumerate(MEASUREMENTS, 1)]
    return "\n".join(rows) + "\n"


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args(argv)
    sys.stdout.write(table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
