"""Recurrent and state-space token mixers, and hybrids: hand-computed state and work.

The tiny workload has 2 blocks; its first group per block (attn_in) feeds the mixer.
HGRN with 48 channels at 16 bits keeps 48 x 2 B = 96 B per block and does 3 x 48 = 144
element operations per token and block. The SSM with d_inner 32, d_state 4, d_conv 4 at
16 bits keeps 32 x 4 + 32 x 3 = 224 values (448 B) per block and does
7 x 128 + 2 x 4 x 32 + 4 x 32 = 1280 operations per token and block.
"""

from __future__ import annotations

import pytest
from conftest import variant
from pydantic import ValidationError
from test_gpu import TINY_GPU

from neurosim.cli.app import main
from neurosim.errors import CapabilityError
from neurosim.simulate.gpu import GpuArchitecture, decode_shape, token_cost
from neurosim.simulate.run import prepare, simulate
from neurosim.simulate.systems import (
    load_architecture,
    load_workload,
    resolve_config_path,
    run_system,
)
from neurosim.workload.attention import kv_shape
from neurosim.workload.model import build_model_graph
from neurosim.workload.spikes import SyntheticSpikeSource

HGRN = {"blocks.gated_recurrence": {"channels": 48, "state_bits": 16}, "blocks.attention": "hgrn"}
SSM = {
    "blocks.selective_ssm": {"d_inner": 32, "d_state": 4, "d_conv": 4, "state_bits": 16},
    "blocks.attention": "ssm",
}
SOFTMAX = {"heads": 2, "kv_heads": 1, "head_dim": 8, "kv_bits": 16}
ENGINE = {
    "count": 1,
    "clock_hz": 1e9,
    "macs_per_cycle": 4,
    "exps_per_cycle": 1,
    "energy": {"mac_j": 1e-12, "exp_j": 5e-12},
    "static_power_w": 0.01,
}


@pytest.fixture(scope="module")
def hgrn_workload(tiny_workload):
    return variant(tiny_workload, HGRN)


@pytest.fixture(scope="module")
def ssm_workload(tiny_workload):
    return variant(tiny_workload, SSM)


@pytest.mark.parametrize(
    ("mixer", "block_bytes", "block_ops"),
    [("hgrn", 96, 144), ("ssm", 448, 1280), ("linear", 256, 256)],
)
def test_state_bytes_and_ops_per_block(tiny_workload, mixer, block_bytes, block_ops) -> None:
    wl = variant(tiny_workload, {"linear": {}, "hgrn": HGRN, "ssm": SSM}[mixer])
    graph = build_model_graph(wl)
    assert [s.kind for s in graph.block_states] == [mixer, mixer]
    assert [s.bytes for s in graph.block_states] == [block_bytes, block_bytes]
    assert graph.state_bytes == 2 * block_bytes
    assert [s.ops_per_token for s in graph.block_states] == [block_ops, block_ops]
    assert kv_shape(wl) is None


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
@pytest.mark.parametrize(("mixer", "block_ops"), [("hgrn", 144), ("ssm", 1280)])
def test_state_work_is_charged_per_token(tiny_arch, tiny_workload, fidelity, mixer, block_ops):
    wl = variant(tiny_workload, {"hgrn": HGRN, "ssm": SSM}[mixer])
    result = simulate(tiny_arch, wl, n_tokens=3, seed=1, fidelity=fidelity)
    assert result.event_counts["compute/state_update"] == 3 * 2 * block_ops


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
@pytest.mark.parametrize(("mixer", "block_bytes"), [("hgrn", 96), ("ssm", 448)])
def test_state_that_does_not_fit_goes_to_dram_per_sequence(
    tiny_arch, tiny_workload, fidelity, mixer, block_bytes
) -> None:
    wl = variant(tiny_workload, {"hgrn": HGRN, "ssm": SSM}[mixer])
    batch = 64  # 64 sequences x 2 blocks x >= 96 B exceed the 8 KiB on chip
    prep = prepare(tiny_arch, wl, batch=batch)
    assert not prep.placement.state_resident
    planner = prep.planner
    step = planner.plan_step([prep_tokens(prep)] * batch, vectors=batch, sequences=batch)
    streamed = int(planner.dense_fetch_bytes.sum())
    emb = planner.embedding_fetch_bytes
    # the 64 sequences' states of each block, interleaved over both channels by sustained
    # bandwidth (1 and 3 GB/s): a quarter and three quarters, whole bursts (64 B, 32 B)
    exact = batch * 2 * block_bytes
    assert {ch: n // 2 for ch, n in step.dram_write_bytes.items()} == {
        "ch0": batch * block_bytes // 4, "ch1": 3 * batch * block_bytes // 4
    }
    state = sum(step.dram_write_bytes.values())
    assert state == exact
    assert sum(step.dram_read_bytes.values()) == streamed + state + batch * emb
    one = simulate(tiny_arch, wl, n_tokens=2, seed=0, fidelity=fidelity, batch=batch)
    per_token = one.traffic_bytes_per_token["dram_write"]
    assert per_token == pytest.approx(state / batch)  # per decoded token of one sequence


