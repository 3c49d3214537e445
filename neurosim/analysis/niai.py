"""Natural vs artificial intelligence hardware: the brain beside chips and a GPU, scale by
scale (synapse, neuron, module, system).

Chip and GPU figures come from two places only: the architecture's own prices and sizes
(synapse and neuron rows: what one event costs) and a simulated run of the workload
(module and system rows: what the events cost in use, static power and traffic included).
The brain's figures are the sourced ranges of `neurosim.analysis.brain`.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

from neurosim.analysis.brain import BrainScales, Span
from neurosim.architecture import Architecture
from neurosim.config.workload import Workload
from neurosim.results.pricing import price_table
from neurosim.results.record import Result
from neurosim.simulate.gpu import GpuArchitecture

SCALES = ("synapse", "neuron", "module", "system")

# column, unit, heading
COLUMNS = (
    ("energy_per_synaptic_event_j", "J", "J per synaptic event"),
    ("energy_per_spike_j", "J", "J per spike or message"),
    ("density_per_mm2", "1/mm2", "per mm2"),
    ("precision_bits", "bit", "precision bits"),
    ("bytes_per_synaptic_op", "B", "bytes moved per synaptic op"),
    ("conversions_per_op", "", "ADC conversions per synaptic op"),
    ("static_share", "", "static share"),
    ("plasticity", "", "plasticity"),
    ("energy_per_token_j", "J", "J per token(-equivalent)"),
    ("synapses", "", "synapses"),
    ("power_w", "W", "power W"),
)
COLUMN_NAMES = tuple(c[0] for c in COLUMNS)

# what `density_per_mm2` counts at each scale
DENSITY_OF = {"synapse": "synapses", "neuron": "neurons", "module": "synapses",
              "system": "synapses"}
GPU_BITS = {"fp32": 32, "tf32": 19, "fp16": 16, "bf16": 16, "int8": 8}
TRAFFIC_LEVELS = ("dram_read", "dram_write", "onchip_read", "onchip_write", "noc", "chip_links")
MODULE_CATEGORIES = ("compute", "array", "adc", "dac", "periphery", "near_memory",
                     "onchip_memory", "fabric", "fpga_device")
"""Energy parts counted as the compute side (on an FPGA, its fabric and device leakage)."""


@dataclass(frozen=True)
class Value:
    """One cell: a number, a low-high range (the brain) or a word, and what it rests on."""

    low: float | None = None
    high: float | None = None
    text: str = ""
    source: str = ""

    @classmethod
    def of(cls, x: float | None, source: str) -> Value:
        return cls() if x is None else cls(float(x), float(x), source=source)

    @classmethod
    def span(cls, s: Span) -> Value:
        return cls(s.low, s.high, source=s.source)

    @property
    def empty(self) -> bool:
        return self.low is None and not self.text

    def render(self) -> str:
        """'1.2e-14', '1e-14-1.3e-13' for a range, the word, or '-'."""
        if self.text:
            return self.text
        if self.low is None:
            return "-"
        if math.isclose(self.low, self.high, rel_tol=1e-9):
            return _num(self.low)
        return f"{_num(self.low)} - {_num(self.high)}"


def _num(x: float) -> str:
    return "0" if x == 0 else f"{x:.3g}"


@dataclass
class ScaleRow:
    """One system at one scale."""

    system: str
    scale: str
    values: dict[str, Value] = field(default_factory=dict)

    def get(self, column: str) -> Value:
        return self.values.get(column, Value())


# ------------------------------------------------------------------------------ the brain


def brain_rows(brain: BrainScales) -> list[ScaleRow]:
    """The brain's four rows from its sourced ranges."""
    q, v = brain.q, Value.span
    plastic = Value(text="on-site, continuous", source="synapse_precision_bits")
    colocated = Value(0.0, 0.0, source="weights are the synapses: no memory-compute distance")
    no_adc = Value(0.0, 0.0, source="analog dendrites, all-or-none spikes: no converters")
    synapse = ScaleRow("brain", "synapse", {
        "energy_per_synaptic_event_j": v(brain.synaptic_event_j()),
        "density_per_mm2": v(brain.synapses_per_mm2()),
        "precision_bits": v(q("synapse_precision_bits")),
        "bytes_per_synaptic_op": colocated,
        "conversions_per_op": no_adc,
        "plasticity": plastic,
    })
    neuron = ScaleRow("brain", "neuron", {
        "energy_per_spike_j": v(brain.spike_j()),
        "density_per_mm2": v(q("neurons_per_mm2")),
        "static_share": v(q("resting_share")),
        "plasticity": plastic,
        "synapses": v(q("synapses_per_neuron")),
        "power_w": v(brain.power_per_neuron_w()),
    })
    module = ScaleRow("brain", "module", {
        "energy_per_synaptic_event_j": v(brain.synaptic_event_j()),
        "energy_per_spike_j": v(brain.spike_j()),
        "density_per_mm2": v(brain.synapses_per_mm2()),
        "bytes_per_synaptic_op": colocated,
        "conversions_per_op": no_adc,
        "static_share": v(q("resting_share")),
        "plasticity": plastic,
        "synapses": v(brain.column_synapses()),
        "power_w": v(brain.column_power_w()),
    })
    system = ScaleRow("brain", "system", {
        "energy_per_synaptic_event_j": v(brain.synaptic_event_top_down_j()),
        "energy_per_spike_j": v(brain.spike_top_down_j()),
        "precision_bits": v(q("synapse_precision_bits")),
        "bytes_per_synaptic_op": colocated,
        "conversions_per_op": no_adc,
        "static_share": v(q("resting_share")),
        "plasticity": plastic,
        "energy_per_token_j": v(brain.token_equivalent_j()),
        "synapses": v(q("synapses")),
        "power_w": v(q("power_w")),
    })
    return [synapse, neuron, module, system]


