"""The metric registry: one entry per metric, read by results (chips and GPUs), sweeps,
Pareto fronts, the comparison table and the report; typed resource identifiers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from neurosim.analysis.compare import comparison_row
from neurosim.analysis.pareto import default_sense
from neurosim.resources import Resource, ResourceKind
from neurosim.results import metrics as registry
from neurosim.results.metrics import (
    LEARNING_METRICS,
    METRICS,
    SPIKING_NETWORK_METRICS,
    Metric,
    RunTotals,
    percentile,
)
from neurosim.results.report import published_table
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, run_system
from neurosim.sweep.names import dimension_of, metric_title
from neurosim.sweep.spec import KNOWN_METRICS

REPO = Path(__file__).parent.parent
A800 = REPO / "architectures/a800.yaml"


@pytest.fixture(scope="module")
def chip_and_gpu(tiny_arch, tiny_workload):
    chip = simulate(tiny_arch, tiny_workload, n_tokens=3, fidelity="analytic")
    gpu = run_system(load_architecture(A800), tiny_workload, n_tokens=3)
    return chip, gpu


def test_every_entry_is_complete_and_sweeps_know_exactly_the_registry():
    assert KNOWN_METRICS == tuple(METRICS)
    for name, m in METRICS.items():
        assert m.name == name and m.description and m.title
        assert m.better in ("lower", "higher", "none")
    assert METRICS["tokens_per_s"].better == "higher"
    assert METRICS["energy_per_token_j"].better == "lower"


def test_chip_and_gpu_results_carry_the_same_metrics_in_registry_order(chip_and_gpu):
    chip, gpu = chip_and_gpu
    skipped = ("area_m2", "fabric_power_w", "prefill_tokens_per_s", "perplexity", "agreement",
               *LEARNING_METRICS, *SPIKING_NETWORK_METRICS)
    without_area = [m for m in METRICS if m not in skipped]
    assert list(chip.metrics) == without_area  # tiny chip: no areas, FPGA, prefill, accuracy...
    assert list(gpu.metrics) == without_area


def test_a_new_entry_reaches_chip_and_gpu_results_titles_and_pareto(
    monkeypatch, tiny_arch, tiny_workload
):
    new = Metric(
        name="energy_per_synop_j",
        unit="J",
        better="lower",
        title="energy per synaptic op",
        short="per synop",
        value=lambda t: t.energy.total_j / t.synops if t.synops else None,
        description="all energy over synaptic operations",
    )
    faster = Metric(
        name="synops_per_s",
        unit="synops/s",
        better="higher",
        title="synaptic op rate",
        short="",
        value=lambda t: t.synops / t.elapsed_s,
        description="synaptic operations per simulated second",
    )
    monkeypatch.setitem(registry.METRICS, new.name, new)
    monkeypatch.setitem(registry.METRICS, faster.name, faster)
    chip = simulate(tiny_arch, tiny_workload, n_tokens=2, fidelity="analytic")
    gpu = run_system(load_architecture(A800), tiny_workload, n_tokens=2)
    for r in (chip, gpu):
        assert r.metrics["energy_per_synop_j"] == pytest.approx(
            r.metrics["energy_per_token_j"] / r.metrics["synops_per_token"], rel=1e-12
        )
    assert metric_title("energy_per_synop_j") == "energy per synaptic op"
    assert metric_title("synops_per_s") == "synaptic op rate (synops/s)"
    assert dimension_of("energy_per_synop_j") == "energy"
    assert default_sense("synops_per_s") == "max"
    assert default_sense("energy_per_synop_j") == "min"


def test_titles_senses_and_headings_come_from_the_registry():
    assert metric_title("tokens_per_s", "max") == "throughput (tokens/s)  (higher is better)"
    assert metric_title("latency_mean_s") == "mean latency per token"  # ticks carry the unit
    assert dimension_of("tokens_per_s") is None and dimension_of("latency_p99_s") == "time"
    assert default_sense("tokens_per_j") == "max" and default_sense("total_power_w") == "min"
    assert METRICS["latency_mean_s"].heading("m") == "latency ms"
    assert METRICS["energy_per_token_j"].heading("m") == "mJ/token"
    assert METRICS["memory_footprint_bytes"].heading("G") == "footprint GB"


def test_comparison_row_scales_registry_metrics(chip_and_gpu):
    chip, _ = chip_and_gpu
    row = comparison_row(chip)
    assert list(row)[2:8] == [
        "tokens/s",
        "latency ms",
        "mJ/token",
        "dynamic W",
        "total W",
        "footprint GB",
    ]
    assert row["latency ms"] == pytest.approx(1e3 * chip.metrics["latency_mean_s"], rel=1e-12)
    assert row["mJ/token"] == pytest.approx(1e3 * chip.metrics["energy_per_token_j"], rel=1e-12)


def test_one_published_block_for_chips_and_gpus(chip_and_gpu, tiny_arch, tiny_workload):
    from neurosim.config.overrides import with_overrides

    published = {"published": {"source": "a test", "tokens_per_s": 100.0, "dynamic_power_w": 2}}
    chip = simulate(
        with_overrides(tiny_arch, published), tiny_workload, n_tokens=2, fidelity="analytic"
    )
    p = chip.published
    assert p["tokens_per_s_error"] == pytest.approx(chip.metrics["tokens_per_s"] / 100 - 1)
    assert p["dynamic_power_error"] == pytest.approx(chip.metrics["dynamic_power_w"] / 2 - 1)
    _, gpu = chip_and_gpu
    g = gpu.published  # the A800 preset gives tokens/s, board power and energy per token
    assert g["total_power_error"] == pytest.approx(
        gpu.metrics["total_power_w"] / g["total_power_w"] - 1
    )
    assert g["energy_per_token_error"] == pytest.approx(
        gpu.metrics["energy_per_token_j"] / g["energy_per_token_j"] - 1
    )
    # the preset's figures are for nsllm-1.5b: on another workload they are not compared
    assert "not compared" in published_table(gpu)
    same = dataclasses.replace(gpu, workload=gpu.published["workload"])
    text = published_table(same)
    assert "throughput (tokens/s)" in text and "energy per token (J)" in text


def test_percentile_helper():
    assert percentile([], 50) == 0.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0], 100) == 4.0


def test_onchip_power_leaves_out_only_the_offchip_components():
    from neurosim.results.pricing import EnergyBreakdown

    energy = EnergyBreakdown(
        dynamic={("compute", "synop"): 1.0, ("dram.a", "read_bit"): 3.0, ("hbm", "read_bit"): 5.0},
        static={"compute": 2.0},
    )
    totals = RunTotals(
        latencies_s=[0.5, 1.5],
        elapsed_s=2.0,
        energy=energy,
        parameters=10,
        weight_bytes=20,
        memory_footprint_bytes=30,
        synops=8,
        spikes=4,
        offchip_components=frozenset({"dram.a", "hbm"}),
    )
    values = registry.metric_values(totals)
    assert values["dynamic_power_w"] == 9.0 / 2
    assert values["dynamic_power_onchip_w"] == 1.0 / 2
    assert values["energy_per_token_j"] == 11.0 / 2
    assert values["tokens_per_s"] == 1.0
    assert values["latency_p50_s"] == 1.0
    assert "area_m2" not in values


def test_resources_are_typed_and_keep_their_printed_names(chip_and_gpu):
    assert Resource.compute(3).display == "compute[3]"
    assert Resource.compute(3).group == "compute"
    assert Resource.compute().display == "compute"
    assert Resource.dram("ddr4").display == Resource.dram("ddr4").group == "dram.ddr4"
    assert Resource.link(12, 11).display == "link 12->11"
    assert Resource.link(12, 11).group == "interconnect"
    chip_link = Resource.link(0, 1, chip=True)
    assert (chip_link.display, chip_link.group) == ("chip link 0->1", "chip_links")
    assert Resource(ResourceKind.ONCHIP_MEMORY).display == "onchip_memory"
    chip, gpu = chip_and_gpu
    for r in (chip, gpu):
        for name, group in r.resource_groups.items():
            assert r.utilization[f"max {group}"] >= r.utilization[name]
        assert r.bottleneck in set(r.resource_groups.values()) | {"power (TDP)"}
    assert chip.resource_groups["compute[0]"] == "compute"
    assert any(g == "interconnect" for g in chip.resource_groups.values())
    assert set(gpu.resource_groups.values()) == {"compute", "hbm", "per-token overhead"}
