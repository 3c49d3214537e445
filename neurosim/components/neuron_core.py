"""Neuromorphic cores: per-core limits, spike delivery and per-spike costs.

A preset's compute unit may stand for several physical cores (`cores_per_unit`); a
spiking network is placed core by core under the vendor's per-core limits, and its
spikes leave a core as the interconnect delivers them (`interconnect.multicast`: one
message per destination core, or one packet copied where the routes to its destinations
branch). `multicast` here is the older place of that setting: still read, it must agree
with `interconnect.multicast`, and the architecture fills it in from there.
Each spike generated, message sent and message received
costs the core energy and busy time on top of its synaptic events and neuron updates
(`spike_*`, `message_out_*`, `message_in_*`; 0 unless a preset sources them).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.units import NonNegativeJoules, NonNegativeSeconds, PositiveBytes

COMPONENT = "neuron_core"
"""Ledger component of the per-spike and per-message events."""


class NeuronCoreLimits(StrictModel):
    """What one physical neuromorphic core holds, how its spikes are delivered, and what
    each spike and message costs it."""

    cores_per_unit: int = Field(
        description="physical cores one compute unit stands for (compute.count units per chip)"
    )
    neurons_per_core: int = Field(description="per core: neurons (compartments) it updates")
    fan_in_per_core: int = Field(
        description="per core: distinct presynaptic sources (input axons) it can receive"
    )
    synapse_memory_bytes: PositiveBytes = Field(description="per core: synaptic memory")
    synapse_bits: int = Field(description="bits one stored synapse occupies in that memory")
    routes_per_core: int = Field(
        description="per core: outgoing routes (interconnect.multicast none: one per neuron "
        "and destination core; tree: one per distinct set of destination cores)"
    )
    multicast: Literal["none", "tree"] | None = Field(
        default=None,
        description="older place of interconnect.multicast (give it there): if given, it "
        "must agree; when loaded, it always equals interconnect.multicast",
    )

    analog_speedup: float | None = Field(
        default=None,
        description="analog cores only: how much faster than the model's time the circuits "
        "run; a timestep of dt then lasts dt / analog_speedup, spikes are routed while it "
        "runs, and there is no barrier (none: digital, timed by the compute unit's rates)",
    )

    spike_delivery: Literal["same_timestep", "next_timestep"] = Field(
        default="same_timestep",
        description="same_timestep: a spike reaches its targets in the timestep it is fired "
        "(populations in graph order, as snnTorch and Norse simulate); next_timestep: every "
        "synaptic input is integrated one timestep later, as Loihi's cores do (Lava's Loihi "
        "models, SANA-FE)",
    )
    spike_energy_j: NonNegativeJoules = Field(
        default=0.0, description="per spike generated, at the source neuron's core"
    )
    spike_latency_s: NonNegativeSeconds = Field(
        default=0.0,
        description="per spike generated: busy time of the source neuron's core",
    )
    message_out_energy_j: NonNegativeJoules = Field(
        default=0.0,
        description="per spike message sent, at the sending core (multicast none: one per "
        "destination core; tree: one per spike)",
    )
    message_out_latency_s: NonNegativeSeconds = Field(
        default=0.0, description="per spike message sent: busy time of the sending core"
    )
    message_in_energy_j: NonNegativeJoules = Field(
        default=0.0, description="per spike message received, at the receiving core"
    )
    message_in_latency_s: NonNegativeSeconds = Field(
        default=0.0, description="per spike message received: busy time of the receiving core"
    )

    def prices(self) -> dict[tuple[str, str], float]:
        """Joules per spike generated, message sent and message received."""
        return {
            (COMPONENT, "spike"): self.spike_energy_j,
            (COMPONENT, "message_out"): self.message_out_energy_j,
            (COMPONENT, "message_in"): self.message_in_energy_j,
        }

    def spike_busy_s(self, spikes, messages_out, messages_in) -> np.ndarray:
        """Busy time a core spends on its spikes and messages (same-shaped counts)."""
        return (
            np.asarray(spikes) * self.spike_latency_s
            + np.asarray(messages_out) * self.message_out_latency_s
            + np.asarray(messages_in) * self.message_in_latency_s
        )

    @property
    def synapses_per_core(self) -> int:
        """Synapses the synaptic memory of one core stores."""
        return int(self.synapse_memory_bytes * 8 // self.synapse_bits)
