"""Tests of neurosim.simulate.gpu: the analytical batch-1 decode model of a GPU and its presets.

Hand-computed cases use the tiny workload (tests/fixtures/tiny_workload.yaml):
  linear weights per block: q 48x48 + k 48x16 + v 48x16 + o 48x48 + up 48x64 + down 64x48
      = 2304 + 768 + 768 + 2304 + 3072 + 3072 = 12288; 2 blocks = 24576; head 48x100 = 4800
      -> 29376 weights (embedding tied), 58752 B at fp16, 58752 FLOPs (2 per weight)
  activations read: inputs 5 x 48 + 64 = 304 per block -> 608, head 48, embedding row 48
      -> 704 elements = 1408 B; written: outputs 240 per block -> 480, head 100 -> 580 = 1160 B
  linear attention: 2 blocks x 2 heads x 8 x 8 = 256 state elements; 32-bit state -> 1024 B
      read and 1024 B written; 5 FLOPs per element -> 1280 FLOPs
  so a token moves 58752 + 1408 + 1024 = 61184 B read + 1160 + 1024 = 2184 B written
  = 63368 B and does 58752 + 1280 = 60032 FLOPs.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import NSLLM_WORKLOAD, REPO, variant
from pydantic import ValidationError

from neurosim.config.loader import load_config, load_yaml_with_lines, resolve_extends
from neurosim.config.provenance import unsourced_numbers
from neurosim.errors import ConfigError, SimulationError
from neurosim.results.report import result_table
from neurosim.simulate.gpu import (
    GpuArchitecture,
    decode_shape,
    gpu_result_table,
    gpu_summary_lines,
    is_gpu_config,
    load_gpu_architecture,
    memory_footprint,
    simulate_gpu,
    token_cost,
)
from neurosim.workload.model import build_model_graph
from neurosim.workload.spikes import SyntheticSpikeSource

PRESETS = REPO / "architectures"
EXACT = {"rel": 1e-12, "abs": 0.0}

TINY_GPU = {
    "kind": "gpu",
    "name": "tiny_gpu",
    "precision": "fp16",
    "peak_flops": {"fp16": "1 TFLOPS", "fp32": 5e11},
    "compute_efficiency": 0.5,
    "hbm_bandwidth_bytes_per_s": "1 GB/s",
    "hbm_efficiency": 0.5,
    "memory_capacity_bytes": "1 MB",
    "hbm_energy_j_per_bit": "4 pJ/bit",
    "energy_per_flop_j": {"fp16": "1 pJ", "fp32": "2 pJ"},
    "kernels_per_layer": 3,
    "kernels_other": 4,
    "kernel_overhead_s": "1 us",
    "framework_memory_bytes": 1000,
    "idle_power_w": "10 W",
    "tdp_w": "1000 W",
    "kv_cache_bits": 16,
    "recurrent_state_bits": 32,
    "provenance": {"all": "test fixture"},
}

# hand-computed token of the tiny workload on TINY_GPU (see the module docstring)
FLOPS = 60032
HBM_BYTES = 63368
E_FLOP = FLOPS * 1e-12
E_HBM = HBM_BYTES * 8 * 4e-12
OVERHEAD_S = (2 * 3 + 4) * 1e-6  # 10 kernels x 1 us


@pytest.fixture(scope="module")
def gpu() -> GpuArchitecture:
    return GpuArchitecture(**TINY_GPU)


def _tokens(result, n):
    assert result.tokens == n
    assert len(result.latencies_s) == n


# --------------------------------------------------------------------------- hand-computed


def test_memory_bound_token_time_and_energy(gpu, tiny_workload):
    r = simulate_gpu(gpu, tiny_workload, n_tokens=3)
    _tokens(r, 3)
    hbm_s = HBM_BYTES / (1e9 * 0.5)  # 1.26736e-4 s, above 1.20064e-7 s of compute
    t = max(hbm_s, OVERHEAD_S)  # 1.26736e-4 s: the 10 us of launches hide under the GPU
    assert r.latencies_s == [pytest.approx(t, **EXACT)] * 3
    assert r.metrics["tokens_per_s"] == pytest.approx(1 / t, **EXACT)
    assert r.bottleneck == "hbm"
    m = r.metrics
    assert m["dynamic_energy_per_token_j"] == pytest.approx(E_FLOP + E_HBM, **EXACT)
    assert m["static_energy_per_token_j"] == pytest.approx(10 * t, **EXACT)
    assert m["energy_per_token_j"] == pytest.approx(E_FLOP + E_HBM + 10 * t, **EXACT)
    assert r.energy_per_token_j["gpu.flop"] == pytest.approx(E_FLOP, **EXACT)
    assert r.energy_per_token_j["hbm.read_bit"] == pytest.approx(61184 * 8 * 4e-12, **EXACT)
    assert r.energy_per_token_j["hbm.write_bit"] == pytest.approx(2184 * 8 * 4e-12, **EXACT)
    assert m["static_power_w"] == pytest.approx(10, **EXACT)
    assert m["dynamic_power_w"] == pytest.approx((E_FLOP + E_HBM) / t, **EXACT)
    assert m["synops_per_token"] == FLOPS / 2  # MACs, not spike operations
    assert m["spikes_per_token"] == 0
    assert m["parameters"] == 29376
    assert m["weight_bytes"] == 58752
    assert r.traffic_bytes_per_token["dram_read"] == 61184
    assert r.traffic_bytes_per_token["dram_write"] == 2184
    assert r.traffic_bytes_per_token["hbm.state_read"] == 1024
    assert r.event_counts == {
        "gpu/flop": 3 * FLOPS,
        "hbm/read_bit": 3 * 61184 * 8,
        "hbm/write_bit": 3 * 2184 * 8,
    }


def test_compute_bound_token(tiny_workload):
    arch = GpuArchitecture(**{**TINY_GPU, "peak_flops": {"fp16": 1e8}})
    r = simulate_gpu(arch, tiny_workload, n_tokens=2)
    compute_s = FLOPS / (1e8 * 0.5)  # 1.20064e-3 s, above the 1.26736e-4 s of HBM time
    t = max(compute_s, OVERHEAD_S)
    assert r.latencies_s == [pytest.approx(t, **EXACT)] * 2
    assert r.bottleneck == "compute"
    assert r.metrics["dynamic_energy_per_token_j"] == pytest.approx(E_FLOP + E_HBM, **EXACT)
    assert r.metrics["energy_per_token_j"] == pytest.approx(E_FLOP + E_HBM + 10 * t, **EXACT)
    assert r.utilization["max compute"] == pytest.approx(FLOPS / 1e8 / t, **EXACT)


def test_host_and_gpu_streams_overlap_plus_gaps_and_sync(tiny_workload):
    # host 10 kernels x 20 us = 200 us; GPU 126.736 us of HBM + 10 x 5 us gaps = 176.736 us
    arch = GpuArchitecture(**{**TINY_GPU, "kernel_overhead_s": "20 us", "kernel_gap_s": "5 us",
                              "sync_overhead_s": "7 us"})
    r = simulate_gpu(arch, tiny_workload, n_tokens=1)
    assert r.latencies_s == [pytest.approx(200e-6 + 7e-6, **EXACT)]
    assert r.bottleneck == "per-token overhead"
    steps = r.placement["time_per_token_s"]
    assert steps["gpu_stream"] == pytest.approx(HBM_BYTES / 5e8 + 50e-6, **EXACT)
    assert steps["kernel_gaps"] == pytest.approx(50e-6, **EXACT)
    assert steps["sync"] == pytest.approx(7e-6, **EXACT)
    # a slower host step hides nothing more; a faster one (2 us x 10) hides under the GPU
    fast = GpuArchitecture(**{**TINY_GPU, "kernel_overhead_s": "2 us", "kernel_gap_s": "5 us",
                              "sync_overhead_s": "7 us"})
    r = simulate_gpu(fast, tiny_workload, n_tokens=1)
    assert r.latencies_s == [pytest.approx(HBM_BYTES / 5e8 + 50e-6 + 7e-6, **EXACT)]
    assert r.bottleneck == "hbm"


def test_graph_execution_launches_once_per_step(tiny_workload):
    # eager: 10 kernels x 1 ms of host time; graph: one 30 us launch, the GPU sets the pace
    graph = GpuArchitecture(**{**TINY_GPU, "kernel_overhead_s": "1 ms", "execution": "graph",
                               "graph_launch_s": "30 us"})
    r = simulate_gpu(graph, tiny_workload, n_tokens=1)
    assert r.placement["time_per_token_s"]["per_token_overhead"] == pytest.approx(30e-6, **EXACT)
    assert r.latencies_s == [pytest.approx(HBM_BYTES / 5e8, **EXACT)]
    assert r.bottleneck == "hbm"
    slow_launch = GpuArchitecture(**{**TINY_GPU, "execution": "graph", "graph_launch_s": "1 ms"})
    r = simulate_gpu(slow_launch, tiny_workload, n_tokens=1)
    assert r.latencies_s == [pytest.approx(1e-3, **EXACT)]
    assert r.bottleneck == "per-token overhead"


def test_gemm_efficiency_grows_with_vectors_per_step(tiny_workload):
    # 1e8 peak: compute_efficiency 0.1 per vector, capped at gemm_efficiency 0.25
    base = {**TINY_GPU, "peak_flops": {"fp16": 1e8}, "compute_efficiency": 0.1,
            "kernel_overhead_s": 0}
    arch = GpuArchitecture(**{**base, "gemm_efficiency": 0.25})
    fixed = GpuArchitecture(**base)
    shape = decode_shape(tiny_workload)
    one = token_cost(arch, shape, 0, batch=1)
    assert one.compute_s == pytest.approx(FLOPS / (1e8 * 0.1), **EXACT)
    two = token_cost(arch, shape, 0, batch=2)  # 2 vectors: 0.2 of peak
    assert two.compute_s == pytest.approx(two.flops / (1e8 * 0.2), **EXACT)
    eight = token_cost(arch, shape, 0, batch=8)  # 0.8 capped at 0.25
    assert eight.compute_s == pytest.approx(eight.flops / (1e8 * 0.25), **EXACT)
    assert token_cost(fixed, shape, 0, batch=8).compute_s == pytest.approx(
        eight.flops / (1e8 * 0.1), **EXACT)
    with pytest.raises(ValidationError, match="gemm_efficiency"):
        GpuArchitecture(**{**base, "gemm_efficiency": 0.05})


def test_overhead_bound_token(tiny_workload):
    arch = GpuArchitecture(**{**TINY_GPU, "kernel_overhead_s": "1 ms"})
    r = simulate_gpu(arch, tiny_workload, n_tokens=1)
    t = 10 * 1e-3  # the host stream (10 kernels x 1 ms) hides the 0.127 ms of GPU work
    assert r.latencies_s == [pytest.approx(t, **EXACT)]
    assert r.bottleneck == "per-token overhead"
    assert r.placement["time_per_token_s"]["per_token_overhead"] == pytest.approx(1e-2, **EXACT)
    assert r.utilization["max per-token overhead"] == pytest.approx(1e-2 / t, **EXACT)


def test_tdp_caps_dynamic_power_by_stretching_time(tiny_workload):
    arch = GpuArchitecture(**{**TINY_GPU, "tdp_w": 10.001})  # 1 mW of dynamic headroom
    r = simulate_gpu(arch, tiny_workload, n_tokens=2)
    t = (E_FLOP + E_HBM) / 1e-3  # 2.087808e-3 s instead of 1.36736e-4 s
    assert r.latencies_s == [pytest.approx(t, **EXACT)] * 2
    assert r.metrics["dynamic_power_w"] == pytest.approx(1e-3, **EXACT)
    assert r.metrics["total_power_w"] == pytest.approx(10.001, **EXACT)
    assert r.bottleneck == "power (TDP)"
    assert r.placement["power_capped_tokens"] == 2


def test_softmax_token_hand_computed(gpu, tiny_workload):
    shape = decode_shape(tiny_workload, "softmax")
    cost = token_cost(gpu, shape, position=10)  # attends to 11 keys
    # scores 2 x 11 x 48 + values 2 x 11 x 48 x (16/16), per block, 2 blocks
    assert cost.attention_flops == 2 * (2 * 11 * 48 * 2)
    # K and V: 2 blocks x (16 + 16) values x 2 B = 128 B per cached token
    assert cost.attention_read_bytes == 11 * 128
    assert cost.attention_write_bytes == 128
    assert cost.flops == 58752 + 4224
    assert cost.hbm_bytes == 58752 + 1408 + 1160 + 11 * 128 + 128


def test_energy_parts_sum_and_traffic_consistent(gpu, tiny_workload):
    r = simulate_gpu(gpu, tiny_workload, n_tokens=4, attention="softmax", context_tokens=50)
    assert sum(r.energy_per_token_j.values()) == pytest.approx(
        r.metrics["energy_per_token_j"], rel=1e-12
    )
    t = r.traffic_bytes_per_token
    parts = [v for k, v in t.items() if k.startswith("hbm.")]
    assert sum(parts) == pytest.approx(t["dram_read"] + t["dram_write"], rel=1e-12)
    assert r.metrics["total_power_w"] == pytest.approx(
        r.metrics["dynamic_power_w"] + r.metrics["static_power_w"], rel=1e-12
    )


# --------------------------------------------------------------------------- attention, context


def test_softmax_grows_with_context_linear_does_not(gpu, tiny_workload):
    soft = [
        simulate_gpu(gpu, tiny_workload, n_tokens=4, attention="softmax", context_tokens=c)
        for c in (0, 4000)
    ]
    lin = [simulate_gpu(gpu, tiny_workload, n_tokens=4, context_tokens=c) for c in (0, 4000)]
    assert soft[1].metrics["latency_mean_s"] > 2 * soft[0].metrics["latency_mean_s"]
    assert soft[1].metrics["energy_per_token_j"] > soft[0].metrics["energy_per_token_j"]
    fp = [s.placement["footprint_bytes"]["total"] for s in soft]
    assert fp[1] - fp[0] == 4000 * 128
    lat = soft[1].latencies_s
    assert all(a < b for a, b in zip(lat, lat[1:], strict=False))  # grows token by token
    assert lin[0].latencies_s == lin[1].latencies_s
    assert lin[0].metrics == lin[1].metrics
    assert lin[0].placement["footprint_bytes"] == lin[1].placement["footprint_bytes"]
    assert {r.placement["attention"] for r in soft} == {"softmax"}
    assert soft[0].placement["attention_chosen_by"] == "override"
    assert lin[0].placement["attention"] == "linear"
    assert lin[0].placement["attention_chosen_by"] == "workload"
    assert soft[0].config["options"]["attention"] == "softmax"


def test_context_from_architecture_then_workload(gpu, tiny_workload):
    wl = variant(tiny_workload, {"context_tokens": 30})
    r = simulate_gpu(gpu, wl, n_tokens=1, attention="softmax")
    assert r.placement["context_tokens"] == 30
    arch = GpuArchitecture(**{**TINY_GPU, "context_tokens": 7})
    r = simulate_gpu(arch, wl, n_tokens=1, attention="softmax")
    assert r.placement["context_tokens"] == 7
    r = simulate_gpu(arch, wl, n_tokens=1, attention="softmax", context_tokens=2)
    assert r.placement["context_tokens"] == 2


def test_attention_default_follows_the_workload(gpu, tiny_workload):
    softmax_model = variant(tiny_workload, {"blocks.linear_attention": None})
    assert decode_shape(softmax_model).attention == "softmax"
    assert decode_shape(tiny_workload).attention == "linear"
    with pytest.raises(ConfigError, match="linear_attention"):
        simulate_gpu(gpu, softmax_model, attention="linear")
    no_kv = variant(
        tiny_workload,
        {
            "blocks.linears": [
                {"name": f"up_{s}", "site": s, "out": 8}
                for s in ("attn_in", "attn_ctx", "mlp_in", "mlp_act")
            ]
        },
    )
    with pytest.raises(ConfigError, match="k_proj"):
        simulate_gpu(gpu, no_kv, attention="softmax")
    with pytest.raises(ValueError, match="unknown attention"):
        simulate_gpu(gpu, tiny_workload, attention="flash")


# --------------------------------------------------------------------------- footprint


def test_footprint_breakdown_and_fit(gpu, tiny_workload):
    r = simulate_gpu(gpu, tiny_workload, n_tokens=8)
    assert r.placement["footprint_bytes"] == {
        "weights": 58752.0,
        "recurrent_state": 1024.0,
        "activations": 400.0,  # 2 live vectors x widest (100, the head) x 2 B
        "framework": 1000.0,
        "total": 61176.0,
    }
    assert r.placement["fits_in_memory"] is True
    assert r.placement["max_context_tokens"] is None
    soft = simulate_gpu(gpu, tiny_workload, n_tokens=8, attention="softmax", context_tokens=10)
    fp = soft.placement["footprint_bytes"]
    assert fp["kv_cache"] == 18 * 128  # 10 + 8 cached tokens at the end
    assert fp["total"] == 58752 + 18 * 128 + 400 + 1000
    assert soft.placement["max_context_tokens"] == (1_000_000 - 60152) // 128
    small = GpuArchitecture(**{**TINY_GPU, "memory_capacity_bytes": 60000})
    r = simulate_gpu(small, tiny_workload, n_tokens=1)
    assert r.placement["fits_in_memory"] is False
    assert r.placement["memory_headroom_bytes"] < 0
    shape = decode_shape(tiny_workload, "softmax")
    assert memory_footprint(gpu, shape, 0)["kv_cache"] == 0


# --------------------------------------------------------------------------- spikes


def test_firing_rate_does_not_change_the_gpu(gpu, tiny_workload):
    results = []
    for silent in (0.05, 0.95):
        wl = variant(tiny_workload, {"spikes.synthetic.default.silent_fraction": silent})
        results.append(simulate_gpu(gpu, wl, n_tokens=3, seed=1))
    a, b = results
    assert a.metrics == b.metrics
    assert a.latencies_s == b.latencies_s
    assert a.energy_per_token_j == b.energy_per_token_j
    assert a.traffic_bytes_per_token == b.traffic_bytes_per_token


def test_spike_source_is_consumed(gpu, tiny_workload):
    graph = build_model_graph(tiny_workload)

    class Counting:
        def __init__(self, limit=None):
            self.inner = SyntheticSpikeSource(graph, seed=3)
            self.seen = 0
            self.limit = limit

        def tokens(self, n_tokens):
            for tok in self.inner.tokens(min(n_tokens, self.limit or n_tokens)):
                self.seen += 1
                yield tok

    src = Counting()
    r = simulate_gpu(gpu, tiny_workload, n_tokens=5, source=src)
    assert src.seen == 5 and r.tokens == 5
    short = Counting(limit=2)
    assert simulate_gpu(gpu, tiny_workload, n_tokens=5, source=short).tokens == 2
    with pytest.raises(SimulationError, match="no tokens"):
        simulate_gpu(gpu, tiny_workload, n_tokens=5, source=Counting(limit=-1))
    with pytest.raises(SimulationError, match="n_tokens"):
        simulate_gpu(gpu, tiny_workload, n_tokens=0)
    with pytest.raises(SimulationError, match="seed"):
        simulate_gpu(gpu, tiny_workload, seed=-1)


def test_result_has_the_common_metric_keys(gpu, tiny_workload):
    r = simulate_gpu(gpu, tiny_workload, n_tokens=2)
    assert set(r.metrics) == {
        "parameters", "tokens_per_s", "latency_mean_s", "latency_p50_s", "latency_p99_s",
        "energy_per_token_j", "dynamic_energy_per_token_j", "static_energy_per_token_j",
        "dynamic_power_w", "dynamic_power_onchip_w", "total_power_onchip_w", "static_power_w",
        "total_power_w",
        "tokens_per_j", "synops_per_token", "spikes_per_token", "weight_bytes",
        "memory_footprint_bytes", "time_to_first_token_s", "time_per_output_token_s",
        "decode_tokens_per_s",
    }  # fmt: skip
    assert r.fidelity == "analytic" and r.contention is False
    assert "tiny_gpu" in result_table(r)  # the generic table reads a GPU Result
    assert "recurrent_state" in gpu_result_table(r)
    again = simulate_gpu(gpu, tiny_workload, n_tokens=2)
    assert again.config_hash == r.config_hash
    other = simulate_gpu(gpu, tiny_workload, n_tokens=2, attention="softmax")
    assert other.config_hash != r.config_hash


def test_precision_changes_bytes_and_energy(tiny_workload):
    arch = GpuArchitecture(**{**TINY_GPU, "precision": "fp32"})
    cost = token_cost(arch, decode_shape(tiny_workload), 0)
    assert cost.weight_bytes == 29376 * 4
    assert cost.flop_energy_j == pytest.approx(FLOPS * 2e-12, **EXACT)
    assert cost.compute_s == pytest.approx(FLOPS / (5e11 * 0.5), **EXACT)


# --------------------------------------------------------------------------- config


def _write(tmp_path: Path, data: dict, name: str = "gpu.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_valid_yaml_and_units(tmp_path):
    arch = load_gpu_architecture(_write(tmp_path, TINY_GPU))
    assert arch.peak_flops["fp16"] == 1e12
    assert arch.hbm_bandwidth_bytes_per_s == 1e9
    assert arch.kernel_overhead_s == pytest.approx(1e-6, **EXACT)
    assert arch.energy_per_flop_j["fp16"] == pytest.approx(1e-12, **EXACT)
    assert is_gpu_config(TINY_GPU) and not is_gpu_config({"compute": {}})


@pytest.mark.parametrize(
    ("change", "key", "words"),
    [
        ({"hbm_bandwith_bytes_per_s": "1 GB/s"}, "hbm_bandwith_bytes_per_s", "unknown key"),
        ({"hbm_bandwidth_bytes_per_s": "-1 GB/s"}, "hbm_bandwidth_bytes_per_s", "greater than"),
        ({"precision": "fp8"}, "precision", "fp16"),
        ({"peak_flops": {"fp16": 1e12, "fp8": 2e12}}, "peak_flops", "fp8"),
        ({"peak_flops": {"fp16": "12 furlongs"}}, "peak_flops.fp16", "TFLOPS"),
        ({"energy_per_flop_j": {"fp32": "1 pJ"}}, "", "no energy_per_flop_j entry"),
        ({"hbm_efficiency": 0}, "hbm_efficiency", "greater than 0"),
        ({"compute_efficiency": 1.5}, "compute_efficiency", "less than or equal"),
        ({"tdp_w": "5 W"}, "", "must exceed idle_power_w"),
        ({"kind": "spiking_core"}, "kind", "gpu"),
        ({"kernels_per_layer": -1}, "kernels_per_layer", "greater than or equal"),
    ],
)
def test_invalid_configs_raise_config_error(tmp_path, change, key, words):
    path = _write(tmp_path, {**TINY_GPU, **change})
    with pytest.raises(ConfigError) as err:
        load_config(GpuArchitecture, path)
    text = str(err.value)
    assert words in text
    assert str(path) in text
    if key:
        assert f": {key}" in text


# --------------------------------------------------------------------------- presets


@pytest.mark.parametrize("name", ["a800", "a800_pcie", "a800_pcie_40gb"])
def test_presets_validate_and_are_sourced(name):
    path = PRESETS / f"{name}.yaml"
    arch = load_gpu_architecture(path, search_dirs=(PRESETS,))
    assert arch.name == name and arch.kind == "gpu"
    data, lines = load_yaml_with_lines(path)
    merged, _ = resolve_extends(path, data, lines, (PRESETS,))
    assert is_gpu_config(merged)
    assert unsourced_numbers(merged) == []
    assert gpu_summary_lines(arch)


def test_pcie_preset_overrides_sxm():
    sxm = load_gpu_architecture(PRESETS / "a800.yaml")
    pcie = load_gpu_architecture(PRESETS / "a800_pcie.yaml", search_dirs=(PRESETS,))
    assert sxm.hbm_bandwidth_bytes_per_s == 2039e9 and sxm.tdp_w == 400
    assert pcie.hbm_bandwidth_bytes_per_s == 1935e9 and pcie.tdp_w == 300
    assert pcie.peak_flops == sxm.peak_flops
    assert pcie.memory_capacity_bytes == sxm.memory_capacity_bytes


def test_a800_on_nsllm_is_overhead_bound_and_fits():
    from neurosim.config.workload import Workload

    arch = load_gpu_architecture(PRESETS / "a800.yaml")
    wl = load_config(Workload, NSLLM_WORKLOAD)
    r = simulate_gpu(arch, wl, n_tokens=4)
    assert r.bottleneck == "per-token overhead"
    assert r.placement["attention"] == "linear"
    assert r.placement["fits_in_memory"]
    # dense FP16 weights of 1.555B parameters stream from HBM every token
    assert r.traffic_bytes_per_token["hbm.weights_read"] == pytest.approx(2 * 1.5547e9, rel=1e-3)
    assert r.metrics["dynamic_power_w"] < arch.tdp_w - arch.idle_power_w
    assert "tokens_per_s_error" in r.published
    # the published figures are a target, not an input: the overhead is built from kernels
    assert arch.kernel_overhead_s < 1e-4
