"""The extraction pipeline on a tiny numpy model: calibration, auto levels, evaluation, file."""

from __future__ import annotations

import numpy as np
import pytest

from neurosim.errors import TraceError
from neurosim.trace import open_trace
from neurosim.trace.activations import ModelInfo, SiteSpec
from neurosim.trace.extract import ExtractConfig, extract
from neurosim.trace.quantize import dequantize

VOCAB, WIDTH = 30, 12


class TinyModel:
    """Two residual blocks of one linear each, then a head: an `ActivationModel`."""

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.embed = rng.normal(size=(VOCAB, WIDTH)).astype(np.float32)
        self.w = [rng.normal(scale=0.5, size=(WIDTH, WIDTH)).astype(np.float32) for _ in "ab"]
        self.head = rng.normal(size=(WIDTH, VOCAB)).astype(np.float32)
        self.sites = (
            SiteSpec("b00.mlp_in", "mlp_in", 0, WIDTH, (("up_proj", WIDTH),)),
            SiteSpec("b01.mlp_in", "mlp_in", 1, WIDTH, (("up_proj", WIDTH),)),
            SiteSpec("head", "head", None, WIDTH, (("lm_head", VOCAB),)),
        )
        self.info = ModelInfo("tiny", "numpy", "test", 2, WIDTH, VOCAB)
        self.seen: list[np.ndarray] = []

    def encode(self, text: str) -> list[int]:
        return [ord(c) % VOCAB for c in text]

    def decode(self, ids) -> str:
        return " ".join(map(str, ids))

    def forward(self, ids, hook=None):
        x = self.embed[np.asarray(ids)]
        hook = hook or (lambda i, a: a)
        for i, w in enumerate(self.w):
            h = hook(i, np.tanh(x))
            x = x + h @ w
        return hook(2, x) @ self.head


def test_auto_levels_evaluation_and_reconstruction(tmp_path) -> None:
    model = TinyModel()
    ids = np.random.default_rng(1).integers(0, VOCAB, size=300)
    cfg = ExtractConfig(
        tokens=100,
        levels="auto",
        level_candidates=(2, 4, 16),
        level_budget=3.0,
        context=50,
        chunk_tokens=30,
        level_verify=3,
        sparsify=0.1,
    )
    calib = np.tile(np.arange(VOCAB), 4)  # every token: block 0's input range is covered
    res = extract(model, tmp_path / "t.nstrace", ids[100:200], cfg, calib, ids[200:])
    choice = res.header["levels_choice"]
    assert choice["mode"] == "auto" and choice["mean_bits"] <= 3.0
    assert len(choice["sensitivity"]) == 2 * 3 and len(choice["joint_check"]) == 3
    best = min(choice["joint_check"], key=lambda r: r["joint_kl"])
    assert res.header["coding"]["levels"] == best["levels"]
    kl = {(r["site"], r["levels"]): r["kl"] for r in choice["sensitivity"]}
    assert kl[("mlp_in", 16)] < kl[("mlp_in", 4)] < kl[("mlp_in", 2)]
    acc = res.footer["accuracy"]
    assert acc["predicted_tokens"] == 98 and 0 <= acc["next_token_agreement"] <= 1
    assert res.footer["trace_text"]["predicted_tokens"] == 98  # two windows of 50

    reader = open_trace(res.path)
    assert reader.n_tokens == 100 and [c[2] for c in reader.chunk_index] == [30, 30, 30, 10]
    assert reader.header["coding"]["sparsify"] == 0.1
    # decode the first block's input from the file alone and compare with the model's
    chunk = next(reader.chunks())
    g = reader.neuron_scales()[0]
    xh = dequantize(
        chunk.counts[:, :WIDTH], chunk.negative[:, :WIDTH], chunk.token_scale[:, :1] * g[None, :]
    )
    x = np.tanh(model.embed[ids[100:130]])  # block 0's input does not depend on coding
    assert np.abs(xh - x).max() <= 0.6 * g.max() + 1e-6  # half a step + sparsify 0.1


def test_adaptive_site_recipe_without_calibration(tmp_path) -> None:
    model = TinyModel()
    ids = np.arange(60) % VOCAB
    cfg = ExtractConfig(
        tokens=60, levels=8, threshold="adaptive", granularity="site", k=2.0, eval_tokens=0
    )
    res = extract(model, tmp_path / "k.nstrace", ids, cfg)
    assert res.header["sites"][0]["k"] == pytest.approx(2.0)
    assert res.header["calibration"]["tokens"] == 0
    with pytest.raises(TraceError, match="calibration text"):
        extract(model, tmp_path / "x.nstrace", ids, ExtractConfig(levels=8))
