"""Softmax attention of a block: the head layout that sizes its KV cache and its work."""

from __future__ import annotations

from pydantic import Field, model_validator

from neurosim.config.base import StrictModel


class SoftmaxAttentionConfig(StrictModel):
    """Softmax attention with a KV cache: every token keeps one key and one value vector
    per KV head per block; a decoded token scores its queries against all cached keys."""

    heads: int = Field(gt=0, description="query heads")
    kv_heads: int = Field(gt=0, description="key/value heads (grouped-query attention: fewer)")
    head_dim: int = Field(gt=0, description="width of one head's query, key and value")
    kv_bits: int = Field(default=16, gt=0, le=32, description="bits per cached K or V value")

    @model_validator(mode="after")
    def _grouped_heads(self) -> SoftmaxAttentionConfig:
        if self.heads % self.kv_heads:
            raise ValueError(
                f"kv_heads: {self.kv_heads} KV heads do not divide the {self.heads} query heads "
                "(each KV head serves a whole group of query heads)"
            )
        return self
