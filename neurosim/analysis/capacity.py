"""How many chips a model of N parameters needs, and what the chip-to-chip links cost.

Arithmetic, not simulation: a 20B-parameter model on a small neuromorphic chip means
hundreds of chips, too many to route pair by pair. The model is laid out in layer order
along a chain of chips (the fewest crossings), so each token crosses chips-1 chip
boundaries, each carrying the spikes of one hidden-width site.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from neurosim.architecture import Architecture
from neurosim.config.workload import Workload
from neurosim.mapping.placement import columns_per_weight, is_array_kind
from neurosim.simulate.gpu import GpuArchitecture


@dataclass(frozen=True)
class CapacityAnswer:
    """Chips needed for a model and the cost of the links between them."""

    architecture: str
    parameters: float
    weight_bits: float
    chips: int
    limited_by: str
    boundary_bits_per_token: float
    link_energy_per_token_j: float | None
    link_time_per_token_s: float | None
    link_static_power_w: float | None
    note: str


def mean_weight_bits(workload: Workload) -> float:
    """Stored bits per parameter of `workload`, packings and per-layer overrides included."""
    if not workload.weights.overrides:
        return float(workload.weights.exact_bits())
    from neurosim.workload.model import build_model_graph

    graph = build_model_graph(workload)
    return graph.weight_bytes * 8 / graph.parameters


def hidden_width(parameters: float, workload: Workload) -> int:
    """Hidden width of `workload`'s shape family scaled to `parameters` (width and depth
    grow together: both by (N / N0) ** (1/3))."""
    from neurosim.workload.model import build_model_graph

    base = build_model_graph(workload).parameters
    scale = (parameters / base) ** (1.0 / 3.0)
    return int(round(workload.embedding.dim * scale))


def capacity(
    arch: Architecture | GpuArchitecture, parameters: float, workload: Workload, weight_bits=None
) -> CapacityAnswer:
    """Chips (or GPUs) needed for `parameters` weights of `weight_bits` bits (default: the
    workload's mean stored bits per weight, packings and overrides included), and link cost."""
    bits = weight_bits or mean_weight_bits(workload)
    if isinstance(arch, GpuArchitecture):
        elem = arch.bytes_per_element
        need = parameters * elem + arch.framework_memory_bytes
        gpus = math.ceil(need / arch.memory_capacity_bytes)
        return CapacityAnswer(
            arch.name,
            parameters,
            8 * elem,
            gpus,
            "HBM capacity (weights at the GPU's precision)",
            0.0,
            None,
            None,
            None,
            "GPU-to-GPU link costs are not modelled",
        )
    weight_bytes = parameters * bits / 8
    if is_array_kind(arch):
        cfg = arch.compute
        cells = parameters * columns_per_weight(arch, bits)
        per_chip = cfg.count * cfg.arrays_per_tile * cfg.rows * cfg.cols
        chips, limit = math.ceil(cells / per_chip), "array cells"
    elif arch.dram is not None:
        dram = sum(ch.capacity_bytes for ch in arch.dram_channels)
        chips, limit = math.ceil(weight_bytes / dram), "DRAM capacity (weights streamed)"
    else:
        chips = math.ceil(weight_bytes / arch.onchip_memory.capacity_bytes)
        limit = "on-chip memory"
    chips = max(1, chips)
    synthetic = workload.spikes.synthetic.default
    spikes_per_neuron = (1 - synthetic.silent_fraction) * synthetic.mean_active_count
    d = hidden_width(parameters, workload)
    bits_per_crossing = d * spikes_per_neuron * arch.interconnect.spike_message_bits
    boundary_bits = (chips - 1) * bits_per_crossing
    if arch.chips is None:
        energy = time = power = None
        note = "no chips section: link costs unknown" if chips > 1 else "fits on one chip"
    else:
        link = arch.chips
        energy = boundary_bits * link.energy_j_per_bit
        time = (chips - 1) * (
            bits_per_crossing / (8 * link.link_bandwidth_bytes_per_s) + link.link_latency_s
        )
        power = chips * link.static_power_w
        note = f"chain layout; hidden width {d}, {spikes_per_neuron:.2f} spikes per neuron"
    return CapacityAnswer(
        arch.name, parameters, bits, chips, limit, boundary_bits, energy, time, power, note
    )
