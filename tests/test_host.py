"""The host CPU: LM head, embedding lookup and sampling placed on it, priced and timed."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import variant

from neurosim.components.host import HostWork
from neurosim.simulate.run import prepare, simulate

CPU = {
    "cores": 2,
    "clock_hz": "1 GHz",
    "ops_per_cycle": 4,  # 8e9 operations per second
    "memory_bandwidth_bytes_per_s": "0.5 GB/s",
    "active_power_w": "2 W",
    "static_power_w": "1 W",
}
LINK = {
    "bandwidth_bytes_per_s": "100 MB/s",
    "sync_latency_s": "1 us",
    "energy_j_per_bit": "1 pJ/bit",
}


def on_host(arch, *runs):
    host = {"per_token_overhead_s": "10 ns", "runs": list(runs), "cpu": CPU, "link": LINK}
    return variant(arch, {"host": host})


def test_head_and_sampling_on_the_host_by_hand(tiny_arch, tiny_workload):
    prep = prepare(on_host(tiny_arch, "lm_head", "sampling"), tiny_workload)
    host = prep.host
    # LM head 48 x 100 at 2 bits = 1200 B: reads 2.4 us at 0.5 GB/s > 9600 ops / 8e9 = 1.2 us
    # sampling: 100 logits x 16 bits = 200 B: 0.4 us > 500 ops / 8e9
    assert host.compute_s == pytest.approx(2.8e-6)
    # crossings: head input 48 counts x 3 bits (L = 8) out, the 32-bit token id back
    assert (host.crossings, host.link_bits) == (2, 48 * 3 + 32)
    assert host.link_s == pytest.approx(2e-6 + 22 / 100e6)
    assert host.token_s == pytest.approx(2.8e-6 + 2.22e-6 + 10e-9)
    assert host.counts() == {("host", "active_ps"): 2_800_000, ("host_link", "bit"): 176}
    # the chip no longer holds or streams the head
    assert prep.graph.groups[-1].name != "head" and prep.graph.host_head is not None
    assert "lm_head" not in prep.placement.linear_names
    assert prep.graph.parameters == prepare(tiny_arch, tiny_workload).graph.parameters


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_host_time_adds_to_every_token_in_both_fidelities(tiny_arch, tiny_workload, fidelity):
    arch = on_host(tiny_arch, "lm_head", "sampling")
    prep = prepare(arch, tiny_workload)
    chip_only = dataclasses.replace(prep, host=HostWork(0.0, 0.0, 0, 0, 0.0))
    with_host = simulate(arch, tiny_workload, n_tokens=2, fidelity=fidelity, prepared=prep)
    without = simulate(arch, tiny_workload, n_tokens=2, fidelity=fidelity, prepared=chip_only)
    extra = with_host.metrics["latency_mean_s"] - without.metrics["latency_mean_s"]
    assert extra == pytest.approx(5.03e-6, abs=1e-12)
    counts = with_host.event_counts
    chip_only_bytes = simulate(tiny_arch, tiny_workload, n_tokens=1, fidelity=fidelity)
    assert with_host.metrics["weight_bytes"] == chip_only_bytes.metrics["weight_bytes"]
    assert counts["host/active_ps"] == 2 * 2_800_000
    assert counts["host_link/bit"] == 2 * 176
    energy = with_host.energy_per_token_j
    assert energy["host.active_ps"] == pytest.approx(2.0 * 2.8e-6)  # 2 W while it works
    assert energy["host_link.bit"] == pytest.approx(176e-12)
    assert energy["host.static"] == pytest.approx(1.0 * with_host.metrics["latency_mean_s"])


def test_embedding_on_the_host_leaves_the_chip_no_row_fetch(tiny_arch, tiny_workload):
    chip = prepare(tiny_arch, tiny_workload).planner
    host = prepare(on_host(tiny_arch, "embedding"), tiny_workload)
    assert chip.embedding_from_dram and not host.planner.embedding_from_dram
    # the 12-byte row (48 x 2 bits) read from host memory, sent over the link once
    assert host.host.compute_s == pytest.approx(12 / 0.5e9)
    assert (host.host.crossings, host.host.link_bits) == (2, 96 + 32)


def test_host_without_cpu_is_a_named_error(tiny_arch):
    with pytest.raises(ValueError, match="host.cpu and host.link"):
        variant(tiny_arch, {"host": {"runs": ["sampling"]}})
    with pytest.raises(ValueError, match="at most once"):
        variant(tiny_arch, {"host": {"runs": ["sampling", "sampling"], "cpu": CPU, "link": LINK}})
