"""The accelerator validation table (scripts/accelerator_validation.py) and the FlightLLM
U280 presets it runs: configured from facts, run in the paper's shape, never fed the
published figure."""

from __future__ import annotations

import dataclasses
import importlib.util
import sys
from pathlib import Path

import pytest
import yaml

from neurosim import load_architecture, load_workload, run_system
from neurosim.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
ARCH = ROOT / "architectures" / "flightllm_u280.yaml"
WORKLOAD = ROOT / "workloads" / "llama-2-7b-flightllm.yaml"


def _script():
    spec = importlib.util.spec_from_file_location(
        "accelerator_validation", ROOT / "scripts" / "accelerator_validation.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


av = _script()

# Llama-2-7B linears per block: q, k, v, o 4096 x 4096; gate, up 4096 x 11008; down back.
BLOCK_WEIGHTS = 4 * 4096 * 4096 + 3 * 4096 * 11008
INT8_WEIGHT_BYTES = 32 * BLOCK_WEIGHTS + 4096 * 32000  # 32 blocks + the untied LM head


def test_the_u280_preset_has_32_hbm_pseudo_channels_that_fit_16_controllers() -> None:
    arch = load_architecture(ARCH)
    channels = arch.dram.channels
    assert [c.name for c in channels] == [f"hbm_pc{i:02d}" for i in range(32)]
    assert [c.attach_node for c in channels] == list(range(3, 35))
    assert sum(c.peak_bandwidth_bytes_per_s for c in channels) == pytest.approx(460e9)
    assert sum(c.capacity_bytes for c in channels) == 8 * 2**30
    assert {c.channels_per_controller for c in channels} == {2}
    assert arch.published.tokens_per_s == 55 and arch.published.workload == WORKLOAD.stem


def test_the_vhk158_preset_scales_the_design_to_four_engines_and_819_gb_s() -> None:
    arch = load_architecture(ROOT / "architectures" / "flightllm_vhk158.yaml")
    assert arch.compute.count == arch.attention_engine.count == 4
    assert len(arch.dram.channels) == 32 and arch.fpga is None
    assert sum(c.peak_bandwidth_bytes_per_s for c in arch.dram.channels) == pytest.approx(819.2e9)
    assert arch.interconnect.core_nodes == [0, 1, 2, 3]
    assert arch.published.tokens_per_s == 103.5


def test_one_controller_per_pseudo_channel_does_not_fit_the_u280(tmp_path: Path) -> None:
    data = yaml.safe_load(ARCH.read_text())
    item = data["dram"]["channels"][0]
    item["channels_per_controller"] = 1
    child = tmp_path / "one_controller_each.yaml"
    child.write_text(yaml.safe_dump({"extends": str(ARCH), "name": "one_controller_each",
                                     "dram": {"channels": [item]}}))
    with pytest.raises(ConfigError, match="hard memory controller"):
        load_architecture(child)


def test_the_workload_streams_every_int8_weight_once_per_token() -> None:
    """Hand count: 6,607,077,376 INT8 weights, all streamed from HBM (nothing pinned), and
    one event per INT8 activation (every site fires each input exactly once)."""
    arch, workload = load_architecture(ARCH), load_workload(WORKLOAD)
    r = run_system(arch, workload, n_tokens=2, fidelity="analytic")
    assert r.metrics["weight_bytes"] == INT8_WEIGHT_BYTES
    assert r.traffic_bytes_per_token["dram_read"] >= INT8_WEIGHT_BYTES
    inputs = 32 * (3 * 4096 + 11008) + 4096  # attn_in, attn_ctx, mlp_in, mlp_act; the head
    assert r.metrics["spikes_per_token"] == inputs
    kept = 1 - workload.weights.zero_fraction
    assert r.metrics["synops_per_token"] == pytest.approx(INT8_WEIGHT_BYTES * kept, rel=0.01)
    assert r.bottleneck.startswith("dram.hbm_pc")


def test_the_published_figure_is_not_an_input(tmp_path: Path) -> None:
    """Changing the preset's published tokens/s moves nothing the model computes."""
    data = yaml.safe_load(ARCH.read_text())
    data["published"]["tokens_per_s"] = 5500.0
    changed = tmp_path / "flightllm_u280.yaml"
    changed.write_text(yaml.safe_dump(data))
    workload = load_workload(WORKLOAD)
    runs = [run_system(load_architecture(p), workload, n_tokens=2, fidelity="analytic")
            for p in (ARCH, changed)]
    assert runs[0].latencies_s == runs[1].latencies_s
    assert runs[0].energy_per_token_j == runs[1].energy_per_token_j
    assert runs[0].published["tokens_per_s"] != runs[1].published["tokens_per_s"]


@pytest.fixture(scope="module")
def spied_rows():
    """The table's rows, with every run the script made (its shape and its result)."""
    calls = []

    def spy(arch, workload, **shape):
        result = run_system(arch, workload, **shape)
        calls.append((arch.name, workload.name, shape, result))
        return result

    # every row in its own shape, decode cut to 8 tokens to keep the test short (the full
    # shapes run in scripts/regenerate_docs.py --check)
    short = tuple(dataclasses.replace(m, decode_tokens=min(m.decode_tokens, 8))
                  for m in av.MEASUREMENTS)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(av, "run_system", spy)
        rows = av.rows(short)
    return rows, calls


def test_every_row_comes_from_a_fresh_run_in_its_shape(spied_rows) -> None:
    table_rows, calls = spied_rows
    assert [m.key for m, _, _ in table_rows] == [m.key for m in av.MEASUREMENTS]
    assert table_rows[0][0].arch == "vck190_nsllm"  # row 0: the reference design
    assert len(calls) == len(table_rows)
    for (m, ours, bound), (arch, workload, shape, result) in zip(table_rows, calls, strict=True):
        assert (arch, workload) == (m.arch, m.workload)
        assert (shape["n_tokens"], shape["prompt_tokens"], shape["batch"]) == (
            m.decode_tokens, m.prompt_tokens, m.batch)
        name, scale = av.METRICS[m.metric]
        assert ours == result.metrics[name] * scale and ours != m.published
        assert bound == result.bottleneck
        assert m.kind in av.KINDS
        preset = load_architecture(ROOT / "architectures" / f"{m.arch}.yaml")
        if getattr(preset, "published", None) is not None and preset.published.workload:
            assert preset.published.workload == m.workload, m.key
    flight = next(c for c in calls if c[0] == "flightllm_u280")
    assert (flight[2]["prompt_tokens"], flight[2]["n_tokens"]) == (128, 8)
    for m in av.MEASUREMENTS:  # the shapes the FlightLLM figures were measured in
        if m.arch.startswith("flightllm"):
            assert (m.batch, m.prompt_tokens, m.decode_tokens) == (1, 128, 512)


def test_the_table_prints_ours_and_the_error_against_published(spied_rows, monkeypatch) -> None:
    table_rows = spied_rows[0]
    monkeypatch.setattr(av, "rows", lambda measurements=av.MEASUREMENTS: table_rows)
    text = av.table(tuple(m for m, _, _ in table_rows))
    lines = [ln for ln in text.splitlines() if ln.startswith("| ") and ln[2].isdigit()]
    assert len(lines) == len(av.MEASUREMENTS)
    for line, (m, ours, bound) in zip(lines, table_rows, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert len(cells) == 11
        assert cells[6] == f"{m.published:.4g}" and cells[7] == f"{ours:.4g}"
        assert cells[8] == f"{100 * (ours / m.published - 1):+.0f} %"
        assert cells[9] == bound and cells[10] == m.lesson


def test_changing_a_published_value_moves_the_error_not_ours() -> None:
    m = dataclasses.replace(
        next(x for x in av.MEASUREMENTS if x.key == "flightllm-u280-tps"),
        prompt_tokens=0, decode_tokens=2,
    )
    ours, bound = av.modelled(m)
    doubled = dataclasses.replace(m, published=2 * m.published)
    again, _ = av.modelled(doubled)
    assert again == ours
    assert av.error(ours, doubled.published) != av.error(ours, m.published)


def test_an_unknown_metric_is_refused_by_name() -> None:
    m = dataclasses.replace(av.MEASUREMENTS[0], metric="furlongs")
    with pytest.raises(ValueError, match="nsllm-vck190-tps: unknown metric 'furlongs'"):
        av.modelled(m)
