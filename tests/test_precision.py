"""Packed and mixed weight precision: exact byte counts through tiles, DRAM and the GPU."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from conftest import REPO, variant

from neurosim.analysis.capacity import mean_weight_bits
from neurosim.config.per_layer import WeightConfig, weight_bytes
from neurosim.errors import ConfigError
from neurosim.simulate.gpu import decode_shape, load_gpu_architecture, token_cost
from neurosim.simulate.run import prepare
from neurosim.simulate.systems import load_workload, run_system
from neurosim.workload.model import build_model_graph

TERNARY_PACKED = {"weights": 5, "bytes": 1}  # 3^5 = 243 states fit one byte: 1.6 bits


def packed(workload, **extra):
    """The workload stored 5 ternary weights per byte."""
    weights = {"packing": TERNARY_PACKED, "zero_fraction": 0.25} | extra
    return variant(workload, {"weights": weights})


def test_packing_is_exactly_1_6_bits_and_bytes_round_up_per_pack():
    cfg = WeightConfig(packing=TERNARY_PACKED, zero_fraction=0.0)
    assert cfg.exact_bits() == Fraction(8, 5)
    assert weight_bytes(1000, cfg.exact_bits()) == 200
    assert weight_bytes(1001, cfg.exact_bits()) == 201  # a sixth of a pack still takes a byte
    assert weight_bytes(10, Fraction("1.58")) == 2  # 15.8 bits -> 2 bytes
    assert WeightConfig(bits=1.58, zero_fraction=0.0).exact_bits() == Fraction(79, 50)


def test_packed_tiles_and_model_bytes_by_hand(tiny_arch, tiny_workload):
    wl = packed(tiny_workload)
    graph = build_model_graph(wl)
    # per block q 48x48, k/v 48x16, o 48x48, up 48x64, down 64x48; head 48x100 (tied)
    # ceil(2304/5) + 2 ceil(768/5) + ceil(2304/5) + 2 ceil(3072/5) = 2460 per block
    assert graph.weight_bytes == 2 * 2460 + 960
    assert graph.embedding_row_bytes == 10  # 48 weights x 1.6 bits = 76.8 bits
    p = prepare(tiny_arch, wl).placement
    q = [i for i, name in enumerate(p.linear_names) if name == "b00.q_proj"][0]
    # q_proj: 48 columns over 4 cores = 12 columns x 48 rows = 576 weights = 115.2 B
    assert p.tile_bytes[p.tile_linear == q].tolist() == [116] * 4
    two_bit = prepare(tiny_arch, tiny_workload).placement
    assert two_bit.tile_bytes[two_bit.tile_linear == q].tolist() == [144] * 4


def test_dram_traffic_follows_the_packing(tiny_arch, tiny_workload):
    # every weight streams, over one channel moving single bytes: reads = packed tile bytes
    channel = tiny_arch.dram.channels[0].model_dump() | {"burst_bytes": 1}
    arch = variant(tiny_arch, {"dram.channels": [channel], "mapping.pin_weights": False})
    wl = packed(tiny_workload)
    r = run_system(arch, wl, n_tokens=2, fidelity="analytic")
    # tiles per block: q, o 4 x 116; k, v 4 x 39; up, down 4 x 154 = 2472; head 4 x 240
    # plus the 10-byte embedding row of the token
    assert r.traffic_bytes_per_token["dram.ch0_read"] == pytest.approx(2 * 2472 + 960 + 10)


def test_overrides_per_layer_type_and_block_range(tiny_workload):
    wl = variant(
        tiny_workload,
        {
            "embedding.tied_to_head": False,
            "weights": {
                "bits": 2,
                "zero_fraction": 0.25,
                "overrides": [
                    {"layers": ["lm_head"], "bits": 8},
                    {"layers": ["embedding"], "bits": 16},
                    {"blocks": "1", "bits": 4},
                    {"blocks": "1", "layers": ["q_proj"], "packing": TERNARY_PACKED},
                ],
            },
        },
    )
    graph = build_model_graph(wl)
    bits = {lin.name: lin.bits for g in graph.groups for lin in g.linears}
    assert bits["b00.q_proj"] == 2 and bits["b00.down_proj"] == 2
    assert bits["b01.q_proj"] == Fraction(8, 5)  # the later, more specific entry wins
    assert bits["b01.up_proj"] == 4 and bits["lm_head"] == 8
    assert graph.embedding_row_bytes == 48 * 2
    block0 = 12288 * 2 // 8
    block1 = 461 + (12288 - 2304) * 4 // 8
    assert graph.weight_bytes == block0 + block1 + 4800 + 100 * 48 * 2
    assert mean_weight_bits(wl) == pytest.approx(graph.weight_bytes * 8 / graph.parameters)


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ({"layers": ["qproj"], "bits": 4}, "'qproj' is not a layer"),
        ({"blocks": "1-5", "bits": 4}, "blocks 1-5 but the model has blocks 0-1"),
        ({"layers": ["embedding"], "bits": 16}, "tied to the LM head"),
        ({"blocks": "3-1", "bits": 4}, "low index to a high one"),
        ({"layers": ["lm_head"], "blocks": "0", "bits": 4}, "outside the blocks"),
        ({"layers": ["lm_head"]}, "needs bits or a packing"),
        ({"layers": ["lm_head"], "bits": 4, "packing": TERNARY_PACKED}, "not both"),
    ],
)
def test_bad_overrides_are_named(tiny_workload, override, text):
    with pytest.raises(ValueError, match=text):
        variant(tiny_workload, {"weights.overrides": [override]})


def test_bad_override_in_a_file_names_file_and_key(tmp_path):
    bad = tmp_path / "wl.yaml"
    bad.write_text(
        f"extends: {REPO / 'workloads/nsllm-1.5b.yaml'}\n"
        "weights:\n  bits: 2\n  zero_fraction: 0.3\n  overrides:\n"
        "    - {layers: [lm_head], blocks: '0-3', bits: 8}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_workload(bad)
    assert "weights.overrides[0]" in str(err.value) and str(bad) in str(err.value)


def test_gpu_can_store_weights_as_the_workload_does(tiny_workload):
    gpu = load_gpu_architecture(REPO / "architectures/a800.yaml")
    wl = packed(tiny_workload)
    shape = decode_shape(wl)
    fp16 = token_cost(gpu, shape, 0)
    assert fp16.weight_bytes == shape.linear_weights * 2  # default: the GPU's precision
    low_bit = token_cost(variant(gpu, {"weight_storage": "workload"}), shape, 0)
    assert low_bit.weight_bytes == sum(
        weight_bytes(lin.weights, Fraction(8, 5))
        for g in build_model_graph(wl).groups
        for lin in g.linears
    )


def test_packed_weights_run_faster_when_streaming_bound(tiny_arch, tiny_workload):
    arch = variant(tiny_arch, {"mapping.pin_weights": False})
    two = run_system(arch, tiny_workload, n_tokens=2, fidelity="des")
    ternary = run_system(arch, packed(tiny_workload), n_tokens=2, fidelity="des")
    reads = [
        sum(v for k, v in r.traffic_bytes_per_token.items() if k.endswith("_read"))
        for r in (two, ternary)
    ]
    assert reads[1] < reads[0] * 0.9
    assert np.isfinite(ternary.metrics["tokens_per_s"])


def test_sparse_fetch_reads_the_bytes_active_packed_rows_touch(tiny_arch, tiny_workload):
    channel = tiny_arch.dram.channels[0].model_dump() | {"burst_bytes": 1}
    arch = variant(
        tiny_arch,
        {"dram.channels": [channel], "mapping.pin_weights": False,
         "mapping.sparse_weight_fetch": True},
    )
    planner = prepare(arch, packed(tiny_workload)).planner
    p = planner.placement
    q = p.linear_names.index("b00.q_proj")
    tile = int(np.flatnonzero(p.tile_linear == q)[0])
    active = np.zeros(48, dtype=bool)
    active[[0, 1, 7, 30, 47]] = True
    # a row of 12 packed weights is 19.2 bits: the bytes each active row touches, merged
    row_bits = Fraction(12 * 8, 5)
    touched = set()
    for r in np.flatnonzero(active):
        first = (r * row_bits) // 8
        last = -(-((r + 1) * row_bits) // 8)
        touched |= set(range(int(first), int(last)))
    assert planner.fetch_bytes(np.array([tile]), active).tolist() == [len(touched)]
    assert len(touched) < p.tile_bytes[tile]
