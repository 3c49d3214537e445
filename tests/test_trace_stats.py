"""Trace analytics on hand-made traces with known answers, and the fit of generator stats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("pandas")

from neurosim.trace import open_trace  # noqa: E402
from neurosim.trace.format import TraceWriter  # noqa: E402
from neurosim.trace.replay import header_for_graph  # noqa: E402
from neurosim.trace.stats import (  # noqa: E402
    entropy_bits,
    fit_synthetic_stats,
    histogram_table,
    mi_table,
    mutual_information_bits,
    requantize_histogram,
    site_table,
    tally_trace,
    type_table,
)
from neurosim.workload.model import build_model_graph  # noqa: E402
from neurosim.workload.spikes import SyntheticSpikeSource  # noqa: E402


def _write(path: Path, graph, counts: np.ndarray) -> Path:
    header = header_for_graph(graph, model="known")
    scales = [np.ones(g.width, np.float32) for g in graph.groups]
    n = counts.shape[0]
    with TraceWriter(path, header, scales) as w:
        w.add(np.arange(n), counts, np.zeros(counts.shape, bool), np.ones((n, len(scales))))
        w.close()
    return path


def _known_counts(graph) -> np.ndarray:
    """8 tokens of the tiny workload with exactly known statistics.

    b00.attn_in: (t + i) % 8, uniform on 0..7 (3 bits); b00.mlp_in: a copy of it;
    b01.attn_in: (t + i // 8) % 8, exactly independent of b00.attn_in; attn_ctx sites
    silent; mlp_act sites constant 2; everything else uniform like b00.attn_in.
    """
    t = np.arange(8)[:, None]
    cols = []
    for g in graph.groups:
        i = np.arange(g.width)[None, :]
        if g.name == "b01.attn_in":
            c = (t + i // 8) % 8
        elif g.site == "attn_ctx":
            c = np.zeros((8, g.width), int)
        elif g.site == "mlp_act":
            c = np.full((8, g.width), 2)
        else:
            c = (t + i) % g.levels
        cols.append(c)
    return np.concatenate(cols, axis=1).astype(np.uint16)


@pytest.fixture()
def known(tmp_path, tiny_workload):
    graph = build_model_graph(tiny_workload)
    return tally_trace(_write(tmp_path / "known.nstrace", graph, _known_counts(graph)))


def test_entropy_and_mi_helpers() -> None:
    assert entropy_bits([1, 1, 1, 1]) == pytest.approx(2.0)
    assert entropy_bits([5, 0, 0]) == 0.0
    assert mutual_information_bits(np.eye(4)) == pytest.approx(2.0)
    assert mutual_information_bits(np.ones((4, 4))) == pytest.approx(0.0, abs=1e-12)


def test_site_table_known_values(known) -> None:
    df = site_table(known).set_index("site")
    a = df.loc["b00.attn_in"]
    assert a["levels"] == 8 and a["timesteps"] == 7
    assert a["entropy_bits"] == pytest.approx(3.0)
    assert a["silent_fraction"] == pytest.approx(1 / 8)
    assert a["firing_rate"] == pytest.approx(3.5 / 7)  # mean count 3.5 over T = 7 steps
    assert a["spikes_per_activation"] == pytest.approx(3.5)
    assert a["mean_active_count"] == pytest.approx(4.0)
    assert a["dead_fraction"] == 0.0 and a["change_fraction"] == pytest.approx(1.0)
    assert a["saturated_fraction"] == pytest.approx(1 / 8)
    assert a["token_cv"] == pytest.approx(0.0, abs=0.05)  # each token's total is similar
    ctx = df.loc["b00.attn_ctx"]
    assert ctx["firing_rate"] == 0 and ctx["silent_fraction"] == 1 and ctx["dead_fraction"] == 1
    assert ctx["entropy_bits"] == 0
    act = df.loc["b01.mlp_act"]
    assert act["entropy_bits"] == 0 and act["change_fraction"] == 0 and act["token_cv"] == 0
    assert act["firing_rate"] == pytest.approx(2 / 3)  # count 2 of T = 3
    assert df.loc["head", "block"] is pd_na()


def pd_na():
    import pandas as pd

    return pd.NA


def test_neuron_matched_mutual_information(known) -> None:
    mi = mi_table(known)
    matched = mi[mi["method"] == "neuron-matched counts"].set_index(["site_a", "site_b"])
    copy = matched.loc[("b00.attn_in", "b00.mlp_in")]
    assert copy["mi_bits"] == pytest.approx(3.0) and copy["normalized_mi"] == pytest.approx(1.0)
    indep = matched.loc[("b00.attn_in", "b01.attn_in")]
    assert indep["mi_bits"] == pytest.approx(0.0, abs=1e-9)
    assert indep["samples"] == 8 * 48
    assert ("b01.attn_in", "head") in matched.index  # last block feeds the head
    binned = mi[mi["method"].str.startswith("binned")]
    assert len(binned) == len(known.reader.sites) - 1


def test_bitwise_firing_rate(tmp_path, tiny_workload, make_variant) -> None:
    wl = make_variant(tiny_workload, {"coding.scheme": "bitwise"})
    graph = build_model_graph(wl)
    tally = tally_trace(_write(tmp_path / "bw.nstrace", graph, _known_counts(graph)))
    a = site_table(tally).set_index("site").loc["b00.attn_in"]
    assert a["timesteps"] == 3
    assert a["spikes_per_activation"] == pytest.approx(1.5)  # mean popcount of 0..7
    assert a["firing_rate"] == pytest.approx(0.5)


def test_type_and_histogram_tables(known) -> None:
    types = type_table(known).set_index("type")
    assert types.loc["attn_ctx", "silent_fraction"] == 1.0
    assert types.loc["attn_in", "instances"] == 2
    hist = histogram_table(known)
    share = hist[hist["type"] == "mlp_act"].set_index("count")["share"]
    assert share[2] == 1.0 and share.sum() == pytest.approx(1.0)


def test_requantize_histogram() -> None:
    h = np.array([10, 0, 4, 0, 6, 0, 0, 5])  # L = 8 -> L = 4: c' = round(c * 3 / 7)
    assert requantize_histogram(h, 4).tolist() == [10, 4, 6, 5]
    assert requantize_histogram(h, 8).tolist() == h.tolist()


def test_fit_recovers_generator_parameters(tmp_path, tiny_workload, make_variant) -> None:
    wl = make_variant(
        tiny_workload,
        {
            "blocks.sites.mlp_act.width": 600,
            "blocks.sites.mlp_act.levels": 16,
            "spikes.synthetic.sites.mlp_act": {
                "silent_fraction": 0.6,
                "mean_active_count": 3.0,
                "neuron_spread": 0.6,
            },
        },
    )
    graph = build_model_graph(wl)
    src = SyntheticSpikeSource(graph, seed=7)
    counts = np.stack([np.concatenate(t.counts) for t in src.tokens(300)])
    fitted = fit_synthetic_stats(_write(tmp_path / "syn.nstrace", graph, counts))
    got = fitted["mlp_act"]
    assert got["silent_fraction"] == pytest.approx(0.6, abs=0.03)
    assert got["mean_active_count"] == pytest.approx(3.0, rel=0.05)
    assert got["neuron_spread"] == pytest.approx(0.6, abs=0.1)
    assert set(fitted) == {"attn_in", "attn_ctx", "mlp_in", "mlp_act", "head"}


def test_plots_are_written(known, tmp_path) -> None:
    pytest.importorskip("matplotlib")
    from neurosim.trace.plots import write_plots

    paths = write_plots(known, site_table(known), histogram_table(known), tmp_path / "png")
    assert [p.name for p in paths] == [
        "firing_rate.png",
        "count_histograms.png",
        "spike_raster.png",
    ]
    for p in paths:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_reader_round_trip_of_known(known) -> None:
    r = open_trace(known.reader.path)
    assert r.n_tokens == 8 and known.tokens == 8
