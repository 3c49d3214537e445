"""The accepted range of every numeric config field, so no absurd number reaches a run.

A field's range comes from its class and name (``"BlockConfig.count"``), else its name
(``"vocab"``), else the unit suffix of its name (``_s``, ``_hz``, ``_bytes``, ...). Every
numeric field of every config model must have one: :class:`~neurosim.config.base.StrictModel`
refuses to define a model with a numeric field that has none, so a new field cannot skip
the rule. Ranges are generous for real hardware and tight enough that products of them
(durations in integer picoseconds, array sizes) cannot overflow or exhaust memory.
"""

from __future__ import annotations

import math
import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

__all__ = ["ANY_FINITE", "Range", "has_number", "range_for"]

MAX_UNITS = 4096
"""Most compute units (and chips) one run simulates; routes are computed pair by pair."""


@dataclass(frozen=True)
class Range:
    """Inclusive accepted interval of a field, with the unit shown in messages and why."""

    low: float
    high: float
    unit: str = ""
    why: str = ""

    def describe(self) -> str:
        """'between 0 and 1 s (reason)'."""
        unit = f" {self.unit}" if self.unit else ""
        text = f"between {_number(self.low)} and {_number(self.high)}{unit}"
        return f"{text} ({self.why})" if self.why else text

    def check(self, value: Any) -> None:
        """Raise ValueError naming the range if a number (or a number inside a list or
        mapping) is not finite or falls outside it; other values pass."""
        if isinstance(value, list | tuple):
            for item in value:
                self.check(item)
            return
        if isinstance(value, dict):
            for item in value.values():
                self.check(item)
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            return
        finite = isinstance(value, int) or math.isfinite(value)
        if not finite or not self.low <= value <= self.high:
            shown = _short(value)
            raise ValueError(f"must be {self.describe()}; got {shown}")


ANY_FINITE = Range(-math.inf, math.inf, why="any finite number")
"""For values checked elsewhere (a swept value is checked by the config it is applied to)."""


def _number(value: float) -> str:
    """1e-06 -> '1e-06', 4096.0 -> '4096', 2**63 - 1 -> '9223372036854775807'."""
    if isinstance(value, int) or (value.is_integer() and abs(value) < 1e16):
        return str(int(value))
    return f"{value:g}"


def _short(value: int | float) -> str:
    text = repr(value)
    return text if len(text) <= 24 else f"{float(value):.6g}"


_TIME = Range(0, 1.0, "s", "no per-event time or per-token overhead of real hardware is longer")
_UNITS = Range(1, MAX_UNITS, "", "the simulator routes every pair of units")
_SIZE_2_20 = Range(1, 2**20, "", "over a million is no real layer or array dimension")
_SPIKE_J = Range(0, 1e-6, "J", "one spike or message in a core: real cores spend pJ to nJ")
_SPIKE_S = Range(0, 1e-3, "s", "one spike or message in a core: real cores take ns to us")

