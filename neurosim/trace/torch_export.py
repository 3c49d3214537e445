"""Spike traces from a user's PyTorch model: forward pre-hooks on its linear layers.

`TorchActivationModel` wraps a causal LM (`model(ids)` returns logits, or an object with
`.logits`) and a list of `TorchSite`s: each site names the linear modules that read it
(e.g. q_proj, k_proj and v_proj share the attention input). A forward pre-hook on each
of those modules hands the site's input to the extraction hook once per forward pass and
feeds every module of the site the same (possibly spike-quantized) replacement, so the
same `extract` pipeline, trace format and simulator replay apply as for the GGUF model.
`llama_sites` builds the site list for Hugging Face llama-style module names
(model.layers[i].self_attn.{q,k,v,o}_proj, mlp.{gate,up,down}_proj, lm_head).
torch is imported only when a model is wrapped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from neurosim.errors import TraceError
from neurosim.trace.activations import ModelInfo, SiteHook, SiteSpec


def _torch():
    try:
        import torch
    except ImportError as err:
        raise TraceError("exporting from a PyTorch model needs torch: pip install torch") from err
    return torch


@dataclass(frozen=True)
class TorchSite:
    """A site: its instance name, type, block and the qualified names of the modules reading it."""

    name: str
    site: str
    block: int | None
    modules: tuple[str, ...]


def llama_sites(model, prefix: str | None = None) -> list[TorchSite]:
    """Sites of a Hugging Face llama-style model, in execution order."""
    names = {n for n, _ in model.named_modules()}
    if prefix is None:
        prefix = "model." if "model.layers.0.self_attn.q_proj" in names else ""
    sites: list[TorchSite] = []
    b = 0
    while f"{prefix}layers.{b}.self_attn.q_proj" in names:
        p = f"{prefix}layers.{b}."
        sites += [
            TorchSite(
                f"b{b:02d}.attn_in", "attn_in", b, tuple(p + f"self_attn.{x}_proj" for x in "qkv")
            ),
            TorchSite(f"b{b:02d}.attn_ctx", "attn_ctx", b, (p + "self_attn.o_proj",)),
            TorchSite(f"b{b:02d}.mlp_in", "mlp_in", b, (p + "mlp.gate_proj", p + "mlp.up_proj")),
            TorchSite(f"b{b:02d}.mlp_act", "mlp_act", b, (p + "mlp.down_proj",)),
        ]
        b += 1
    if not sites:
        raise TraceError(f"no '{prefix}layers.N.self_attn.q_proj' modules: not a llama-style model")
    if "lm_head" not in names:
        raise TraceError("the model has no 'lm_head' module")
    sites.append(TorchSite("head", "head", None, ("lm_head",)))
    return sites


class TorchActivationModel:
    """A PyTorch causal LM as an `ActivationModel` (batch of one sequence, CPU)."""

    def __init__(
        self,
        model,
        sites: Sequence[TorchSite],
        *,
        name: str,
        source: str = "PyTorch module",
        encode: Callable[[str], list[int]] | None = None,
        decode: Callable[[Sequence[int]], str] | None = None,
    ) -> None:
        torch = _torch()
        self.model = model.eval()
        self._encode, self._decode = encode, decode
        modules = dict(model.named_modules())
        self._modules: list[list] = []
        specs: list[SiteSpec] = []
        for s in sites:
            mods = []
            for qual in s.modules:
                if qual not in modules:
                    raise TraceError(f"site {s.name}: the model has no module '{qual}'")
                mods.append(modules[qual])
            widths = {int(getattr(m, "in_features", -1)) for m in mods}
            if len(widths) != 1 or -1 in widths:
                raise TraceError(f"site {s.name}: its modules must be linears of one input width")
            linears = tuple(
                (q.rsplit(".", 1)[-1], int(m.out_features))
                for q, m in zip(s.modules, mods, strict=True)
            )
            specs.append(SiteSpec(s.name, s.site, s.block, widths.pop(), linears))
            self._modules.append(mods)
        self.sites = tuple(specs)
        blocks = len({s.block for s in specs if s.block is not None})
        head = [s for s in specs if s.site == "head"]
        vocab = head[0].linears[0][1] if head else 0
        hidden = head[0].width if head else specs[0].width
        params = sum(int(p.numel()) for p in model.parameters())
        self.info = ModelInfo(
            name=name,
            family="torch",
            source=source,
            blocks=blocks,
            hidden=hidden,
            vocab=vocab,
            extra={"parameters": params, "torch": torch.__version__},
        )

    def encode(self, text: str) -> list[int]:
        """Token ids, with the tokenizer given at construction."""
        if self._encode is None:
            raise TraceError("this torch model was wrapped without a tokenizer; pass token ids")
        return list(self._encode(text))

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ids, with the decoder given at construction."""
        if self._decode is None:
            return " ".join(str(int(i)) for i in ids)
        return self._decode(ids)

    def forward(self, ids: np.ndarray, hook: SiteHook | None = None) -> np.ndarray:
        """Logits (tokens x vocab) of one sequence; `hook(i, x)` sees and may replace site i."""
        torch = _torch()
        replaced: dict[int, tuple[object, object]] = {}
        handles = []

        def make(index: int):
            def pre(module, args):
                x = args[0]
                done = replaced.get(index)
                if done is not None and done[0] is x:
                    return (done[1], *args[1:])
                arr = x.detach().to(torch.float32).cpu().numpy().reshape(-1, x.shape[-1])
                out = arr if hook is None else hook(index, arr)
                new = torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
                new = new.to(dtype=x.dtype, device=x.device).reshape(x.shape)
                replaced[index] = (x, new)
                return (new, *args[1:])

            return pre

        for index, mods in enumerate(self._modules):
            for m in mods:
                handles.append(m.register_forward_pre_hook(make(index)))
        try:
            with torch.no_grad():
                out = self.model(torch.as_tensor(np.asarray(ids, dtype=np.int64))[None, :])
        finally:
            for h in handles:
                h.remove()
        logits = getattr(out, "logits", out)
        if isinstance(logits, tuple | list):
            logits = logits[0]
        return logits[0].detach().to(torch.float32).cpu().numpy()
