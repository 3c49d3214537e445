"""The strict pydantic base class every neurosim config model derives from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["StrictModel"]


class StrictModel(BaseModel):
    """Immutable model that rejects unknown keys and validates defaults too."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)