# Checked first: a class and its field.
_BY_CLASS_FIELD: dict[str, Range] = {
    "ComputeSection.count": _UNITS,
    "StreamingSection.count": _UNITS,
    "ArraySection.count": _UNITS,
    "NearMemoryEngineConfig.count": _UNITS,
    "SpikingCoreConfig.count": _UNITS,
    "CrossbarTileConfig.count": _UNITS,
    "SramCimTileConfig.count": _UNITS,
    "ChipsConfig.count": _UNITS,
    "AttentionEngineConfig.count": Range(1, 2**20, "", "units running attention per chip"),
    "AdcConfig.count": Range(1, 65536, "", "converters per array"),
    "BlockConfig.count": Range(1, 10000, "", "blocks of a model; the largest LLMs have ~100"),
    "MeshTopology.width": Range(1, 64, "", "a 64 x 64 mesh (4096 nodes) is the largest routed"),
    "MeshTopology.height": Range(1, 64, "", "a 64 x 64 mesh (4096 nodes) is the largest routed"),
    "RingTopology.size": Range(2, MAX_UNITS, "", "the simulator routes every pair of nodes"),
    "CrossbarTopology.size": Range(2, 256, "", "a full crossbar has size^2 links"),
    "SiteConfig.width": _SIZE_2_20,
    "LinearConfig.out": _SIZE_2_20,
    "HeadConfig.out": Range(1, 2**24, "", "vocabularies of real LLMs are below 1M tokens"),
    "EmbeddingConfig.dim": _SIZE_2_20,
    "WeightConfig.bits": Range(1, 32, "bits", "bits per stored weight"),
    "WeightFormat.bits": Range(1, 32, "bits", "bits per stored weight"),
    "WeightOverride.bits": Range(1, 32, "bits", "bits per stored weight"),
    "WeightOverride.blocks": Range(0, 9999, "", "block indices (ranges are checked as text)"),
    "BlockRangeConfig.blocks": Range(0, 9999, "", "block indices (ranges are checked as text)"),
    "HostCpuConfig.cores": Range(1, 4096, "", "cores of one host"),
    "HostCpuConfig.ops_per_cycle": Range(1, 4096, "", "SIMD lanes x issue width of one core"),
    "HostConfig.sampling_ops_per_logit": Range(0, 1000, "", "operations per vocabulary entry"),
    "PackingConfig.weights": Range(1, 256, "", "weights packed in one group of bytes"),
    "PackingConfig.bytes": Range(1, 32, "B", "bytes of one packed group"),
    "AdcConfig.bits": Range(1, 24, "", "the best converters resolve ~24 bits"),
    "AdcConfig.enob": Range(0, 24, "", "effective bits of a converter"),
    "NeuronCoreLimits.cores_per_unit": Range(1, 65536, "", "physical cores behind one unit"),
    "NeuronCoreLimits.neurons_per_core": _SIZE_2_20,
    "NeuronCoreLimits.fan_in_per_core": Range(1, 2**24, "", "input axons of one core"),
    "NeuronCoreLimits.synapse_bits": Range(1, 64, "bits", "one stored synapse"),
    "NeuronCoreLimits.routes_per_core": Range(1, 2**24, "", "routing entries of one core"),
    "NeuronCoreLimits.analog_speedup": Range(1e-3, 1e9, "", "acceleration of analog time"),
    "NeuronCoreLimits.spike_energy_j": _SPIKE_J,
    "NeuronCoreLimits.message_out_energy_j": _SPIKE_J,
    "NeuronCoreLimits.message_in_energy_j": _SPIKE_J,
    "NeuronCoreLimits.spike_latency_s": _SPIKE_S,
    "NeuronCoreLimits.message_out_latency_s": _SPIKE_S,
    "NeuronCoreLimits.message_in_latency_s": _SPIKE_S,
    "CellConfig.programming_sigma": Range(0, 1, "", "a fraction of G_max"),
    "CellConfig.drift_nu": Range(0, 1, "", "measured PCM/ReRAM exponents are below ~0.1"),
    "CellConfig.drift_nu_sigma": Range(0, 1, "", "spread of the drift exponent"),
    "CellConfig.drift_t0_s": Range(1e-9, 1e4, "s", "a reference time after programming"),
    "CellConfig.read_after_programming_s": Range(
        1e-9, 1e9, "s", "up to ~30 years after programming"
    ),
    "CellConfig.conductance_levels": Range(2, 65536, "", "programmable conductance levels"),
    "SramCimTileConfig.accumulator_bits": Range(2, 64, "bits", "an adder-tree output word"),
    "GpuPublishedFigures.energy_per_token_j": Range(0, 1e4, "J", "per decoded token"),
    "FpgaResources.lut": Range(0, 2**24, "", "the largest FPGAs have a few million LUTs"),
    "FpgaResources.ff": Range(0, 2**25, "", "the largest FPGAs have ~10 million flip-flops"),
    "FpgaResources.dsp": Range(0, 2**20, "", "the largest FPGAs have ~15,000 DSP blocks"),
    "FpgaResources.bram": Range(0, 2**20, "", "the largest FPGAs have ~10,000 block RAMs"),
    "FpgaResources.uram": Range(0, 2**20, "", "the largest FPGAs have ~5,000 UltraRAMs"),
    "FpgaResources.aie": Range(0, 2**16, "", "the largest Versal parts have ~400 AI Engines"),
    "FpgaResources.memory_controllers": Range(0, 1024, "", "hard DRAM/HBM controllers"),
    "FpgaResources.transceivers": Range(0, 4096, "", "multi-gigabit transceivers"),
    "PublishedFigures.power_w": Range(0, 1e6, "W", "a published power figure"),
    "PublishedFigures.energy_per_token_j": Range(0, 1e4, "J", "per decoded token"),
    "PublishedFigures.time_per_output_token_s": Range(0, 1e3, "s", "per decoded token"),
}

