"""Tables of an FPGA design: resources per component against its part, and power by
part of the chip (strings only; the CLI and the docs generator print them)."""

from __future__ import annotations

from neurosim.architecture import Architecture
from neurosim.components.fpga import (
    FABRIC_PARTS,
    RESOURCE_LABELS,
    fabric_usage,
    timing_warnings,
    usage_totals,
)
from neurosim.results.record import Result

__all__ = ["device_table", "power_rows", "power_table", "resource_table", "timing_warnings"]


def _count(n: float) -> str:
    return f"{n:,.0f}" if n else "-"


def resource_table(arch: Architecture) -> str:
    """Markdown table: what each component uses of each resource, the total, what the part
    has and the utilisation."""
    rows = fabric_usage(arch)
    have = arch.fpga.device.resources.model_dump()
    total = usage_totals(rows)
    shown = [r for r in RESOURCE_LABELS if total[r] or have[r]]
    lines = [
        "| component | " + " | ".join(RESOURCE_LABELS[r] for r in shown) + " |",
        "|---" * (len(shown) + 1) + "|",
    ]
    for component, row in rows.items():
        lines.append(f"| {component} | " + " | ".join(_count(row.get(r, 0)) for r in shown) + " |")
    lines.append("| **total** | " + " | ".join(_count(total[r]) for r in shown) + " |")
    lines.append(f"| {arch.fpga.device.part} | " + " | ".join(f"{have[r]:,}" for r in shown) + " |")
    lines.append(
        "| utilisation | "
        + " | ".join(f"{100 * total[r] / have[r]:.1f} %" if have[r] else "-" for r in shown)
        + " |"
    )
    return "\n".join(lines)


def power_rows(result: Result) -> list[tuple[str, float]]:
    """(part, watts) of a run: fabric parts, per-event on-chip energies, device static,
    on-chip total, DRAM, system total."""
    rate = result.metrics["tokens_per_s"]
    per_token = result.energy_per_token_j
    offchip = {k for k in per_token if k.startswith("dram.") or k.startswith("hbm")}
    fabric = [
        (f"fabric: {p.replace('_', ' ')}", per_token.get(f"fabric.{p}", 0.0) * rate)
        for p in FABRIC_PARTS
    ]
    events = sum(
        j
        for k, j in per_token.items()
        if k not in offchip and not k.startswith("fabric.") and not k.endswith(".static")
    )
    static = sum(j for k, j in per_token.items() if k.endswith(".static") and k not in offchip)
    dram_dyn = sum(j for k, j in per_token.items() if k in offchip and not k.endswith(".static"))
    dram_static = sum(j for k, j in per_token.items() if k in offchip and k.endswith(".static"))
    m = result.metrics
    return [
        *fabric,
        ("per-event energies on chip (adds, BRAM bits, NoC bit-hops)", events * rate),
        ("**dynamic on chip**", m["dynamic_power_onchip_w"]),
        ("device static", static * rate),
        ("**total on chip**", m["total_power_onchip_w"]),
        ("DRAM dynamic (per-bit energies)", dram_dyn * rate),
        ("DRAM static (standby, refresh)", dram_static * rate),
        ("**dynamic, chip + DRAM**", m["dynamic_power_w"]),
        ("**total, chip + DRAM**", m["total_power_w"]),
    ]


def power_table(result: Result) -> str:
    """Markdown table of `power_rows`."""
    lines = ["| part | W |", "|---|---|"]
    lines += [f"| {name} | {w:.3f} |" for name, w in power_rows(result)]
    return "\n".join(lines)


def device_table() -> str:
    """Markdown table of the shipped parts: resources, static power and junction
    temperature (sources: `DEVICE_SOURCES`, docs/sources.md)."""
    from neurosim.components.fpga import DEVICES

    shown = list(RESOURCE_LABELS)
    lines = [
        "| name | part | "
        + " | ".join(RESOURCE_LABELS[r] for r in shown)
        + " | static W | at Tj C | hard NoC |",
        "|---" * (len(shown) + 5) + "|",
    ]
    for name, dev in DEVICES.items():
        have = dev.resources.model_dump()
        lines.append(
            f"| `{name}` | {dev.part} | "
            + " | ".join(f"{have[r]:,}" for r in shown)
            + f" | {dev.static_power_w:.3f} | {dev.junction_temp_c:g} | "
            + ("yes" if dev.hard_noc else "no")
            + " |"
        )
    return "\n".join(lines)
