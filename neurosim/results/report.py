"""Readable text tables of results (strings only; the CLI prints them)."""

from __future__ import annotations

from neurosim.resources import ResourceKind
from neurosim.results.metrics import METRICS
from neurosim.results.record import Result, error_key
from neurosim.units import format_quantity


def _rows_to_text(rows: list[tuple[str, str]], title: str) -> str:
    width = max(len(k) for k, _ in rows)
    lines = [title, "-" * len(title)]
    lines += [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)


def learning_rows(m: dict[str, float]) -> list[tuple[str, str]]:
    """What the weight updates of a learning run cost."""
    life = m.get("lifetime_years")
    return [
        ("weight updates per token", f"{m['weight_updates_per_token']:.4g}"),
        ("write energy per token", format_quantity(m["write_energy_per_token_j"], "energy")),
        ("write time per token", format_quantity(m["write_time_per_token_s"], "time")),
        ("share of time writing", f"{100 * m['write_time_share']:.1f} %"),
        ("lifetime (most-written cell)",
         "no wear limit" if life is None else f"{life:.3g} years"),
    ]


def result_table(r: Result) -> str:
    """Main metrics, energy breakdown, traffic, utilization and published comparison."""
    m = r.metrics
    rows = [
        ("architecture", r.architecture),
        ("workload", f"{r.workload} ({m['parameters'] / 1e9:.3g}B parameters)"),
        ("fidelity", f"{r.fidelity}{'' if r.contention else ' (contention off)'}"),
        ("tokens / seed", f"{r.tokens} / {r.seed}"),
        ("throughput", f"{m['tokens_per_s']:.1f} tokens/s"),
        (
            "latency mean / p50 / p99",
            " / ".join(
                format_quantity(m[k], "time")
                for k in ("latency_mean_s", "latency_p50_s", "latency_p99_s")
            ),
        ),
        (
            "energy per token",
            f"{format_quantity(m['energy_per_token_j'], 'energy')} "
            f"(dynamic {format_quantity(m['dynamic_energy_per_token_j'], 'energy')}, "
            f"static {format_quantity(m['static_energy_per_token_j'], 'energy')})",
        ),
        ("power dynamic / static", f"{m['dynamic_power_w']:.3f} W / {m['static_power_w']:.3f} W"),
        ("dynamic power on chip (no DRAM)", f"{m['dynamic_power_onchip_w']:.3f} W"),
        *(
            [("  of which FPGA fabric", f"{m['fabric_power_w']:.3f} W")]
            if "fabric_power_w" in m
            else []
        ),
        ("synaptic ops per token", f"{m['synops_per_token']:.4g}"),
        ("spikes per token", f"{m['spikes_per_token']:.4g}"),
        ("bottleneck", r.bottleneck),
    ]
    options = r.config.get("options", {})
    batch, prompt = options.get("batch", 1), options.get("prompt_tokens", 0)
    if batch != 1 or prompt:
        rows[4:4] = [
            ("batch / prompt tokens", f"{batch} / {prompt}"),
            ("time to first token", format_quantity(m["time_to_first_token_s"], "time")),
            ("time per output token", format_quantity(m["time_per_output_token_s"], "time")),
            ("decode throughput", f"{m['decode_tokens_per_s']:.1f} tokens/s"),
        ]
        if "prefill_tokens_per_s" in m:
            rows.insert(8, ("prefill throughput", f"{m['prefill_tokens_per_s']:.1f} tokens/s"))
    parts = [_rows_to_text(rows, "Result")]
    if "weight_updates_per_token" in m:
        parts.append(_rows_to_text(learning_rows(m), "Learning (weight writes)"))
    total = sum(r.energy_per_token_j.values())
    energy_rows = [
        (k, f"{format_quantity(v, 'energy'):>10}  {100 * v / total:5.1f} %")
        for k, v in sorted(r.energy_per_token_j.items(), key=lambda kv: -kv[1])
    ]
    parts.append(_rows_to_text(energy_rows, "Energy per token by component and event"))
    traffic_rows = [(k, format_quantity(v, "bytes")) for k, v in r.traffic_bytes_per_token.items()]
    parts.append(_rows_to_text(traffic_rows, "Memory traffic per token"))
    if r.placement.get("kind") != "gpu":  # the GPU model prints its own footprint table
        parts.append(placement_table(r.placement))
    groups = sorted(set(r.resource_groups.values()))
    util_rows = [(g, f"{100 * r.utilization[f'max {g}']:.1f} %") for g in groups]
    links = sorted(
        (
            (name, r.utilization[name])
            for name, g in r.resource_groups.items()
            if g == ResourceKind.NOC_LINK.value
        ),
        key=lambda kv: -kv[1],
    )[:3]
    util_rows += [(f"  {k}", f"{100 * v:.1f} %") for k, v in links]
    parts.append(_rows_to_text(util_rows, "Utilization (busiest unit of each resource)"))
    if r.published:
        parts.append(published_table(r))
    return "\n\n".join(parts)