# Then the field's name, in any class.
_BY_NAME: dict[str, Range] = {
    "lanes": Range(1, 2**20, "", "accumulators per unit"),
    "neuron_updates_per_cycle": Range(1, 2**20, "", "neuron updates per cycle per unit"),
    "arrays_per_tile": Range(1, 65536, "", "arrays per tile"),
    "rows": Range(1, 65536, "", "rows of one array"),
    "cols": Range(1, 65536, "", "columns of one array"),
    "banks": Range(1, 2**20, "", "memory banks"),
    "columns_per_adc": Range(1, 65536, "", "columns multiplexed onto one converter"),
    "arrays_per_bank": Range(1, 65536, "", "arrays sharing one bank of converters"),
    "schreier_fom_db": Range(100, 200, "dB", "published ADCs lie between ~140 and ~190 dB"),
    "tech_node_nm": Range(1, 1000, "nm", "CMOS nodes from 1 um down to a few nm"),
    "macros": Range(1, 2**20, "", "memory macros per unit"),
    "word_bits": Range(1, 4096, "bits", "one memory word; wide macros read a few thousand bits"),
    "bits": Range(1, 64, "bits", "a word of real hardware"),
    "bits_per_cell": Range(1, 8, "", "multi-level cells store at most a few bits"),
    "endurance_cycles": Range(1, 1e18, "", "writes a cell survives"),
    "spike_message_bits": Range(1, 4096, "", "bits of one spike message"),
    "levels": Range(2, 65536, "", "integer spike levels L"),
    "heads": Range(1, 4096, "", "attention heads"),
    "key_dim": Range(1, 65536, "", "per-head key width"),
    "kv_heads": Range(1, 4096, "", "key/value heads of softmax attention"),
    "head_dim": Range(1, 65536, "", "per-head query, key and value width"),
    "macs_per_cycle": Range(1, 2**20, "", "multiply-accumulates per cycle per unit"),
    "exps_per_cycle": Range(1e-6, 2**20, "", "exponentials per cycle per unit (below 1: several "
                            "cycles each)"),
    "channels": Range(1, 2**20, "", "hidden channels of a gated recurrence"),
    "d_inner": Range(1, 2**20, "", "inner channels of a selective SSM"),
    "d_state": Range(1, 4096, "", "state size per inner channel of a selective SSM"),
    "d_conv": Range(1, 64, "", "conv1d width of a selective SSM (Mamba uses 4)"),
    "value_dim": Range(1, 65536, "", "per-head value width"),
    "norms": Range(0, 64, "", "normalisation layers per block"),
    "channels_per_controller": Range(1, 64, "", "DRAM channels behind one memory controller"),
    "vocab": Range(1, 2**24, "", "vocabularies of real LLMs are below 1M tokens"),
    "mean_active_count": Range(1, 65536, "", "a count is below the levels L <= 65536"),
    "neuron_spread": Range(0, 10, "", "sigma of a log-normal rate factor"),
    "context_tokens": Range(0, 2**24, "", "16M tokens of context"),
    # the run shape (neurosim run --batch / --prompt-tokens, a sweep's run.batch / ...)
    "batch": Range(1, 4096, "", "sequences decoded together"),
    "prompt_tokens": Range(0, 2**20, "", "1M prompt tokens per sequence"),
    "tokens_per_s": Range(0, 1e9, "tokens/s", "a published decode rate"),
    "junction_temp_c": Range(-55, 150, "C", "junctions of working silicon"),
    "peak_flops": Range(1e6, 1e18, "ops/s", "an exa-op/s GPU does not exist"),
    "kernels_per_layer": Range(0, 100000, "", "kernel launches"),
    "kernels_other": Range(0, 100000, "", "kernel launches"),
    # sweep specs: counts of points and seeds; swept values are checked by the point's config
    "seed": Range(0, 2**63 - 1, "", "a non-negative 64-bit seed"),
    "seeds": Range(0, 2**63 - 1, "", "non-negative 64-bit seeds"),
    "tokens": Range(1, 1_000_000, "", "tokens decoded per point"),
    "budget": Range(1, 1_000_000, "", "points of one study"),
    "num": Range(1, 1_000_000, "", "points of one range"),
    "pick": Range(0, 1_000_000, "", "an index into a list"),
    "start": ANY_FINITE,
    "stop": ANY_FINITE,
    "step": ANY_FINITE,
    "low": ANY_FINITE,
    "high": ANY_FINITE,
    "labels": ANY_FINITE,
    "update_probability": Range(0, 1, "", "a probability"),
    "weight_fraction": Range(0, 1, "", "a fraction"),
    "adapter_rank": Range(0, 65536, "", "rank of a low-rank adapter"),
    "every_tokens": Range(1, 1e12, "", "tokens between weight updates"),
    "updates_per_token": Range(0, 1e15, "", "weights rewritten per token"),
    "duty_cycle": Range(0, 1, "", "a fraction of time"),
    "wear_leveling": Range(1, 1e9, "", "a spreading factor"),
    "write_verify_iterations": Range(1, 1000, "", "program-and-verify pulses per write"),
}