# ------------------------------------------------------------------------------ chips


def plasticity_of(workload: Workload) -> str:
    """'none' for frozen weights, else the rule and where it runs."""
    cfg = workload.learning
    if cfg.rule == "none":
        return "none"
    return f"{cfg.where.replace('_', '-')} {cfg.rule}"


def synapse_event_j(arch: Architecture, weight_bits: int) -> tuple[float, str]:
    """What one synaptic event costs at the device: an array's cells of one weight, or an
    accumulation plus reading the weight from on-chip memory."""
    prices = price_table(arch)
    compute = arch.compute
    for key in (("array", "cell_read"), ("array", "mac")):
        if key in prices:
            cells = compute.columns_per_weight(weight_bits)
            return prices[key] * cells, f"{key[0]}.{key[1]} x {cells} cells per weight"
    read = prices.get(("onchip_memory", "read_bit"), 0.0) * weight_bits
    return prices[("compute", "synop")] + read, "compute.synop + weight bits x onchip read_bit"


def _events_per_token(arch: Architecture, workload: Workload, r: Result) -> float:
    """Synaptic events per token: arrays count one op per cell of a weight."""
    ops = r.metrics["synops_per_token"]
    if arch.compute.weight_stationary:
        return ops / arch.compute.columns_per_weight(workload.weights.bits)
    return ops


def _per(x: float, n: float) -> float | None:
    return x / n if n else None