def placement_table(pl: dict) -> str:
    """Chips, tiles, resident and streamed weights, where the state lives."""
    rows = [
        ("chips / compute units", f"{pl.get('chips', 1)} / {pl.get('compute_units', '?')}"),
        ("weight tiles (resident / all)", f"{pl['resident_tiles']} / {pl['tiles']}"),
        ("weights resident on chip", format_quantity(pl["resident_weight_bytes"], "bytes")),
        ("weights streamed per token", format_quantity(pl["streamed_weight_bytes"], "bytes")),
        ("recurrent state", "on chip" if pl["recurrent_state_on_chip"] else "in DRAM"),
    ]
    if "groups_per_chip" in pl:
        rows.append(("chip partition", _layers_text(pl)))
    rows += [
        (f"streamed from {name}", format_quantity(v, "bytes"))
        for name, v in pl["streamed_bytes_per_channel"].items()
    ]
    if "kv_cache_bytes" in pl:
        rows += [
            (
                "KV cache (largest)",
                f"{format_quantity(pl['kv_cache_bytes'], 'bytes')}, "
                f"{pl['kv_cache_tokens_per_sequence']} tokens x "
                f"{pl['kv_cache_sequences']} sequence(s): {pl['kv_cache_where']}",
            ),
            ("KV cache on chip", format_quantity(pl["kv_cache_onchip_bytes"], "bytes")),
            ("KV cache in DRAM", format_quantity(pl["kv_cache_dram_bytes"], "bytes")),
        ]
    return _rows_to_text(rows, "Placement")


def _layers_text(pl: dict, shown: int = 8) -> str:
    """`layers: 0-3 | 4-8` (groups in execution order per chip), the first `shown` chips."""
    chips = [g or "-" for g in pl["groups_per_chip"]]
    text = " | ".join(chips[:shown])
    if len(chips) > shown:
        text += f" | ... ({len(chips)} chips)"
    added = pl.get("chips_added_for_layers", 0)
    more = f" (+{added} chip(s) for whole layers)" if added else ""
    return f"{pl['chip_partition']}: groups {text}{more}"


_DECIMALS = {"tokens/s": 1, "W": 3, "J": 4, "s": 5}
"""Decimals the published comparison shows, by the metric's unit."""


def published_table(r: Result) -> str:
    """Our estimate beside the published figures, with the error of each."""
    p = r.published
    lines = [f"Published comparison ({p['source']})", "-" * 40]
    if p.get("workload") and p["workload"] != r.workload:
        lines.append(
            f"  not compared: the published figures are for workload {p['workload']}, "
            f"this run is {r.workload}"
        )
        return "\n".join(lines)
    lines.append(f"  {'metric':<28}{'ours':>12}{'published':>12}{'error':>10}")
    for m in (METRICS[k] for k in p if k in METRICS):
        d = _DECIMALS.get(m.unit, 4)
        lines.append(
            f"  {m.label:<28}{r.metrics[m.name]:>12.{d}f}{p[m.name]:>12.{d}f}"
            f"{100 * p[error_key(m.name)]:>9.1f}%"
        )
    if p.get("power_kind") in ("board", "wall"):
        lines.append(
            f"  note: the published power is {p['power_kind']} power; ours (chip + DRAM) has no "
            "regulator, fan or host power, so it is a lower bound"
        )
    return "\n".join(lines)
