"""FPGA device and fabric: the part a design is built on, what the design uses of it,
whether it fits, and the power of the fabric it occupies.

A preset's `fpga` section names a part from :data:`DEVICES` (or describes one inline):
its resources (LUT, FF, DSP, 36 Kb BRAM, 288 Kb URAM, AI Engines, hard memory
controllers, transceivers), its static power at a junction temperature, and its
per-resource dynamic power in uW per resource per MHz at a reference activity, the way
AMD's Power Estimator and Vivado's report_power price a design. Each component kind
declares what it costs in fabric (`fabric_cost`), so the usage is a table per component.

Fabric power is usage x clock x activity: logic (LUT, FF), routing (per used LUT),
clock tree (per used FF, every edge), BRAM/URAM (per block, by enable rate) and DSP.
Activity comes from the run's event counts (the datapath's busy fraction, the memory's
access rate), with the Power Estimator's default toggle rate for control logic. These
parts are reported as the `fabric` component beside the per-event energies, which stay
as they are: a spiking core's `compute/synop` and the on-chip `read_bit` energies price
the same switching again, so on-chip dynamic power double counts the datapath and block
RAM reads (docs/fpga.md says by how much).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator

from neurosim.config.base import StrictModel
from neurosim.units import NonNegativeWatts

if TYPE_CHECKING:
    from neurosim.architecture import Architecture

__all__ = [
    "BRAM_BYTES",
    "FABRIC_PARTS",
    "DEVICES",
    "DEVICE_SOURCES",
    "RESOURCE_LABELS",
    "URAM_BYTES",
    "FpgaConfig",
    "FpgaDevice",
    "FpgaPowerCoefficients",
    "FpgaResources",
    "blocks_for",
    "fabric_power_w",
    "fabric_usage",
    "fit_problems",
    "timing_warnings",
    "usage_totals",
]

BRAM_BYTES = 36 * 1024 // 8
"""One 36 Kb block RAM (4.5 KiB; UG573 / AM007)."""
URAM_BYTES = 288 * 1024 // 8
"""One 288 Kb UltraRAM (36 KiB; UG573 / AM007)."""
PORT_BITS = 72
"""Data bits per BRAM/URAM port and cycle (72-bit ports, UG573 / AM007)."""

RESOURCE_LABELS = {
    "lut": "LUT",
    "ff": "FF",
    "dsp": "DSP",
    "bram": "BRAM (36 Kb)",
    "uram": "URAM (288 Kb)",
    "aie": "AI Engine",
    "memory_controllers": "hard memory controller",
    "transceivers": "transceiver",
}
"""Every resource a part offers, in table order, with its display name."""

FABRIC_PARTS = ("clock_tree", "logic", "routing", "bram", "uram", "dsp")
"""Events of the `fabric` energy component."""


class FpgaResources(StrictModel):
    """Resources of one part (or what a design uses of them)."""

    lut: int = Field(ge=0, description="6-input look-up tables")
    ff: int = Field(ge=0, description="flip-flops (CLB registers)")
    dsp: int = Field(ge=0, description="DSP blocks (DSP48E2 / DSP58)")
    bram: int = Field(ge=0, description="36 Kb block RAMs")
    uram: int = Field(ge=0, description="288 Kb UltraRAMs")
    aie: int = Field(default=0, ge=0, description="AI Engine tiles")
    memory_controllers: int = Field(default=0, ge=0, description="hard DRAM/HBM memory controllers")
    transceivers: int = Field(default=0, ge=0, description="multi-gigabit transceivers")


class FpgaPowerCoefficients(StrictModel):
    """Dynamic power of one used resource per MHz of its clock, at the reference activity."""

    lut_uw_per_mhz: float = Field(ge=0, description="one LUT as logic at the reference toggle")
    ff_uw_per_mhz: float = Field(ge=0, description="one flip-flop at the reference toggle")
    routing_uw_per_mhz: float = Field(
        ge=0, description="interconnect (signals) per used LUT, at the reference toggle"
    )
    clock_uw_per_mhz: float = Field(
        ge=0, description="clock tree per used flip-flop (clocks toggle every cycle)"
    )
    bram_uw_per_mhz: float = Field(ge=0, description="one 36 Kb BRAM at the reference enable")
    uram_uw_per_mhz: float = Field(ge=0, description="one 288 Kb URAM at the reference enable")
    dsp_uw_per_mhz: float = Field(ge=0, description="one DSP block at the reference toggle")
    reference_toggle_fraction: float = Field(
        gt=0, description="toggle rate the logic, routing and DSP figures were taken at"
    )
    reference_enable_fraction: float = Field(
        gt=0, description="port enable rate the BRAM and URAM figures were taken at"
    )


class FpgaDevice(StrictModel):
    """One FPGA part: resources, static power and per-resource dynamic power."""

    part: str = Field(min_length=1, description="vendor part name")
    resources: FpgaResources = Field(description="what the part offers")
    static_power_w: NonNegativeWatts = Field(
        description="per chip: device static (leakage) power at `junction_temp_c`"
    )
    junction_temp_c: float = Field(description="junction temperature of `static_power_w`")
    hard_noc: bool = Field(
        description="memory controllers and units meet on a hardened NoC (Versal); "
        "otherwise the crossbar is built from fabric"
    )
    power: FpgaPowerCoefficients = Field(description="per-resource dynamic power")


# Per-resource dynamic power: a Vivado report_power of a large vectorless design (default
# 12.5 % toggle) on an Alveo U50 (XCU50, 16 nm UltraScale+), kernel clock 180 MHz:
# LUT as logic 1.235 W / 475,034, registers 0.137 W / 665,852, signals 3.132 W (per
# LUT), clocks 2.464 W (per register), BRAM 1.532 W / 412.5 blocks; DSP < 1 mW for 4.
# docs/sources.md#fpga-power-u50.
_US_PLUS_POWER = FpgaPowerCoefficients(
    lut_uw_per_mhz=1.235e6 / 475034 / 180,
    ff_uw_per_mhz=0.137e6 / 665852 / 180,
    routing_uw_per_mhz=3.132e6 / 475034 / 180,
    clock_uw_per_mhz=2.464e6 / 665852 / 180,
    bram_uw_per_mhz=1.532e6 / 412.5 / 180,
    uram_uw_per_mhz=2 * 1.532e6 / 412.5 / 180,
    dsp_uw_per_mhz=1.0,
    reference_toggle_fraction=0.125,
    reference_enable_fraction=0.5,
)

DEVICES: dict[str, FpgaDevice] = {
    "vc1902": FpgaDevice(
        part="XCVC1902-VSVA2197-2MP-E-S (Versal AI Core, VCK190)",
        resources=FpgaResources(
            lut=899840,
            ff=1799680,
            dsp=1968,
            bram=967,
            uram=463,
            aie=400,
            memory_controllers=4,
            transceivers=44,
        ),
        static_power_w=2.335 * 899840 / 870016,
        junction_temp_c=34.8,
        hard_noc=True,
        power=_US_PLUS_POWER,
    ),
    "zu7ev": FpgaDevice(
        part="XCZU7EV-FFVC1156-2-E (Zynq UltraScale+ MPSoC, ZCU104)",
        resources=FpgaResources(
            lut=230400,
            ff=460800,
            dsp=1728,
            bram=312,
            uram=96,
            aie=0,
            memory_controllers=1,
            transceivers=20,
        ),
        static_power_w=0.694,
        junction_temp_c=28.6,
        hard_noc=False,
        power=_US_PLUS_POWER,
    ),
    "xcu280": FpgaDevice(
        part="XCU280-FSVH2892-2L-E (Alveo U280, 8 GB HBM2)",
        resources=FpgaResources(
            lut=1303680,
            ff=2607360,
            dsp=9024,
            bram=2016,
            uram=960,
            aie=0,
            memory_controllers=16,
            transceivers=24,
        ),
        static_power_w=2.335 * 1303680 / 870016 + 0.264,
        junction_temp_c=34.8,
        hard_noc=False,
        power=_US_PLUS_POWER,
    ),
}
"""Shipped parts; a preset names one with `fpga: {device: NAME}`."""

_POWER_SOURCE = {
    "power.*": "docs/sources.md#fpga-power-u50 (Vivado report_power, Alveo U50, 16 nm "
    "UltraScale+); URAM: assumption 2 x BRAM (no figure); DSP: assumption, bounded by the "
    "report's < 1 mW for 4 DSPs",
}
DEVICE_SOURCES: dict[str, dict[str, str]] = {
    "vc1902": {
        "resources.lut": "docs/sources.md#vck190 (899,840: UNCONFIRMED, recalled from DS950)",
        "resources.ff": "derived: 2 per LUT (UG1273: 32 LUTs and 64 flip-flops per CLB)",
        "resources.dsp": "docs/sources.md#vck190 (AM004, UG1702: 1,968 DSP58)",
        "resources.bram": "docs/sources.md#vck190 (967, CHARM cdac.py counts)",
        "resources.uram": "docs/sources.md#vck190 (463, CHARM cdac.py counts)",
        "resources.aie": "docs/sources.md#vck190 (UG1702: 400 AI Engines)",
        "resources.memory_controllers": "docs/sources.md#vck190 (DS950: 2-4 per AI Core "
        "part, the VC1902 the top of the range: medium confidence)",
        "resources.transceivers": "UNCONFIRMED: 44 GTY recalled from DS950",
        "static_power_w": "assumption: no VC1902 figure is public (UG1506 points to PDM); "
        "the XCU50's 2.335 W at 34.8 C (docs/sources.md#fpga-power-u50) scaled by LUT "
        "count; AI Engine leakage is not included",
        "hard_noc": "UG1304: the Versal NoC is hardened (docs/sources.md#vck190)",
        **_POWER_SOURCE,
    },
    "zu7ev": {
        "resources.*": "docs/sources.md#fpga-devices (FF, BRAM, DSP from a ZCU104 Vivado "
        "report; LUTs derived as half the flip-flops; 96 URAM UNCONFIRMED, from DS891)",
        "resources.memory_controllers": "the PS DDR4 controller (a PL DDR4 needs a soft MIG)",
        "resources.transceivers": "UNCONFIRMED: 20 GTH recalled from DS891",
        "static_power_w": "docs/sources.md#fpga-devices (Vivado report_power on "
        "ZCU104: device static 0.694 W at 28.6 C junction)",
        "hard_noc": "UltraScale+ has no hardened NoC",
        **_POWER_SOURCE,
    },
    "xcu280": {
        "resources.*": "docs/sources.md#fpga-devices (DS963 as recalled, matching public "
        "Vivado utilisation reports: medium confidence)",
        "resources.memory_controllers": "UG1393: 32 HBM pseudo channels, one two-channel "
        "controller per two -> 16",
        "resources.transceivers": "derived: the card's PCIe x16 plus two QSFP28 x4 (UG1314)",
        "static_power_w": "derived: the XCU50's 2.335 W device static at 34.8 C scaled by "
        "LUT count, plus its 0.264 W HBM static (docs/sources.md#fpga-power-u50)",
        "hard_noc": "UltraScale+ has no hardened NoC (the HBM switch is hard, not a NoC)",
        **_POWER_SOURCE,
    },
}
"""Where each shipped part's numbers come from."""


