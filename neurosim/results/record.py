"""The Result record of a run, built one way for every architecture kind, and writing it.

One flat record per run (config hash, seed, version, metrics from the registry in
`neurosim.results.metrics`, energy breakdown, traffic per memory level, utilization, bottleneck,
published comparison) that tables, sweep stores and plots all read.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from neurosim import __version__
from neurosim.ledger import Ledger
from neurosim.resources import Resource
from neurosim.results.metrics import METRICS, RunTotals, metric_values


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
    resource_groups: dict[str, str] = field(default_factory=dict)
    """Display name of each resource in `utilization` -> the group it counts towards."""

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


def published_block(published, metrics: Mapping[str, float]) -> dict | None:
    """Each published figure that names a metric, beside our error against it.

    `published` is an architecture's `published` section (None: no block); the error of
    metric ``x_w`` / ``x_j`` / ``x`` is stored as ``x_error`` (ours / published - 1).
    """
    if published is None:
        return None
    block: dict = {"source": published.source, "workload": published.workload}
    for name in type(published).model_fields:
        target = getattr(published, name)
        if name in METRICS and target and name in metrics:
            block[name] = target
            block[error_key(name)] = metrics[name] / target - 1.0
    metric = getattr(published, "power_metric", None)
    if metric is not None and metric in metrics:
        block[metric] = published.power_w
        block[error_key(metric)] = metrics[metric] / published.power_w - 1.0
        block["power_kind"] = published.power_kind
    return block


def error_key(metric_name: str) -> str:
    """Key of the published-comparison error of a metric: ``dynamic_power_w`` ->
    ``dynamic_power_error``."""
    return metric_name.removesuffix("_w").removesuffix("_j") + "_error"


def _utilization(
    busy_s: Mapping[Resource, float], elapsed_s: float
) -> tuple[dict[str, float], dict[str, float], dict[str, str]]:
    """Per-resource utilization, the busiest instance of each group, and each resource's
    group, all keyed by display names."""
    each = {r.display: (b / elapsed_s if elapsed_s else 0.0) for r, b in busy_s.items()}
    groups = {r.display: r.group for r in busy_s}
    grouped: dict[str, float] = {}
    for name, u in each.items():
        g = groups[name]
        grouped[g] = max(grouped.get(g, 0.0), u)
    return each, grouped, groups


def build_result(
    *,
    arch,
    workload,
    options: dict,
    totals: RunTotals,
    traffic_bytes_per_token: dict[str, float],
    busy_s: Mapping[Resource, float],
    ledger: Ledger,
    placement: dict,
    wall_s: float,
    engine_events: int = 0,
    bottleneck: str | None = None,
) -> Result:
    """The result record of any run (chip or GPU): registry metrics, energy per token by
    part, utilization and bottleneck, published comparison, counts and configs.

    `options` are the run options that enter the config hash (fidelity, contention, seed,
    tokens, ...); `bottleneck` None picks the group with the highest utilization.
    """
    n = totals.tokens
    metrics = metric_values(totals)
    energy_rows = {f"{c}.{e}": j / n for (c, e), j in sorted(totals.energy.dynamic.items())}
    energy_rows |= {f"{c}.static": j / n for c, j in sorted(totals.energy.static.items())}
    each, grouped, groups = _utilization(busy_s, totals.elapsed_s)
    if bottleneck is None:
        bottleneck = max(grouped, key=grouped.get) if grouped else "none"
    arch_dump = arch.model_dump(mode="json")
    workload_dump = workload.model_dump(mode="json")
    return Result(
        version=__version__,
        architecture=arch.name,
        workload=workload.name,
        fidelity=options["fidelity"],
        contention=options["contention"],
        seed=options["seed"],
        tokens=len(totals.latencies_s),
        config_hash=config_hash(arch_dump, workload_dump, options),
        metrics=metrics,
        traffic_bytes_per_token=traffic_bytes_per_token,
        energy_per_token_j=energy_rows,
        utilization={"max " + g: u for g, u in sorted(grouped.items())} | each,
        bottleneck=bottleneck,
        published=published_block(arch.published, metrics),
        placement=placement,
        event_counts=ledger.as_dict(),
        latencies_s=list(totals.latencies_s),
        wall_s=wall_s,
        engine_events=engine_events,
        config={"architecture": arch_dump, "workload": workload_dump, "options": options},
        resource_groups=groups,
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