def prep_tokens(prep):
    return next(iter(SyntheticSpikeSource(prep.graph, 0).tokens(1)))


def test_hybrid_keeps_kv_only_on_softmax_blocks_and_state_on_the_others(tiny_workload):
    wl = variant(
        tiny_workload,
        {"blocks.softmax_attention": SOFTMAX, "blocks.mixer_pattern": ["linear", "softmax"]},
    )
    graph = build_model_graph(wl)
    assert graph.block_mixers == ("linear", "softmax")
    per_block = 4  # attn_in, attn_ctx, mlp_in, mlp_act
    assert graph.softmax_groups == (per_block,)  # block 1's attention input only
    assert graph.state_bytes == 2 * 8 * 8 * 2  # block 0's linear state only
    shape = kv_shape(wl)
    assert shape.layers == 1
    assert shape.bytes_per_token == 1 * 8 * 2 * 2  # one layer: K and V of one head


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_hybrid_kv_traffic_counts_only_its_softmax_layer(tiny_arch, tiny_workload, fidelity):
    base = {"blocks.softmax_attention": SOFTMAX}
    arch = variant(tiny_arch, {"attention_engine": ENGINE, "mapping.kv_cache": "dram"})
    hybrid = variant(tiny_workload, base | {"blocks.mixer_pattern": ["linear", "softmax"]})
    full = variant(tiny_workload, base | {"blocks.attention": "softmax"})
    kw = {"n_tokens": 2, "seed": 0, "fidelity": fidelity, "context_tokens": 200}
    h = simulate(arch, hybrid, **kw)
    f = simulate(arch, full, **kw)
    # scores: heads x head_dim per (query, cached token) pair, per softmax layer
    assert h.event_counts["attention/score_mac"] * 2 == f.event_counts["attention/score_mac"]
    assert h.event_counts["compute/state_update"] == 2 * 256  # 2 tokens x block 0's state ops
    assert f.event_counts.get("compute/state_update", 0) == 0


def test_a_mixer_without_its_section_names_the_missing_key(tiny_workload) -> None:
    with pytest.raises(ValidationError, match="mixer_pattern.1.*selective_ssm"):
        variant(tiny_workload, {"blocks.mixer_pattern": ["linear", "ssm"]})
    with pytest.raises(ValidationError, match="gated_recurrence"):
        variant(tiny_workload, {"blocks.attention": "hgrn"})


def test_gpu_reads_and_writes_each_mixer_state_once_per_token(tiny_workload) -> None:
    gpu = GpuArchitecture.model_validate(TINY_GPU)
    hgrn = decode_shape(variant(tiny_workload, HGRN))
    assert hgrn.total_state_elements == 2 * 48 and hgrn.kv_layers == 0
    cost = token_cost(gpu, hgrn, position=10)
    assert cost.attention_read_bytes == cost.attention_write_bytes == 2 * 48 * 32 / 8
    assert cost.attention_flops == 2 * 144  # 3 operations per channel, 2 layers
    ssm = decode_shape(variant(tiny_workload, SSM))
    assert token_cost(gpu, ssm, position=0, batch=2).attention_flops == 2 * 2 * 1280