# Last, the unit suffix of the name; longest suffixes are tried first.
_BY_SUFFIX: dict[str, Range] = {
    "_uw_per_mhz": Range(0, 1e4, "uW/MHz", "per FPGA resource; real ones spend below 100"),
    "_bytes_per_s": Range(1e6, 1e15, "B/s", "1 MB/s to 1 PB/s covers every memory and link"),
    "_j_per_bit_hop": Range(0, 1e-6, "J", "per bit and hop; real links spend pJ"),
    "_j_per_bit": Range(0, 1e-6, "J", "per bit; real memories spend pJ"),
    "_j_per_step": Range(0, 1e-6, "J", "per converter step; real ADCs spend fJ"),
    "_per_s": Range(0, 1e9, "/s", ""),
    "_cycles": Range(0, 1e6, "cycles", "a pipeline of a million stages is no real design"),
    "_bytes": Range(0, 2.0**50, "B", "1 PiB is beyond any single memory"),
    "_bits": Range(1, 64, "bits", "a word of real hardware"),
    "_node": Range(0, MAX_UNITS - 1, "", "a node of the largest routed topology"),
    "_nodes": Range(0, MAX_UNITS - 1, "", "a node of the largest routed topology"),
    "_hz": Range(1e3, 1e11, "Hz", "1 kHz to 100 GHz covers every digital clock"),
    "_m2": Range(0, 1.0, "m2", "one device; a 300 mm wafer is 0.07 m2"),
    "_w": Range(0, 1e6, "W", "1 MW is beyond a whole rack"),
    "_j": Range(0, 1e-3, "J", "one counted event; real circuits spend pJ"),
    "_s": _TIME,
    "efficiency": Range(0, 1, "", "a fraction"),
    "_fraction": Range(0, 1, "", "a fraction"),
}
_SUFFIXES = sorted(_BY_SUFFIX, key=len, reverse=True)


def range_for(class_name: str, field_name: str) -> Range | None:
    """The accepted range of ``class_name.field_name``, or None if no rule covers it."""
    found = _BY_CLASS_FIELD.get(f"{class_name}.{field_name}") or _BY_NAME.get(field_name)
    if found is not None:
        return found
    return next((_BY_SUFFIX[s] for s in _SUFFIXES if field_name.endswith(s)), None)


def has_number(annotation: Any) -> bool:
    """True if a field type can hold an int or a float (inside unions, lists, dicts)."""
    if annotation in (int, float):
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return False
    if origin is Annotated:
        return has_number(get_args(annotation)[0])
    if origin in (Union, types.UnionType, list, tuple, dict, set, frozenset):
        return any(has_number(arg) for arg in get_args(annotation))
    return False