def chip_rows(arch: Architecture, workload: Workload, r: Result) -> list[ScaleRow]:
    """A chip's four rows: its prices and sizes, then its simulated run."""
    name, bits = arch.name, workload.weights.bits
    prices = price_table(arch)
    compute = arch.compute
    run = f"{r.fidelity} run, {r.tokens} tokens"
    plastic = Value(text=plasticity_of(workload), source="workload.learning")
    events = _events_per_token(arch, workload, r)
    spikes = r.metrics["spikes_per_token"]
    tokens = max(1, r.tokens)
    parts = r.energy_per_token_j
    stationary = compute.weight_stationary
    e_syn, how = synapse_event_j(arch, bits)
    density = None
    if stationary and compute.array_area_m2:
        weights_per_array = compute.rows * compute.cols / compute.columns_per_weight(bits)
        density = weights_per_array / (compute.array_area_m2 * 1e6)
    moved = 0.0 if stationary else bits / 8
    synapse = ScaleRow(name, "synapse", {
        "energy_per_synaptic_event_j": Value.of(e_syn, how),
        "density_per_mm2": Value.of(density, "array weights / compute.array_area_m2"),
        "precision_bits": Value.of(bits, "workload weights.bits"),
        "bytes_per_synaptic_op": Value.of(moved, "weights stay in the arrays" if stationary
                                          else "one weight read per accumulation"),
        "plasticity": plastic,
    })
    levels = max(s.levels for s in workload.blocks.sites.values())
    e_spike = prices.get(("compute", "neuron_update"), 0.0) + arch.interconnect.spike_message_bits \
        * prices.get(("interconnect", "bit_hop"), 0.0)
    fan_in = max(s.width for s in workload.blocks.sites.values())
    neuron = ScaleRow(name, "neuron", {
        "energy_per_spike_j": Value.of(e_spike, "compute.neuron_update + spike message bits "
                                       "x interconnect bit_hop"),
        "precision_bits": Value.of(math.log2(levels), "log2 of the spike levels L"),
        "plasticity": plastic,
        "synapses": Value.of(fan_in, "widest site: the fan-in of its linears' outputs"),
    })
    units = r.placement.get("compute_units", 1)
    module_dyn = sum(j for part, j in parts.items() if part.split(".")[0] in MODULE_CATEGORIES
                     and not part.endswith(".static"))
    module_static = sum(j for part, j in parts.items() if part.split(".")[0] in MODULE_CATEGORIES
                        and part.endswith(".static"))
    spike_j = sum(j for part, j in parts.items() if part in ("compute.neuron_update",
                                                               "interconnect.bit_hop"))
    onchip = sum(r.traffic_bytes_per_token.get(k, 0.0) for k in ("onchip_read", "onchip_write"))
    conversions = r.event_counts.get("adc/conversion", 0) / tokens
    tps = r.metrics["tokens_per_s"]
    module = ScaleRow(name, "module", {
        "energy_per_synaptic_event_j": Value.of(_per(module_dyn, events),
                                                f"compute-side dynamic energy / events ({run})"),
        "energy_per_spike_j": Value.of(_per(spike_j, spikes),
                                       f"neuron updates + NoC energy / spikes ({run})"),
        "bytes_per_synaptic_op": Value.of(_per(onchip, events), f"on-chip traffic ({run})"),
        "conversions_per_op": Value.of(_per(conversions, events), f"ADC conversions ({run})"),
        "static_share": Value.of(_per(module_static, module_static + module_dyn),
                                 f"compute-side static / all compute-side energy ({run})"),
        "plasticity": plastic,
        "synapses": Value.of(r.metrics["parameters"] / units, "weights per compute unit"),
        "power_w": Value.of((module_dyn + module_static) * tps / units,
                            f"compute-side energy x tokens/s / units ({run})"),
    })
    total = r.metrics["energy_per_token_j"]
    traffic = sum(r.traffic_bytes_per_token.get(k, 0.0) for k in TRAFFIC_LEVELS)
    area = r.metrics.get("area_m2")
    system = ScaleRow(name, "system", {
        "energy_per_synaptic_event_j": Value.of(_per(total, events), f"energy per token / "
                                                f"events ({run})"),
        "energy_per_spike_j": Value.of(_per(total, spikes), f"energy per token / spikes ({run})"),
        "density_per_mm2": Value.of(_per(r.metrics["parameters"], area * 1e6) if area else None,
                                    "weights / stated area (arrays, ADCs)"),
        "precision_bits": Value.of(bits, "workload weights.bits"),
        "bytes_per_synaptic_op": Value.of(_per(traffic, events), f"all memory and link "
                                          f"traffic ({run})"),
        "conversions_per_op": Value.of(_per(conversions, events), f"ADC conversions ({run})"),
        "static_share": Value.of(r.metrics["static_energy_per_token_j"] / total if total else None,
                                 f"static / all energy ({run})"),
        "plasticity": plastic,
        "energy_per_token_j": Value.of(total, run),
        "synapses": Value.of(r.metrics["parameters"], "weights of the model"),
        "power_w": Value.of(r.metrics["total_power_w"], run),
    })
    return [synapse, neuron, module, system]


