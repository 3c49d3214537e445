"""Traces from a user's PyTorch model through forward pre-hooks (skipped without torch)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neurosim.config.workload import Workload  # noqa: E402
from neurosim.trace import open_trace, workload_dict_from_trace  # noqa: E402
from neurosim.trace.extract import ExtractConfig, extract  # noqa: E402
from neurosim.trace.torch_export import TorchActivationModel, TorchSite, llama_sites  # noqa: E402
from neurosim.workload.model import build_model_graph  # noqa: E402

VOCAB, HIDDEN, FFN, BLOCKS = 40, 16, 24, 2


class Attention(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.q_proj = torch.nn.Linear(HIDDEN, HIDDEN, bias=False)
        self.k_proj = torch.nn.Linear(HIDDEN, 8, bias=False)
        self.v_proj = torch.nn.Linear(HIDDEN, 8, bias=False)
        self.o_proj = torch.nn.Linear(HIDDEN, HIDDEN, bias=False)

    def forward(self, h):
        q, k, v = self.q_proj(h), self.k_proj(h), self.v_proj(h)
        k, v = k.repeat(1, 1, 2), v.repeat(1, 1, 2)
        n = h.shape[1]
        a = (q @ k.transpose(1, 2)) / 4.0
        a = a.masked_fill(torch.triu(torch.ones(n, n, dtype=torch.bool), 1), -1e9)
        return self.o_proj(a.softmax(-1) @ v)


class Mlp(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.gate_proj = torch.nn.Linear(HIDDEN, FFN, bias=False)
        self.up_proj = torch.nn.Linear(HIDDEN, FFN, bias=False)
        self.down_proj = torch.nn.Linear(FFN, HIDDEN, bias=False)

    def forward(self, h):
        return self.down_proj(torch.nn.functional.silu(self.gate_proj(h)) * self.up_proj(h))


class Layer(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.self_attn, self.mlp = Attention(), Mlp()
        self.n1, self.n2 = torch.nn.LayerNorm(HIDDEN), torch.nn.LayerNorm(HIDDEN)

    def forward(self, x):
        x = x + self.self_attn(self.n1(x))
        return x + self.mlp(self.n2(x))


class Body(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed_tokens = torch.nn.Embedding(VOCAB, HIDDEN)
        self.layers = torch.nn.ModuleList([Layer() for _ in range(BLOCKS)])
        self.norm = torch.nn.LayerNorm(HIDDEN)

    def forward(self, ids):
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x)
        return self.norm(x)


class TinyLlama(torch.nn.Module):
    """Hugging Face llama module names, a few hundred parameters."""

    def __init__(self) -> None:
        super().__init__()
        self.model = Body()
        self.lm_head = torch.nn.Linear(HIDDEN, VOCAB, bias=False)

    def forward(self, ids):
        return self.lm_head(self.model(ids))


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    return TinyLlama()


def test_llama_sites_and_shapes(tiny) -> None:
    wrapped = TorchActivationModel(tiny, llama_sites(tiny), name="tiny-llama")
    names = [s.name for s in wrapped.sites]
    assert names[:4] == ["b00.attn_in", "b00.attn_ctx", "b00.mlp_in", "b00.mlp_act"]
    assert names[-1] == "head" and len(names) == 4 * BLOCKS + 1
    assert wrapped.sites[0].linears == (("q_proj", 16), ("k_proj", 8), ("v_proj", 8))
    assert wrapped.sites[3].width == FFN
    assert wrapped.info.vocab == VOCAB and wrapped.info.blocks == BLOCKS


def test_hooks_see_every_site_once_and_can_replace_it(tiny) -> None:
    wrapped = TorchActivationModel(tiny, llama_sites(tiny), name="tiny-llama")
    ids = np.arange(10) % VOCAB
    seen: list[int] = []

    def record(i, x):
        seen.append(i)
        return x

    ref = tiny(torch.as_tensor(ids)[None]).detach().numpy()[0]
    out = wrapped.forward(ids, record)
    assert seen == list(range(len(wrapped.sites)))  # q, k and v share one call
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-6)
    zeroed = wrapped.forward(ids, lambda i, x: np.zeros_like(x) if i == len(seen) - 1 else x)
    assert np.all(zeroed == 0)  # the head input replaced by zeros gives zero logits


def test_same_trace_format_and_replay(tiny, tmp_path) -> None:
    wrapped = TorchActivationModel(tiny, llama_sites(tiny), name="tiny-llama", source="test")
    rng = np.random.default_rng(0)
    ids = rng.integers(0, VOCAB, size=96)
    cfg = ExtractConfig(tokens=32, levels={"mlp_act": 8, "head": 8}, context=16, eval_tokens=0)
    res = extract(
        wrapped, tmp_path / "tiny.nstrace", ids[32:64], cfg, calib_ids=ids[:32], eval_ids=ids[64:]
    )
    reader = open_trace(res.path)
    assert reader.header["model"]["family"] == "torch" and reader.n_tokens == 32
    assert res.footer["accuracy"]["next_token_agreement"] > 0.5
    data = workload_dict_from_trace(reader, name="tiny-llama", weight_bits=8, zero_fraction=0.0)
    workload = Workload.model_validate(data)
    assert workload.blocks.sites["mlp_act"].levels == 8
    tokens = list(reader.source_for(build_model_graph(workload)).tokens(32))
    assert tokens[-1].token_id == int(ids[63])


def test_bad_site_module_is_reported(tiny) -> None:
    from neurosim.errors import TraceError

    with pytest.raises(TraceError, match="no module 'model.layers.9.mlp.up_proj'"):
        TorchActivationModel(
            tiny, [TorchSite("b00.x", "x", 0, ("model.layers.9.mlp.up_proj",))], name="bad"
        )
