"""Per-core limits of a neuromorphic chip, for placing an imported spiking network.

A preset's compute unit may stand for several physical cores (`cores_per_unit`); a
spiking network is placed core by core under the vendor's per-core limits, and its
spikes leave a core as the interconnect delivers them (`interconnect.multicast`: one
message per destination core, or one packet copied where the routes to its destinations
branch). `multicast` here is the older place of that setting: still read, it must agree
with `interconnect.multicast`, and the architecture fills it in from there.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from neurosim.config.base import StrictModel
from neurosim.units import PositiveBytes


class NeuronCoreLimits(StrictModel):
    """What one physical neuromorphic core holds, and how its spikes are delivered."""

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

    @property
    def synapses_per_core(self) -> int:
        """Synapses the synaptic memory of one core stores."""
        return int(self.synapse_memory_bytes * 8 // self.synapse_bits)