def gpu_rows(gpu: GpuArchitecture, workload: Workload, r: Result) -> list[ScaleRow]:
    """A GPU's rows: a dense multiply-accumulate per synapse; no spikes, no modules."""
    bits = GPU_BITS.get(gpu.precision, 16)
    mac_j = 2 * gpu.energy_per_flop_j[gpu.precision]
    run = f"roofline model, {r.tokens} tokens"
    plastic = Value(text="off-chip training", source="a GPU trains by backpropagation in HBM")
    events = r.metrics["synops_per_token"]
    total = r.metrics["energy_per_token_j"]
    traffic = sum(r.traffic_bytes_per_token.get(k, 0.0) for k in TRAFFIC_LEVELS)
    synapse = ScaleRow(gpu.name, "synapse", {
        "energy_per_synaptic_event_j": Value.of(mac_j, f"2 x energy_per_flop_j.{gpu.precision}"),
        "precision_bits": Value.of(bits, f"precision {gpu.precision}"),
        "bytes_per_synaptic_op": Value.of(bits / 8, "every weight read from HBM each token"),
        "conversions_per_op": Value.of(0.0, "digital"),
        "plasticity": plastic,
    })
    system = ScaleRow(gpu.name, "system", {
        "energy_per_synaptic_event_j": Value.of(_per(total, events), f"energy per token / "
                                                f"dense MACs ({run})"),
        "precision_bits": Value.of(bits, f"precision {gpu.precision}"),
        "bytes_per_synaptic_op": Value.of(_per(traffic, events), f"HBM traffic ({run})"),
        "conversions_per_op": Value.of(0.0, "digital"),
        "static_share": Value.of(r.metrics["static_energy_per_token_j"] / total if total else None,
                                 f"idle / all energy ({run})"),
        "plasticity": plastic,
        "energy_per_token_j": Value.of(total, run),
        "synapses": Value.of(r.metrics["parameters"], "weights of the model"),
        "power_w": Value.of(r.metrics["total_power_w"], run),
    })
    return [synapse, ScaleRow(gpu.name, "neuron"), ScaleRow(gpu.name, "module"), system]


# ------------------------------------------------------------------------------ output


def write_csv(rows: list[ScaleRow], path: Path) -> Path:
    """One line per (scale, system, quantity): low, high or text, unit and source."""
    units = {c: u for c, u, _ in COLUMNS}
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["scale", "system", "quantity", "low", "high", "text", "unit", "source"])
        for scale in SCALES:
            for row in (x for x in rows if x.scale == scale):
                for col in COLUMN_NAMES:
                    v = row.get(col)
                    if v.empty:
                        continue
                    w.writerow([scale, row.system, col, "" if v.low is None else v.low,
                                "" if v.high is None else v.high, v.text, units[col], v.source])
    return path


def markdown(rows: list[ScaleRow]) -> str:
    """One table per scale: systems down, the quantities defined at that scale across."""
    out = []
    headings = {c: h for c, _, h in COLUMNS}
    for scale in SCALES:
        here = [x for x in rows if x.scale == scale
                and any(not x.get(c).empty for c in COLUMN_NAMES)]
        cols = [c for c in COLUMN_NAMES if any(not x.get(c).empty for x in here)]
        if scale in DENSITY_OF and "density_per_mm2" in cols:
            headings = {**headings, "density_per_mm2": f"{DENSITY_OF[scale]} per mm2"}
        out.append(f"{scale}\n")
        out.append("| system | " + " | ".join(headings[c] for c in cols) + " |")
        out.append("|---|" + "---|" * len(cols))
        for x in here:
            out.append(f"| {x.system} | " + " | ".join(x.get(c).render() for c in cols) + " |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
