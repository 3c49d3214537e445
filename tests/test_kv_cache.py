"""Softmax attention with a KV cache on a chip, prefill and batches: hand-computed cases.

The tiny workload with softmax attention (2 blocks, 1 KV head of width 8, 16-bit K and V)
adds 2 layers x 1 head x 8 x 2 (K and V) x 2 B = 64 B of cache per token, 32 B per layer.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import variant

from neurosim.errors import CapabilityError
from neurosim.mapping.kv import place_kv
from neurosim.simulate.run import kv_placement, prepare, simulate
from neurosim.workload.attention import attended_pairs, kv_shape
from neurosim.workload.spikes import SyntheticSpikeSource

ENGINE = {
    "count": 2,
    "clock_hz": 1e9,
    "macs_per_cycle": 4,
    "exps_per_cycle": 1,
    "energy": {"mac_j": 1e-12, "exp_j": 5e-12},
    "static_power_w": 0.01,
}
SOFTMAX = {"heads": 2, "kv_heads": 1, "head_dim": 8, "kv_bits": 16}


@pytest.fixture(scope="module")
def softmax_workload(tiny_workload):
    return variant(
        tiny_workload, {"blocks.softmax_attention": SOFTMAX, "blocks.attention": "softmax"}
    )


@pytest.fixture(scope="module")
def engine_arch(tiny_arch):
    return variant(tiny_arch, {"attention_engine": ENGINE, "mapping.kv_cache": "dram"})


def test_kv_bytes_follow_layers_heads_dim_and_bits(softmax_workload) -> None:
    shape = kv_shape(softmax_workload)
    assert shape.layer_bytes_per_token == 1 * 8 * 2 * 16 / 8 == 32
    assert shape.bytes_per_token == 64
    assert shape.cache_bytes(100, sequences=3) == 64 * 100 * 3
    assert attended_pairs(context=100, queries=1) == 101
    assert attended_pairs(context=10, queries=3) == 30 + 6  # causal within the step


def _dram_read(result) -> float:
    return result.traffic_bytes_per_token["dram_read"]


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
@pytest.mark.parametrize(
    ("context", "per_layer_bytes"),
    # 32 B x context per layer, striped by sustained bandwidth 1 : 3 (ch0 1 GB/s, ch1
    # 3 GB/s); ch0 rounds to 64 B bursts, ch1 to 32 B: 100 -> 832 + 2400, 1000 -> 8000 + 24000
    [(100, 832 + 2400), (1000, 8000 + 24000)],
)
def test_each_decoded_token_reads_the_whole_cache_from_dram(
    engine_arch, softmax_workload, fidelity, context, per_layer_bytes
) -> None:
    def run(c):
        return simulate(
            engine_arch, softmax_workload, n_tokens=1, fidelity=fidelity, context_tokens=c
        )

    empty, full = run(0), run(context)
    assert _dram_read(full) - _dram_read(empty) == 2 * per_layer_bytes
    assert full.latencies_s[0] > empty.latencies_s[0]
    pairs = context + 1
    assert full.event_counts["attention/score_mac"] == 2 * 2 * 8 * pairs  # layers x heads x dim
    assert full.event_counts["attention/softmax_exp"] == 2 * 2 * pairs
    assert full.event_counts["attention/weighted_sum_mac"] == 2 * 2 * 8 * pairs
    # new keys and values: 32 B per layer, 8 B -> one 64 B burst on ch0, 24 B -> one 32 B on ch1
    assert (
        full.event_counts["dram.ch0/write_bit"] - empty.event_counts.get("dram.ch0/write_bit", 0)
        == 0
    )  # every token writes its K and V, at any context
    assert full.event_counts["dram.ch0/write_bit"] == 2 * 64 * 8
    assert full.event_counts["dram.ch1/write_bit"] == 2 * 32 * 8


def test_engine_time_is_scores_then_softmax_then_weighted_sum(engine_arch) -> None:
    engine = engine_arch.attention_engine
    # 2 units x 4 MAC/cycle, 2 units x 1 exp/cycle at 1 GHz
    assert engine.work_ps(score_macs=800, exps=20, weighted_macs=800) == (100 + 10 + 100) * 1000


def test_fidelities_agree_without_contention_and_des_is_never_faster(
    engine_arch, softmax_workload
) -> None:
    kwargs = {"n_tokens": 2, "context_tokens": 300, "batch": 2, "prompt_tokens": 3}
    a = simulate(engine_arch, softmax_workload, fidelity="analytic", contention=False, **kwargs)
    d = simulate(engine_arch, softmax_workload, fidelity="des", contention=False, **kwargs)
    assert a.latencies_s == d.latencies_s
    assert a.event_counts == d.event_counts
    a = simulate(engine_arch, softmax_workload, fidelity="analytic", **kwargs)
    d = simulate(engine_arch, softmax_workload, fidelity="des", **kwargs)
    assert all(x <= y for x, y in zip(a.latencies_s, d.latencies_s, strict=True))
    assert max(a.utilization[k] for k in a.utilization) <= 1.0 + 1e-9


def test_a_cache_on_chip_costs_no_dram_traffic(tiny_arch, softmax_workload) -> None:
    roomy = variant(
        tiny_arch,
        {
            "attention_engine": ENGINE,
            "mapping.kv_cache": "onchip",
            "mapping.pin_weights": False,
        },
    )
    r0 = simulate(roomy, softmax_workload, n_tokens=1, fidelity="analytic", context_tokens=0)
    r1 = simulate(roomy, softmax_workload, n_tokens=1, fidelity="analytic", context_tokens=50)
    assert _dram_read(r1) == _dram_read(r0)
    assert r1.placement["kv_cache_where"] == "onchip"
    onchip = r1.event_counts["onchip_memory/read_bit"] - r0.event_counts["onchip_memory/read_bit"]
    assert onchip == 2 * 32 * 50 * 8


def test_auto_spills_what_does_not_fit_on_chip(tiny_arch, softmax_workload) -> None:
    arch = variant(tiny_arch, {"attention_engine": ENGINE, "mapping.pin_weights": False})
    prep = prepare(arch, softmax_workload)
    shape = kv_shape(softmax_workload)
    free = prep.placement.onchip_capacity_bytes - prep.placement.stream_buffer_bytes
    tokens = 2 * free // 64  # twice what fits
    kv = place_kv(arch, prep.placement, shape, tokens, 1, 0, "a + b")
    assert kv.where == "spilled" and kv.onchip_fraction == pytest.approx(0.5, abs=1e-3)


def test_a_cache_that_fits_nowhere_names_both_files(tiny_arch, softmax_workload) -> None:
    arch = variant(tiny_arch, {"attention_engine": ENGINE, "mapping.kv_cache": "onchip"})
    prep = prepare(arch, softmax_workload)
    with pytest.raises(CapabilityError) as err:
        kv_placement(prep, 100_000, "arch.yaml + wl.yaml")
    assert "arch.yaml + wl.yaml" in str(err.value) and "does not fit" in str(err.value)
    assert err.value.exit_code == 2
    with pytest.raises(CapabilityError, match="more than"):  # 1 MiB channels cannot hold it
        simulate(
            variant(arch, {"mapping.kv_cache": "auto"}), softmax_workload, n_tokens=1,
            fidelity="analytic", context_tokens=100_000,
        )


def test_softmax_without_an_engine_names_the_missing_unit(tiny_arch, softmax_workload) -> None:
    with pytest.raises(CapabilityError, match="attention_engine") as err:
        simulate(
            tiny_arch, softmax_workload, n_tokens=1, fidelity="analytic",
            arch_source="my_arch.yaml", workload_source="my_model.yaml",
        )
    assert "my_arch.yaml" in str(err.value) and "my_model.yaml" in str(err.value)


# --------------------------------------------------------------------------- steps


def _tokens(prep, n, seed=0):
    return list(SyntheticSpikeSource(prep.graph, seed).tokens(n))


def test_prefill_fetches_each_weight_once_for_the_whole_prompt(tiny_arch, tiny_workload) -> None:
    prep = prepare(tiny_arch, tiny_workload)
    planner = prep.planner
    toks = _tokens(prep, 4)
    one = planner.plan(toks[0])
    step = planner.plan_step(toks, vectors=4, sequences=1)
    streamed = int(planner.dense_fetch_bytes.sum())
    assert streamed > 0
    assert int(step.tile_fetch_bytes.sum()) == int(one.tile_fetch_bytes.sum()) == streamed
    # DRAM reads: the weights once, one embedding row per prompt token (the state is on chip)
    assert prep.placement.state_resident
    emb = planner.embedding_fetch_bytes
    assert sum(step.dram_read_bytes.values()) == streamed + 4 * emb
    assert sum(one.dram_read_bytes.values()) == streamed + emb
    # compute is per token: the four tokens' synops, neuron and state updates
    singles = [planner.plan(t) for t in toks]
    assert step.synops == sum(w.synops for w in singles)
    assert step.counts[("compute", "neuron_update")] == 4 * planner.neuron_updates
    assert step.counts[("compute", "state_update")] == 4 * planner.state_updates


def test_batch_shares_weights_but_keeps_a_state_per_sequence(tiny_arch, tiny_workload) -> None:
    # 32 states of 2 x 256 B do not fit in the 8 KiB on chip: each goes to DRAM and back
    prep = prepare(tiny_arch, tiny_workload, batch=32)
    planner = prep.planner
    assert not prep.placement.state_resident
    assert prepare(tiny_arch, tiny_workload, batch=1).placement.state_resident
    step = planner.plan_step(_tokens(prep, 32), vectors=32, sequences=32)
    streamed = int(planner.dense_fetch_bytes.sum())
    emb = planner.embedding_fetch_bytes
    channels = tiny_arch.dram_channels
    assert 32 * 2 * 8 * 8 * 2 == 8192  # sequences x heads x key x value x 2 B, per block
    with_state = planner.group_state_bytes > 0
    assert int(with_state.sum()) == planner.blocks_with_state
    for g in np.flatnonzero(with_state):
        # interleaved by sustained bandwidth, 1 GB/s (2 x 0.5) and 3 GB/s (4 x 0.75): a
        # quarter and three quarters of the 8,192 B, whole bursts of 64 B and 32 B
        assert step.state_bytes[g].tolist() == [2048, 6144]
        # read, then written back, each channel its share at once: 50 ns + 2,048 ns and
        # 80 ns + 2,048 ns
        assert step.state_ps[g].tolist() == [2_098_000, 2_128_000]
        assert step.extra_ps[g] == 2 * 2_128_000
    assert not step.state_bytes[~with_state].any() and not step.extra_ps[~with_state].any()
    state = int(step.state_bytes.sum())
    assert state == planner.blocks_with_state * 8192
    assert sum(step.dram_read_bytes.values()) == streamed + state + 32 * emb
    assert sum(step.dram_write_bytes.values()) == state
    for ci, ch in enumerate(channels):
        assert step.dram_write_bytes[ch.name] == int(step.state_bytes[:, ci].sum())


def test_batch_raises_throughput_and_reports_prefill_metrics(tiny_arch, tiny_workload) -> None:
    one = simulate(tiny_arch, tiny_workload, n_tokens=3, fidelity="analytic")
    eight = simulate(tiny_arch, tiny_workload, n_tokens=3, fidelity="analytic", batch=8)
    assert eight.metrics["tokens_per_s"] > 2 * one.metrics["tokens_per_s"]
    assert eight.metrics["tokens_per_s"] == pytest.approx(8 * 3 / sum(eight.latencies_s))
    r = simulate(tiny_arch, tiny_workload, n_tokens=3, fidelity="des", prompt_tokens=5)
    m, lat = r.metrics, r.latencies_s
    prefill = m["time_to_first_token_s"] - lat[0]
    assert prefill > 0 and len(lat) == 3
    assert m["time_per_output_token_s"] == pytest.approx(np.mean(lat[1:]))
    assert m["decode_tokens_per_s"] == pytest.approx(3 / sum(lat))
    assert m["prefill_tokens_per_s"] == pytest.approx(5 / prefill)
    assert m["tokens_per_s"] == pytest.approx(3 / (prefill + sum(lat)))
    assert prefill < 5 * lat[0]  # five tokens share one weight fetch


def test_a_batch_on_crossbars_converts_every_vector(tiny_crossbar, tiny_workload) -> None:
    kwargs = {"n_tokens": 1, "batch": 3, "contention": False}
    a = simulate(tiny_crossbar, tiny_workload, fidelity="analytic", **kwargs)
    d = simulate(tiny_crossbar, tiny_workload, fidelity="des", **kwargs)
    one = simulate(tiny_crossbar, tiny_workload, n_tokens=1, fidelity="analytic")
    assert a.latencies_s == d.latencies_s
    assert a.event_counts["adc/conversion"] == d.event_counts["adc/conversion"]
    assert a.event_counts["adc/conversion"] > 2 * one.event_counts["adc/conversion"]


# --------------------------------------------------------------------------- GPU


def test_gpu_batch_reads_weights_once_and_the_cache_per_sequence(nsllm_softmax_gpu) -> None:
    from neurosim.simulate.gpu import decode_shape, token_cost

    arch, workload = nsllm_softmax_gpu
    shape = decode_shape(workload, "softmax")
    one = token_cost(arch, shape, position=99)
    eight = token_cost(arch, shape, position=99, batch=8)
    kv = 28 * (256 + 256) * 16 / 8  # layers x (K + V widths) x 2 B
    assert shape.kv_elements_per_token * 2 == kv
    assert eight.weight_bytes == one.weight_bytes == shape.linear_weights * 2
    assert one.attention_read_bytes == 100 * kv and eight.attention_read_bytes == 8 * 100 * kv
    assert eight.linear_flops == 8 * one.linear_flops
    prefill = token_cost(arch, shape, position=0, queries=64)
    assert prefill.weight_bytes == one.weight_bytes  # the prompt shares one weight read
    assert prefill.attention_write_bytes == 64 * kv
    assert prefill.attention_flops == shape.attention_flops(64 * 65 // 2)


def test_gpu_prefill_gives_time_to_first_token(nsllm_softmax_gpu) -> None:
    from neurosim.simulate.gpu import decode_shape, simulate_gpu, token_cost

    arch, workload = nsllm_softmax_gpu
    r = simulate_gpu(arch, workload, n_tokens=2, attention="softmax", prompt_tokens=128)
    shape = decode_shape(workload, "softmax")
    prefill = token_cost(arch, shape, 0, 1, 128).time_s
    first = token_cost(arch, shape, 128).time_s
    assert r.metrics["time_to_first_token_s"] == pytest.approx(prefill + first)
    assert r.metrics["prefill_tokens_per_s"] == pytest.approx(128 / prefill)
    assert r.latencies_s[0] == pytest.approx(first)


@pytest.fixture(scope="module")
def nsllm_softmax_gpu():
    from conftest import NSLLM_WORKLOAD, REPO

    from neurosim.config.loader import load_config
    from neurosim.config.workload import Workload
    from neurosim.simulate.gpu import load_gpu_architecture

    arch = load_gpu_architecture(REPO / "architectures" / "a800.yaml")
    return arch, load_config(Workload, NSLLM_WORKLOAD)


# --------------------------------------------------------------------------- CLI


@pytest.mark.parametrize(
    ("flag", "value"), [("--batch", "0"), ("--prompt-tokens", "-1"), ("--context-tokens", "-5")]
)
def test_impossible_run_shapes_exit_2(flag, value, tmp_path, capsys) -> None:
    from conftest import TINY_ARCH, TINY_WORKLOAD

    from neurosim.cli.app import main

    code = main(["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--quiet", "--out",
                 str(tmp_path / "o"), flag, value])
    err = capsys.readouterr().err
    assert code == 2 and flag in err and "Traceback" not in err


def test_run_prints_prefill_and_batch_figures(tmp_path, capsys) -> None:
    from conftest import TINY_ARCH, TINY_WORKLOAD

    from neurosim.cli.app import main

    code = main(["run", str(TINY_ARCH), str(TINY_WORKLOAD), "--quiet", "--fidelity", "analytic",
                 "--tokens", "2", "--batch", "3", "--prompt-tokens", "4", "--out",
                 str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0
    for row in ("batch / prompt tokens", "time to first token", "prefill throughput"):
        assert row in out
    assert "3 / 4" in out


def test_a_chip_without_dram_grows_to_hold_every_sequence_state(tiny_crossbar, tiny_workload):
    one = prepare(tiny_crossbar, tiny_workload).placement.chips
    state = 2 * 2 * 8 * 8 * 16 // 8  # blocks x heads x key x value x 2 B = 512 B
    per_chip = 64 * 1024
    batch = 16 * per_chip // state  # sixteen chips' worth of states
    many = prepare(tiny_crossbar, tiny_workload, batch=batch).placement.chips
    assert one < 16 and many == 16


@pytest.mark.parametrize("fidelity", ["analytic", "des"])
def test_off_chip_state_is_charged_to_every_channel_by_its_share(
    tiny_arch, tiny_workload, fidelity
) -> None:
    prep = prepare(tiny_arch, tiny_workload, batch=32)
    step = prep.planner.plan_step(_tokens(prep, 32), vectors=32, sequences=32)
    result = simulate(tiny_arch, tiny_workload, n_tokens=1, seed=0, fidelity=fidelity, batch=32)
    for ci, ch in enumerate(tiny_arch.dram_channels):
        state_bits = 8 * int(step.state_bytes[:, ci].sum())
        assert state_bits > 0
        assert result.event_counts[f"dram.{ch.name}/write_bit"] == state_bits
