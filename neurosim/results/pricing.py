"""Pricing: event counts times per-event energies, plus static power times time.

Energy-only parameters can be re-priced from a saved ledger without re-simulating
(`neurosim.analysis.reprice`). An event with no price is an error, never zero.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from neurosim.architecture import Architecture
from neurosim.components.fpga import fabric_power_w
from neurosim.errors import PricingError


def price_table(arch: Architecture) -> dict[tuple[str, str], float]:
    """Joules per event for every (component, event kind) the architecture can emit:
    each section prices its own events."""
    sections = [arch.compute, arch.onchip_memory, arch.interconnect, *arch.dram_channels, arch.host]
    optional = (arch.adc, arch.chips, arch.attention_engine, arch.neuron_cores)
    sections += [s for s in optional if s is not None]
    table: dict[tuple[str, str], float] = {}
    for section in sections:
        table |= section.prices()
    return table


def adc_count(arch: Architecture) -> int:
    """Converters on one chip (0 without an adc section)."""
    return arch.compute.converters_per_chip(arch.adc) if arch.adc is not None else 0


def static_powers(arch: Architecture, chips: int = 1) -> dict[str, float]:
    """Leakage power (W) of every component of all `chips` chips (configs give one chip)."""
    powers = {
        "compute": arch.compute.static_power_w,
        "onchip_memory": arch.onchip_memory.static_power_w,
        "interconnect": arch.interconnect.static_power_w,
    }
    for ch in arch.dram_channels:
        powers[ch.component] = ch.static_power_w
    if arch.adc is not None:
        powers["adc"] = arch.adc.static_power_w * adc_count(arch)
    if arch.chips is not None:
        powers["chip_link"] = arch.chips.static_power_w
    if arch.fpga is not None:
        powers["fpga_device"] = arch.fpga.device.static_power_w
    if arch.attention_engine is not None:
        powers["attention"] = arch.attention_engine.static_power_w
    per_system = {"host": arch.host.static_power_w()} if arch.host.cpu is not None else {}
    return {c: p * chips for c, p in powers.items()} | per_system


_SECTION = {
    "compute": "compute.energy",
    "onchip_memory": "onchip_memory",
    "interconnect": "interconnect",
    "adc": "adc",
    "chip_link": "chips",
    "array": "compute",
    "dac": "compute.energy",
    "periphery": "compute.energy",
    "near_memory": "compute.energy",
    "host": "host.cpu",
    "host_link": "host.link",
    "attention": "attention_engine.energy",
    "neuron_core": "neuron_cores",
}


@dataclass(frozen=True)
class EnergyBreakdown:
    """Dynamic energy per (component, event) and static energy per component, in joules."""

    dynamic: dict[tuple[str, str], float]
    static: dict[str, float]

    @property
    def dynamic_j(self) -> float:
        """All dynamic energy."""
        return sum(self.dynamic.values())

    @property
    def static_j(self) -> float:
        """All static energy."""
        return sum(self.static.values())

    @property
    def total_j(self) -> float:
        """Dynamic plus static."""
        return self.dynamic_j + self.static_j

    def by_component(self) -> dict[str, float]:
        """Dynamic plus static energy of each component."""
        out: dict[str, float] = {}
        for (component, _), j in self.dynamic.items():
            out[component] = out.get(component, 0.0) + j
        for component, j in self.static.items():
            out[component] = out.get(component, 0.0) + j
        return out

    def rows(self) -> list[dict]:
        """Flat rows (component, kind, joules) for tables and CSV."""
        rows = [
            {"component": c, "kind": e, "energy_j": j} for (c, e), j in sorted(self.dynamic.items())
        ]
        rows += [
            {"component": c, "kind": "static", "energy_j": j}
            for c, j in sorted(self.static.items())
        ]
        return rows


def price_events(
    counts: Iterable[tuple[tuple[str, str], int]],
    table: Mapping[tuple[str, str], float],
    static_w: Mapping[str, float],
    elapsed_s: float,
    *,
    section_of: Callable[[str], str],
) -> EnergyBreakdown:
    """Counts x per-event prices, plus static power x `elapsed_s`, for any architecture kind.

    An event with no price in `table` raises PricingError naming the config section
    (`section_of(component)`) where its price belongs.
    """
    dynamic: dict[tuple[str, str], float] = {}
    for key, n in counts:
        if key not in table:
            component, event = key
            raise PricingError(event, component, section_of(component))
        dynamic[key] = n * table[key]
    static = {c: p * elapsed_s for c, p in static_w.items()}
    return EnergyBreakdown(dynamic=dynamic, static=static)


def _chip_section(component: str) -> str:
    return _SECTION.get(component, "dram.channels" if component.startswith("dram.") else component)


def price(
    counts: Iterable[tuple[tuple[str, str], int]],
    arch: Architecture,
    elapsed_s: float,
    chips: int = 1,
) -> EnergyBreakdown:
    """Energy of `counts` on `arch` over `elapsed_s` of simulated time; on an FPGA, also
    the fabric's dynamic power over that time (component `fabric`, one event per part).
    An attention engine leaks only in runs that use it (otherwise it is left unpowered)."""
    counts = dict(counts)
    static = static_powers(arch, chips)
    if not any(component == "attention" for component, _ in counts):
        static.pop("attention", None)
    energy = price_events(
        counts.items(),
        price_table(arch),
        static,
        elapsed_s,
        section_of=_chip_section,
    )
    for part, watts in fabric_power_w(arch, counts, elapsed_s, chips).items():
        energy.dynamic[("fabric", part)] = watts * elapsed_s
    return energy


def area_m2(arch: Architecture, chips: int, arrays: int) -> dict[str, float]:
    """Area of the parts whose unit area the architecture gives (ADCs, arrays), in m^2."""
    out: dict[str, float] = {}
    adc_area = arch.adc.area_per_adc_m2 if arch.adc is not None else None
    if adc_area is not None:
        out["adc"] = adc_area * adc_count(arch) * chips
    return out | arch.compute.area_m2(arrays)
