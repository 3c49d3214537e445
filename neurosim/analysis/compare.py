"""Pure functions over results: energy categories, comparison rows, the NSLLM ratios."""

from __future__ import annotations

from neurosim.results.metrics import METRICS
from neurosim.results.record import Result

ENERGY_CATEGORIES = (
    "compute",
    "array",
    "adc",
    "dac",
    "periphery",
    "noc",
    "chip links",
    "on-chip memory",
    "dram/hbm",
    "gpu",
    "static",
)

# NSLLM abstract (PubMed 41696420): VCK190 against an A800
PAPER_RATIOS = {"throughput": 2.2, "energy_efficiency": 19.8, "memory_saving": 21.3}


def _category(part: str) -> str:
    """Map an energy part 'component.event' to a display category."""
    component, _, event = part.rpartition(".")
    if event == "static":
        return "static"
    for prefix, cat in (
        ("compute", "compute"),
        ("array", "array"),
        ("adc", "adc"),
        ("dac", "dac"),
        ("periphery", "periphery"),
        ("interconnect", "noc"),
        ("chip_link", "chip links"),
        ("onchip_memory", "on-chip memory"),
        ("dram", "dram/hbm"),
        ("hbm", "dram/hbm"),
        ("gpu", "gpu"),
    ):
        if component.startswith(prefix):
            return cat
    return component


def energy_by_category(r: Result) -> dict[str, float]:
    """Energy per token (J) summed by category (ADC, DAC, array, periphery, NoC, ...)."""
    out: dict[str, float] = {}
    for part, j in r.energy_per_token_j.items():
        cat = _category(part)
        out[cat] = out.get(cat, 0.0) + j
    return out


COMPARISON_METRICS = (
    ("tokens_per_s", ""),
    ("latency_mean_s", "m"),
    ("energy_per_token_j", "m"),
    ("dynamic_power_w", ""),
    ("total_power_w", ""),
    ("memory_footprint_bytes", "G"),
)
"""Registry metrics the comparison table shows, each with the SI prefix it is shown in."""


def comparison_row(r: Result) -> dict[str, object]:
    """One row of the comparison table (headings from the metric registry)."""
    row: dict[str, object] = {"architecture": r.architecture, "chips": r.placement.get("chips", 1)}
    for name, prefix in COMPARISON_METRICS:
        m = METRICS[name]
        row[m.heading(prefix)] = m.scaled(r.metrics.get(name, 0.0), prefix)
    row["DRAM/HBM MB/token"] = r.traffic_bytes_per_token.get("dram_read", 0.0) / 1e6
    row["bottleneck"] = r.bottleneck
    return row


def nsllm_ratios(fpga: Result, gpu: Result) -> list[dict[str, object]]:
    """The three ratios of the NSLLM abstract, ours beside the paper's, with what each counts.

    Energy efficiency compares the FPGA's dynamic energy per token (the paper reports
    dynamic power) with the GPU's total energy per token (idle included, as a board
    measurement would); memory compares footprints (weights + state [+ framework]).
    """
    fm, gm = fpga.metrics, gpu.metrics
    ours = {
        "throughput": fm["tokens_per_s"] / gm["tokens_per_s"],
        "energy_efficiency": gm["energy_per_token_j"] / fm["dynamic_energy_per_token_j"],
        "memory_saving": gm["memory_footprint_bytes"] / fm["memory_footprint_bytes"],
    }
    counts = {
        "throughput": "tokens/s, batch-1 decode, both",
        "energy_efficiency": "GPU total J/token over FPGA dynamic J/token",
        "memory_saving": "GPU footprint (FP16 weights, state, framework) over FPGA "
        "(2-bit weights, state)",
    }
    return [
        {
            "ratio": k,
            "ours": ours[k],
            "paper": PAPER_RATIOS[k],
            "error": ours[k] / PAPER_RATIOS[k] - 1.0,
            "counts": counts[k],
        }
        for k in PAPER_RATIOS
    ]
