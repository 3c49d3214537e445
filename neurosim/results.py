"""The Result record of a run, and writing it as JSON and CSV.

One flat record per run (config hash, seed, version, metrics, energy breakdown,
traffic per memory level, bottleneck) that tables, sweep stores and plots all read.
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from neurosim import __version__
from neurosim.costs import EnergyBreakdown, area_m2
from neurosim.engine import PS_PER_S
from neurosim.ledger import Ledger


def config_hash(arch_dump: dict, workload_dump: dict, extra: dict) -> str:
    """Stable short hash of the resolved configs and run options."""
    blob = json.dumps({"arch": arch_dump, "workload": workload_dump, **extra}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


@dataclass
class Result:
    """Everything a run reports."""

    version: str
    architecture: str
    workload: str
    fidelity: str
    contention: bool
    seed: int
    tokens: int
    config_hash: str
    metrics: dict[str, float]
    traffic_bytes_per_token: dict[str, float]
    energy_per_token_j: dict[str, float]
    utilization: dict[str, float]
    bottleneck: str
    published: dict | None
    placement: dict
    event_counts: dict[str, int]
    latencies_s: list[float]
    wall_s: float
    engine_events: int
    config: dict = field(default_factory=dict)

    def to_json(self) -> str:
        """The whole record as JSON."""
        return json.dumps(asdict(self), indent=2, sort_keys=False)

    def flat(self) -> dict[str, object]:
        """One flat row: identifiers, metrics, traffic, energy parts, bottleneck."""
        row: dict[str, object] = {
            "architecture": self.architecture,
            "workload": self.workload,
            "fidelity": self.fidelity,
            "contention": self.contention,
            "seed": self.seed,
            "tokens": self.tokens,
            "config_hash": self.config_hash,
            "version": self.version,
            "bottleneck": self.bottleneck,
        }
        row.update(self.metrics)
        row.update(
            {f"traffic_{k}_bytes_per_token": v for k, v in self.traffic_bytes_per_token.items()}
        )
        row.update({f"energy_{k}_j_per_token": v for k, v in self.energy_per_token_j.items()})
        return row


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


def summarise(
    *,
    prep,
    fidelity: str,
    contention: bool,
    seed: int,
    n_tokens: int,
    latencies_ps: list[int],
    elapsed_s: float,
    energy: EnergyBreakdown,
    ledger: Ledger,
    acc,
    wall_s: float,
    engine_events: int,
    spike_source: str = "synthetic",
) -> Result:
    """Turn run totals into per-token metrics, utilizations and the published comparison."""
    arch, workload = prep.arch, prep.workload
    n = max(1, len(latencies_ps))
    lat_s = [x / PS_PER_S for x in latencies_ps]
    tokens_per_s = len(lat_s) / elapsed_s if elapsed_s > 0 else 0.0
    dram_components = {k for (k, _) in energy.dynamic if k.startswith("dram.")}
    dram_dynamic = sum(j for (c, _), j in energy.dynamic.items() if c in dram_components)
    metrics = {
        "parameters": float(prep.graph.parameters),
        "tokens_per_s": tokens_per_s,
        "latency_mean_s": float(np.mean(lat_s)) if lat_s else 0.0,
        "latency_p50_s": _percentile(lat_s, 50),
        "latency_p99_s": _percentile(lat_s, 99),
        "energy_per_token_j": energy.total_j / n,
        "dynamic_energy_per_token_j": energy.dynamic_j / n,
        "static_energy_per_token_j": energy.static_j / n,
        "dynamic_power_w": energy.dynamic_j / elapsed_s if elapsed_s else 0.0,
        "dynamic_power_onchip_w": (energy.dynamic_j - dram_dynamic) / elapsed_s
        if elapsed_s
        else 0.0,
        "static_power_w": energy.static_j / elapsed_s if elapsed_s else 0.0,
        "total_power_w": energy.total_j / elapsed_s if elapsed_s else 0.0,
        "tokens_per_j": n / energy.total_j if energy.total_j else 0.0,
        "synops_per_token": acc.synops / n,
        "spikes_per_token": acc.spikes / n,
        "weight_bytes": float(
            prep.placement.resident_weight_bytes + prep.placement.streamed_weight_bytes
        ),
    }
    traffic = {
        "dram_read": sum(acc.dram_read.values()) / n,
        "dram_write": sum(acc.dram_write.values()) / n,
        "onchip_read": acc.onchip_read / n,
        "onchip_write": acc.onchip_write / n,
        "noc": acc.noc_bytes / n,
        "chip_links": acc.chip_link_bytes / n,
    }
    for name, v in acc.dram_read.items():
        traffic[f"dram.{name}_read"] = v / n
    energy_rows = {}
    for (c, e), j in sorted(energy.dynamic.items()):
        energy_rows[f"{c}.{e}"] = j / n
    for c, j in sorted(energy.static.items()):
        energy_rows[f"{c}.static"] = j / n
    utilization = {k: (v / elapsed_s if elapsed_s else 0.0) for k, v in acc.busy.items()}
    grouped: dict[str, float] = {}
    for k, u in utilization.items():
        grouped_name = {"compute[": "compute", "link ": "interconnect", "chip link ": "chip_links"}
        key = next((g for prefix, g in grouped_name.items() if k.startswith(prefix)), k)
        grouped[key] = max(grouped.get(key, 0.0), u)
    bottleneck = max(grouped, key=grouped.get) if grouped else "none"
    published = None
    if arch.published is not None:
        pub = arch.published
        published = {"source": pub.source, "workload": pub.workload}
        if pub.tokens_per_s:
            published["tokens_per_s"] = pub.tokens_per_s
            published["tokens_per_s_error"] = tokens_per_s / pub.tokens_per_s - 1.0
        if pub.dynamic_power_w:
            published["dynamic_power_w"] = pub.dynamic_power_w
            published["dynamic_power_error"] = (
                metrics["dynamic_power_w"] / pub.dynamic_power_w - 1.0
            )
    metrics["memory_footprint_bytes"] = metrics["weight_bytes"] + prep.graph.state_bytes
    placement = prep.placement.summary(arch)
    areas = area_m2(arch, prep.placement.chips, prep.placement.arrays)
    if areas:
        placement["area_m2"] = areas
        metrics["area_m2"] = sum(areas.values())
    arch_dump = arch.model_dump(mode="json")
    workload_dump = workload.model_dump(mode="json")
    options = {
        "fidelity": fidelity, "contention": contention, "seed": seed, "tokens": n_tokens,
        "spikes": spike_source,
    }
    return Result(
        version=__version__,
        architecture=arch.name,
        workload=workload.name,
        fidelity=fidelity,
        contention=contention,
        seed=seed,
        tokens=len(lat_s),
        config_hash=config_hash(arch_dump, workload_dump, options),
        metrics=metrics,
        traffic_bytes_per_token=traffic,
        energy_per_token_j=energy_rows,
        utilization={"max " + k: v for k, v in sorted(grouped.items())} | utilization,
        bottleneck=bottleneck,
        published=published,
        placement=placement,
        event_counts=ledger.as_dict(),
        latencies_s=lat_s,
        wall_s=wall_s,
        engine_events=engine_events,
        config={"architecture": arch_dump, "workload": workload_dump, "options": options},
    )


def write_result(result: Result, out_dir: Path) -> list[Path]:
    """Write result.json, metrics.csv, energy_breakdown.csv and latencies.csv."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    p = out_dir / "result.json"
    p.write_text(result.to_json())
    paths.append(p)
    row = result.flat()
    p = out_dir / "metrics.csv"
    with p.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(row))
        w.writeheader()
        w.writerow(row)
    paths.append(p)
    p = out_dir / "energy_breakdown.csv"
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["part", "energy_j_per_token"])
        for k, v in result.energy_per_token_j.items():
            w.writerow([k, v])
    paths.append(p)
    p = out_dir / "latencies.csv"
    with p.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["token", "latency_s"])
        for i, v in enumerate(result.latencies_s):
            w.writerow([i, v])
    paths.append(p)
    return paths
