"""Levels chosen per block range by `trace extract --levels auto` and written to a workload."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import yaml
from test_trace_pipeline import VOCAB, TinyModel

from neurosim.errors import TraceError
from neurosim.simulate.systems import load_workload
from neurosim.trace import open_trace
from neurosim.trace.extract import ExtractConfig, extract, greedy_allocation, rank_allocations
from neurosim.trace.replay import block_levels, levels_workload_text, workload_dict_from_trace
from neurosim.workload.model import build_model_graph


def fake_reader(levels_by_block, head=8):
    sites = [
        {"name": f"b{b:02d}.attn_in", "site": "attn_in", "block": b, "levels": lv}
        for b, lv in enumerate(levels_by_block)
    ]
    sites.append({"name": "head", "site": "head", "block": None, "levels": head})
    return SimpleNamespace(sites=sites, path=Path("fake.nstrace"))


def test_block_levels_become_a_default_and_ranges():
    levels, overrides = block_levels(fake_reader([16, 16, 32, 32, 16, 4]))
    assert levels == {"attn_in": 16, "head": 8}
    assert overrides == [
        {"blocks": "2-3", "sites": {"attn_in": {"levels": 32}}},
        {"blocks": "5", "sites": {"attn_in": {"levels": 4}}},
    ]
    assert block_levels(fake_reader([8, 8]))[1] == []


def test_greedy_allocation_by_hand():
    # equal weights: mean bits = (log2 La + log2 Lb) / 2 <= 2. From (2, 2) at 1 bit, the
    # best KL per bit is a: 2 -> 4 (0.8 per 0.5 bit), then b: 2 -> 4 (0.1 per 0.5 bit);
    # nothing else fits
    kl = {"a": {2: 1.0, 4: 0.2, 16: 0.1}, "b": {2: 0.5, 4: 0.4, 16: 0.0}}
    weights = {"a": 1, "b": 1}
    levels, bits, loss = greedy_allocation(kl, weights, 2.0)
    assert levels == {"a": 4, "b": 4} and bits == pytest.approx(2.0)
    assert loss == pytest.approx(0.6)
    assert rank_allocations(kl, weights, 2.0)[0][0] == levels  # the exhaustive answer too
    with pytest.raises(TraceError, match="below the fewest"):
        greedy_allocation(kl, weights, 0.5)


def test_auto_levels_per_block_end_to_end(tmp_path):
    model = TinyModel()
    ids = np.random.default_rng(1).integers(0, VOCAB, size=200)
    cfg = ExtractConfig(
        tokens=60, levels="auto", level_blocks=1, level_candidates=(2, 4, 16),
        level_budget=3.0, context=30, chunk_tokens=30, level_verify=2, eval_tokens=0,
    )
    calib = np.tile(np.arange(VOCAB), 4)
    res = extract(model, tmp_path / "t.nstrace", ids[:60], cfg, calib)
    choice = res.header["levels_choice"]
    units = {r["site"] for r in choice["sensitivity"]}
    assert units == {"mlp_in@0-0", "mlp_in@1-1", "head"}
    chosen = res.header["coding"]["levels"]
    per_site = [s["levels"] for s in res.header["sites"]]
    assert per_site == [chosen["mlp_in@0-0"], chosen["mlp_in@1-1"], chosen["head"]]

    reader = open_trace(res.path)
    base = workload_dict_from_trace(
        reader, name="tiny", weight_bits=2, zero_fraction=0.3, tied_embeddings=False
    )
    base["blocks"].pop("overrides", None)
    for site in base["blocks"]["sites"].values():
        site["levels"] = 2  # the base's own levels, which the trace's replace
    base_path = tmp_path / "base.yaml"
    base_path.write_text(yaml.safe_dump(base))
    out = tmp_path / "out" / "tiny-levels.yaml"
    out.parent.mkdir()
    out.write_text(levels_workload_text(reader, load_workload(base_path), base_path, out))
    written = load_workload(out)
    assert [g.levels for g in build_model_graph(written).groups] == per_site
    assert yaml.safe_load(out.read_text())["extends"] == "../base.yaml"


def test_level_blocks_need_auto():
    with pytest.raises(TraceError, match="needs levels 'auto'"):
        ExtractConfig(levels=8, level_blocks=2).check()


@pytest.mark.parametrize(
    ("extra", "text"),
    [
        (["--levels", "8", "--level-blocks", "2"], "--level-blocks"),
        (["--levels", "auto", "--level-blocks", "0"], "--level-blocks"),
        (["--workload-out", "w.yaml"], "--workload and --workload-out go together"),
    ],
)
def test_cli_level_options_mistakes(extra, text, tmp_path, capsys):
    from neurosim.cli.app import main

    (tmp_path / "t.txt").write_text("some text\n")
    argv = ["trace", "extract", "--text", str(tmp_path / "t.txt"), "--out", str(tmp_path / "o")]
    assert main(argv + extra) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_cli_writes_a_workload_with_the_traced_levels(tmp_path, capsys):
    from conftest import REPO

    from neurosim.cli.app import main

    text = tmp_path / "story.txt"
    text.write_text("Once upon a time there was a girl who lived near the forest and sang.\n")
    base, out = REPO / "workloads" / "smollm2-135m.yaml", tmp_path / "levels.yaml"
    argv = [
        "trace", "extract", "--text", str(text), "--tokens", "6", "--calib-tokens", "8",
        "--eval-tokens", "0", "--levels", "8,head=16", "--out", str(tmp_path / "s.nstrace"),
        "--workload", str(base), "--workload-out", str(out), "--quiet",
    ]
    assert main(argv) == 0, capsys.readouterr().err
    groups = build_model_graph(load_workload(out)).groups
    assert {g.levels for g in groups[:-1]} == {8} and groups[-1].levels == 16
    wrong = tmp_path / "wrong.yaml"
    assert main([*argv[:-5], "--workload", str(REPO / "workloads/nsllm-1.5b.yaml"),
                 "--workload-out", str(wrong), "--quiet"]) == 2
    assert "does not describe the traced model" in capsys.readouterr().err