def test_gpu_hybrid_caches_kv_on_its_softmax_layers_only(tiny_workload) -> None:
    gpu = GpuArchitecture.model_validate(TINY_GPU)
    wl = variant(
        tiny_workload,
        {"blocks.softmax_attention": SOFTMAX, "blocks.mixer_pattern": ["linear", "softmax"]},
    )
    shape = decode_shape(wl)
    assert shape.attention == "hybrid" and shape.kv_layers == 1
    cost = token_cost(gpu, shape, position=9)
    kv = 1 * (16 + 16) * 16 / 8  # one layer, k and v widths 16 (k_proj, v_proj), 16-bit
    state = 2 * 8 * 8 * 32 / 8  # block 0's linear state at 32 bits
    assert cost.attention_read_bytes == 10 * kv + state
    assert cost.attention_write_bytes == kv + state


MIXER_PRESETS = {
    "matmulfree-lm-370m": ("hgrn", 24 * 1024 * 2),
    "matmulfree-lm-1.3b": ("hgrn", 24 * 2048 * 2),
    "matmulfree-lm-2.7b": ("hgrn", 32 * 2560 * 2),
    "bitnet-b1.58-large": ("softmax", 0),
    "qwen2.5-0.5b-nsllm": ("softmax", 0),
    "qwen2.5-7b-nsllm": ("softmax", 0),
    "spikingbrain-7b-hybrid": ("hybrid", 14 * 28 * 128 * 128 * 2),
}


@pytest.mark.parametrize("name", sorted(MIXER_PRESETS))
@pytest.mark.parametrize("arch_name", ["vck190_nsllm", "a800"])
def test_mixer_presets_run_on_the_fpga_and_the_gpu(name, arch_name) -> None:
    workload = load_workload(resolve_config_path(name, "workload"))
    mixer, state_bytes = MIXER_PRESETS[name]
    graph = build_model_graph(workload)
    assert graph.state_bytes == state_bytes
    kinds = set(graph.block_mixers)
    assert kinds == ({"linear", "softmax"} if mixer == "hybrid" else {mixer})
    arch = load_architecture(resolve_config_path(arch_name, "architecture"))
    result = run_system(arch, workload, n_tokens=1, fidelity="analytic")
    assert result.metrics["tokens_per_s"] > 0


def test_a_model_without_the_new_mixers_keeps_its_config_dump(tiny_workload) -> None:
    blocks = tiny_workload.model_dump(mode="json")["blocks"]
    assert not {"gated_recurrence", "selective_ssm", "mixer_pattern"} & set(blocks)
    hgrn = variant(tiny_workload, HGRN).model_dump(mode="json")["blocks"]
    assert hgrn["gated_recurrence"] == {"channels": 48, "state_bits": 16}


def test_cli_attention_flag_runs_one_mixer_in_every_block_of_a_hybrid(capsys) -> None:

    assert main(["run", "vck190_nsllm", "spikingbrain-7b-hybrid", "--tokens", "1",
                 "--fidelity", "analytic", "--attention", "linear"]) == 0
    hybrid = load_workload(resolve_config_path("spikingbrain-7b-hybrid", "workload"))
    arch = load_architecture(resolve_config_path("sram_cim", "architecture"))
    small = variant(hybrid, {"blocks.count": 2})
    with pytest.raises(CapabilityError, match="mixer_pattern"):  # softmax blocks, no engine
        run_system(arch, small, n_tokens=1, fidelity="analytic")
    out = run_system(arch, small, n_tokens=1, fidelity="analytic", attention="linear")
    assert out.metrics["tokens_per_s"] > 0
