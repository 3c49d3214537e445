"""The host: work outside the modelled chip that every token pays."""

from __future__ import annotations

from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.units import NonNegativeSeconds


class HostConfig(StrictModel):
    """Work outside the modelled chip that every token pays (sampling, host hand-off)."""

    per_token_overhead_s: NonNegativeSeconds = Field(
        default=0.0, description="per token: host time added to its latency"
    )