DeviceName = Literal["vc1902", "zu7ev", "xcu280"]
"""Names of the shipped parts (the keys of `DEVICES`)."""


class FpgaConfig(StrictModel):
    """The FPGA a design is built on, and the activity assumptions of its fabric power."""

    device: DeviceName | FpgaDevice = Field(
        description=f"the part: one of {', '.join(DEVICES)}, or a full device section"
    )
    default_toggle_fraction: float = Field(
        default=0.125,
        gt=0,
        description="toggle rate of logic with no counted activity (AMD Power Estimator "
        "default, UG440: one transition every 8 cycles)",
    )
    data_toggle_fraction: float = Field(
        default=0.5,
        gt=0,
        description="toggle rate of a datapath bit in a busy cycle (random operands flip "
        "half their bits); idle cycles hold their values",
    )
    timing_warning_fraction: float = Field(
        default=0.8,
        gt=0,
        description="LUT or BRAM utilisation above which timing closure at the requested "
        "clock is unlikely (a warning, not an error)",
    )

    @field_validator("device", mode="before")
    @classmethod
    def _named_device(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in DEVICES:
                raise ValueError(f"unknown part {value!r}; known parts: {', '.join(DEVICES)}")
            return DEVICES[value]
        return value


def blocks_for(nbytes: float, device: FpgaDevice) -> tuple[int, int]:
    """(URAM, BRAM) blocks holding `nbytes`: UltraRAM first (denser), block RAM for the rest."""
    uram = min(device.resources.uram, math.ceil(nbytes / URAM_BYTES))
    rest = max(0.0, nbytes - uram * URAM_BYTES)
    return uram, math.ceil(rest / BRAM_BYTES)


def fabric_usage(arch: Architecture) -> dict[str, dict[str, float]]:
    """Resources each component uses on one chip (component -> resource -> count)."""
    if arch.fpga is None:
        return {}
    device = arch.fpga.device
    rows: dict[str, dict[str, float]] = {}
    compute = arch.compute.fabric_cost(device)
    if compute is None:
        raise ValueError(
            f"compute.kind: {arch.compute.kind} cannot be built from FPGA fabric; remove "
            "the `fpga` section or pick a digital kind (spiking_core, near_memory_engine)"
        )
    rows["compute"] = compute["datapath"]
    rows["compute.control"] = compute["control"]
    rows["onchip_memory"] = arch.onchip_memory.fabric_cost(device)
    ports = len(arch.core_nodes) + len(arch.dram_channels)
    rows["interconnect"] = arch.interconnect.fabric_cost(device, ports)
    for ch in arch.dram_channels:
        rows[ch.component] = ch.fabric_cost(device)
    return rows


def usage_totals(rows: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Each resource summed over the components."""
    total = dict.fromkeys(RESOURCE_LABELS, 0.0)
    for row in rows.values():
        for r, n in row.items():
            total[r] += n
    return total


_KEY_OF = {
    "compute": "compute.count",
    "compute.control": "compute.count",
    "onchip_memory": "onchip_memory.capacity_bytes",
    "interconnect": "interconnect.topology",
}


def fit_problems(arch: Architecture) -> list[str]:
    """Every resource the design needs more of than its part has ("key: message", the
    key of its biggest user)."""
    rows = fabric_usage(arch)
    if not rows:
        return []
    device = arch.fpga.device
    have = device.resources.model_dump()
    out = []
    for r, need in usage_totals(rows).items():
        if need > have[r]:
            users = sorted(rows, key=lambda c: -rows[c].get(r, 0))
            biggest = users[0]
            key = _KEY_OF.get(biggest, "dram.channels" if biggest.startswith("dram.") else biggest)
            parts = ", ".join(f"{c} {rows[c][r]:,.0f}" for c in users if rows[c].get(r, 0))
            out.append(
                f"{key}: the design needs {need:,.0f} x {RESOURCE_LABELS[r]} "
                f"but the {device.part} has {have[r]:,}: short by {need - have[r]:,.0f} "
                f"({parts})"
            )
    return out


def timing_warnings(arch: Architecture) -> list[str]:
    """LUT or BRAM utilisation above `timing_warning_fraction`, as readable warnings."""
    rows = fabric_usage(arch)
    if not rows:
        return []
    limit = arch.fpga.timing_warning_fraction
    have = arch.fpga.device.resources.model_dump()
    total = usage_totals(rows)
    out = []
    for r in ("lut", "bram"):
        if have[r] and total[r] / have[r] > limit:
            out.append(
                f"{RESOURCE_LABELS[r]} utilisation {100 * total[r] / have[r]:.1f} % is above "
                f"{100 * limit:.0f} %: timing closure at {arch.compute.clock_hz / 1e6:g} MHz "
                "is unlikely"
            )
    return out


def fabric_power_w(
    arch: Architecture, counts: Mapping[tuple[str, str], float], elapsed_s: float, chips: int = 1
) -> dict[str, float]:
    """Dynamic fabric power (W) by part (`FABRIC_PARTS`) of all `chips` chips, from the
    usage, the PL clock and the activity the event `counts` show over `elapsed_s`."""
    rows = fabric_usage(arch)
    if not rows or elapsed_s <= 0:
        return {}
    cfg = arch.fpga
    k = cfg.device.power
    mhz = arch.compute.clock_hz / 1e6
    cycles = arch.compute.clock_hz * elapsed_s * chips
    busy = arch.compute.fabric_busy_fraction(counts, cycles)
    blocks = rows["onchip_memory"].get("bram", 0) + rows["onchip_memory"].get("uram", 0)
    accessed = counts.get(("onchip_memory", "read_bit"), 0) + counts.get(
        ("onchip_memory", "write_bit"), 0
    )
    enable = min(1.0, accessed / (blocks * PORT_BITS * cycles)) if blocks else 0.0
    power = dict.fromkeys(FABRIC_PARTS, 0.0)
    for component, row in rows.items():
        toggle = cfg.data_toggle_fraction * busy if component == "compute" else None
        toggle = cfg.default_toggle_fraction if toggle is None else toggle
        t = toggle / k.reference_toggle_fraction
        e = enable / k.reference_enable_fraction
        lut, ff = row.get("lut", 0), row.get("ff", 0)
        power["clock_tree"] += ff * k.clock_uw_per_mhz * mhz
        power["logic"] += (lut * k.lut_uw_per_mhz + ff * k.ff_uw_per_mhz) * mhz * t
        power["routing"] += lut * k.routing_uw_per_mhz * mhz * t
        power["dsp"] += row.get("dsp", 0) * k.dsp_uw_per_mhz * mhz * t
        power["bram"] += row.get("bram", 0) * k.bram_uw_per_mhz * mhz * e
        power["uram"] += row.get("uram", 0) * k.uram_uw_per_mhz * mhz * e
    return {part: w * 1e-6 * chips for part, w in power.items()}
