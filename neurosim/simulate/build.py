"""The one builder: architecture config + placement -> wired SimPy components."""

from __future__ import annotations

from dataclasses import dataclass

from neurosim.architecture import Architecture
from neurosim.components.adc import AdcBank
from neurosim.components.attention_engine import AttentionEngine
from neurosim.components.compute import ComputeUnit
from neurosim.components.dram import DramChannel
from neurosim.components.interconnect import Interconnect
from neurosim.components.memory import OnChipMemory
from neurosim.engine import ReservationTable, SimContext
from neurosim.mapping.placement import Placement
from neurosim.simulate.work import WorkPlanner


@dataclass
class System:
    """A built system: one context and every component model."""

    ctx: SimContext
    arch: Architecture
    cores: list[ComputeUnit]
    channels: list[DramChannel]
    onchip: OnChipMemory
    interconnect: Interconnect
    adc: AdcBank | None
    attention: AttentionEngine | None = None


def _adc_banks(arch: Architecture, placement: Placement) -> int:
    """ADC banks of the whole system: one per `arrays_per_bank` arrays of every unit."""
    return max(1, arch.compute.converters_per_chip(arch.adc) // arch.adc.count * placement.chips)


def build_system(arch: Architecture, planner: WorkPlanner, seed: int, contention: bool) -> System:
    """Create the context and one model per component, sized from the config; the planner
    gives the placement, the routes and the link parameters it computed."""
    placement, routing = planner.placement, planner.routing
    ctx = SimContext.create(seed=seed, contention=contention)
    table = ReservationTable(len(arch.dram_channels), contention)
    adc = AdcBank(ctx, arch.adc, _adc_banks(arch, placement)) if arch.adc is not None else None
    return System(
        ctx=ctx,
        arch=arch,
        cores=[arch.compute.unit_model(ctx, i, adc) for i in range(placement.units)],
        channels=[DramChannel(ctx, ch, i, table) for i, ch in enumerate(arch.dram_channels)],
        onchip=OnChipMemory(ctx, arch.onchip_memory, placement.stream_buffer_bytes),
        interconnect=Interconnect(ctx, arch.interconnect, routing, *planner.link_params),
        adc=adc,
        attention=(
            AttentionEngine(ctx, arch.attention_engine)
            if arch.attention_engine is not None
            else None
        ),
    )
