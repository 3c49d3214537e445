"""GPU baseline: an analytical roofline model of batch-1 autoregressive decode on a GPU.

One job: from a GPU description (:class:`GpuArchitecture`) and a workload, estimate the
latency, energy, HBM traffic and memory footprint of each decoded token of the *dense*
model a GPU runs, and return the :class:`~neurosim.results.record.Result` every run returns.
It is not a discrete-event simulation: there is nothing to contend for at batch 1.

Per token at context position ``p`` (tokens already in the cache):

* **Counts.** FLOPs = 2 x every linear weight (a GPU multiplies all weights; silent spikes
  skip nothing) + attention FLOPs (softmax: grows with ``p``; linear: a fixed gated state
  update per head). HBM bytes = weights at the precision + KV cache read and write
  (softmax, grows with ``p``) or recurrent state read and write (linear, fixed) +
  activations (rule: every linear reads its input vector and writes its output vector
  once, unfused, at the precision; plus one embedding row).
* **Time: two overlapped streams.** The host issues a step's kernels ahead of the GPU,
  which runs them from its queue, so a step takes the longer of the two streams plus the
  per-step synchronisation (the sampled token is copied back before the next step can be
  issued)::

      host = kernels x kernel_overhead_s      (execution: eager, one launch per framework op)
           = graph_launch_s                   (execution: graph, one replay of a captured graph)
      gpu  = max(FLOPs / (peak x efficiency), bytes / (bandwidth x hbm_efficiency))
             + kernels x kernel_gap_s        (device-side launch and ramp of each kernel)
      step = max(host, gpu) + sync_overhead_s

  The step is "host-bound" when the host stream is the longer one (the CPU-bound regime of
  small-batch eager decode), else compute- or HBM-bound. ``efficiency`` is
  ``compute_efficiency`` for one token vector per step; with V vectors (batch x prompt
  tokens) it grows to ``min(gemm_efficiency, V x compute_efficiency)``, as more vectors
  fill the tensor-core tiles (no ``gemm_efficiency``: fixed). If the dynamic power would exceed
  ``tdp_w - idle_power_w`` the step is stretched to that power (the GPU throttles).
* **Prices.** The run counts FLOPs and HBM bits read and written on a ledger (so
  ``neurosim reprice`` works on GPU results): FLOPs x ``energy_per_flop_j`` + HBM bits x
  ``hbm_energy_j_per_bit`` (dynamic) + ``idle_power_w`` x time (static). Kernel launches
  cost time (the per-token overhead), priced by the idle power.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from neurosim.config.base import StrictModel
from neurosim.config.workload import Workload
from neurosim.errors import ConfigError, SimulationError
from neurosim.ledger import Ledger
from neurosim.resources import Resource, ResourceKind
from neurosim.results.metrics import RunTotals
from neurosim.results.pricing import EnergyBreakdown, price_events
from neurosim.results.record import Result, build_result
from neurosim.units import (
    Bytes,
    NonNegativeJoules,
    NonNegativeJoulesPerBit,
    NonNegativeSeconds,
    NonNegativeWatts,
    PositiveBytes,
    PositiveBytesPerSecond,
    Watts,
    format_quantity,
    parse_quantity,
)
from neurosim.workload.mixers import mixer_state
from neurosim.workload.model import ModelGraph, build_model_graph
from neurosim.workload.spikes import SpikeSource, SyntheticSpikeSource

__all__ = [
    "BYTES_PER_ELEMENT",
    "GPU_KIND",
    "LINEAR_ATTENTION_FLOPS_PER_STATE_ELEMENT",
    "PRECISIONS",
    "DecodeShape",
    "GpuArchitecture",
    "GpuPublishedFigures",
    "Precision",
    "TokenCost",
    "decode_shape",
    "gpu_result_table",
    "host_time_per_step",
    "gpu_summary_lines",
    "is_gpu_config",
    "load_gpu_architecture",
    "memory_footprint",
    "price",
    "price_table",
    "simulate_gpu",
    "static_powers",
    "token_cost",
]

GPU_KIND = "gpu"
GPU_COMPONENT = "gpu"
"""Ledger component of the GPU's arithmetic (and of its idle power)."""
HBM_COMPONENT = "hbm"
"""Ledger component of the HBM devices (off chip)."""
BYTES_PER_ELEMENT: dict[str, int] = {"fp32": 4, "tf32": 4, "fp16": 2, "bf16": 2, "int8": 1}
"""The dtype table: storage bytes of one weight or activation at each precision (tf32 is
stored as fp32). Every size in bytes (HBM traffic, footprint, capacity) reads it."""
PRECISIONS: tuple[str, ...] = tuple(BYTES_PER_ELEMENT)
Precision = Literal[PRECISIONS]

LINEAR_ATTENTION_FLOPS_PER_STATE_ELEMENT = 5
"""Gated linear attention, per state element and token: decay multiply (1), k^T v
outer-product multiply-add (2), q S read-out multiply-add (2)."""

AttentionKind = Literal["linear", "softmax", "hgrn", "ssm", "hybrid"]

# --------------------------------------------------------------------------- config

_OPS_RE = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*"
    r"(?:(?P<prefix>[kMGTP]?)(?P<unit>FLOPS|FLOP/s|OPS|OP/s))?\s*$"
)
_OPS_PREFIX = {"": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15}


def _parse_ops_per_s(value: Any) -> float:
    """Operations per second: a number, or text such as "312 TFLOPS" or "624 TOPS"."""
    if isinstance(value, bool):
        raise ValueError(f'expected operations per second such as "312 TFLOPS"; got {value!r}')
    if isinstance(value, int | float):
        return float(value)
    match = _OPS_RE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(
            f'expected operations per second such as "312 TFLOPS", "624 TOPS" or a number '
            f"in ops/s; got {value!r}"
        )
    try:
        number = Decimal(match["num"]) * Decimal(10) ** _OPS_PREFIX[match["prefix"] or ""]
    except InvalidOperation:
        raise ValueError(f"not a number: {value!r}") from None
    return float(number)


def _parse_fraction(value: Any) -> float:
    return parse_quantity(value, "dimensionless")


OpsPerSecond = Annotated[float, BeforeValidator(_parse_ops_per_s), Field(gt=0)]
PositiveFraction = Annotated[float, BeforeValidator(_parse_fraction), Field(gt=0, le=1)]
NonNegativeBytes = Annotated[Bytes, Field(ge=0)]
PositiveWatts = Annotated[Watts, Field(gt=0)]


class GpuPublishedFigures(StrictModel):
    """Published (or derived) figures the estimate is compared with; never inputs."""

    tokens_per_s: float | None = Field(default=None, gt=0)
    dynamic_power_w: float | None = Field(default=None, gt=0)
    total_power_w: float | None = Field(default=None, gt=0, description="board power")
    energy_per_token_j: float | None = Field(default=None, gt=0)
    workload: str | None = None
    source: str = Field(min_length=1)


class GpuArchitecture(StrictModel):
    """A GPU for the analytical decode model; SI floats inside, units allowed in YAML."""

    kind: Literal["gpu"]
    name: str = Field(min_length=1)
    description: str = ""
    precision: Precision = Field(
        default="fp16", description="precision of weights, activations and arithmetic"
    )
    peak_flops: dict[Precision, OpsPerSecond] = Field(
        min_length=1, description="dense peak operations per second for each precision"
    )
    compute_efficiency: PositiveFraction = Field(
        description="achievable fraction of peak for batch-1 matrix-vector work"
    )
    gemm_efficiency: PositiveFraction | None = Field(
        default=None,
        description="achievable fraction of peak for matrix-matrix work: with V token vectors "
        "per step (batch x queries) the fraction is min(gemm_efficiency, V x "
        "compute_efficiency), as more vectors fill the tensor-core tiles; None: "
        "compute_efficiency at every V",
    )
    hbm_bandwidth_bytes_per_s: PositiveBytesPerSecond
    hbm_efficiency: PositiveFraction = Field(description="sustained / peak HBM bandwidth")
    memory_capacity_bytes: PositiveBytes
    hbm_energy_j_per_bit: NonNegativeJoulesPerBit = Field(description="read or write, per bit")
    energy_per_flop_j: dict[Precision, NonNegativeJoules] = Field(
        min_length=1, description="dynamic energy of one operation (a MAC is two)"
    )
    kernels_per_layer: int = Field(ge=0, description="kernel launches per block per token")
    kernels_other: int = Field(ge=0, description="launches per token outside the blocks")
    execution: Literal["eager", "graph"] = Field(
        default="eager",
        description="eager: the host launches every kernel (kernel_overhead_s each); graph: "
        "the step is a captured CUDA graph or a fused runtime, launched once (graph_launch_s)",
    )
    kernel_overhead_s: NonNegativeSeconds = Field(
        description="host time per kernel in eager execution (framework dispatch + launch); "
        "overlapped with the GPU's execution"
    )
    graph_launch_s: NonNegativeSeconds = Field(
        default=0.0, description="host time per step in graph execution (one graph replay)"
    )
    kernel_gap_s: NonNegativeSeconds = Field(
        default=0.0,
        description="GPU-side time per kernel beyond its work (device launch latency, ramp "
        "and tail), paid in both modes",
    )
    sync_overhead_s: NonNegativeSeconds = Field(
        default=0.0,
        description="per-step host-device synchronisation (token copy-back before the next "
        "step is issued), not overlapped",
    )
    framework_memory_bytes: NonNegativeBytes = Field(
        description="CUDA context, library workspaces and allocator slack"
    )
    idle_power_w: NonNegativeWatts = Field(
        description="board power while a process holds the GPU but no kernel runs"
    )
    tdp_w: PositiveWatts = Field(description="board power limit; caps idle + dynamic power")
    weight_storage: Literal["precision", "workload"] = Field(
        default="precision",
        description="precision: weights stored at `precision`; workload: as the workload "
        "stores them (packed, mixed per layer), unpacked in the kernels as low-bit runtimes do",
    )
    kv_cache_bits: int = Field(default=16, gt=0, le=32, description="bits per cached K/V value")
    recurrent_state_bits: int = Field(
        default=32, gt=0, le=64, description="bits per linear-attention state element on a GPU"
    )
    context_tokens: int | None = Field(
        default=None, ge=0, description="tokens cached before decoding; None: the workload's"
    )
    published: GpuPublishedFigures | None = None
    provenance: dict[str, str] = Field(
        min_length=1, description="dotted key path -> source, or 'assumption: reasoning'"
    )

    @model_validator(mode="after")
    def _consistent(self) -> GpuArchitecture:
        for table in ("peak_flops", "energy_per_flop_j"):
            if self.precision not in getattr(self, table):
                given = ", ".join(getattr(self, table))
                raise ValueError(
                    f"precision '{self.precision}' has no {table} entry (given: {given})"
                )
        if self.gemm_efficiency is not None and self.gemm_efficiency < self.compute_efficiency:
            raise ValueError(
                f"gemm_efficiency ({self.gemm_efficiency:g}) must be at least "
                f"compute_efficiency ({self.compute_efficiency:g}): more vectors per weight "
                "never use the tensor cores less"
            )
        if self.tdp_w <= self.idle_power_w:
            raise ValueError(
                f"tdp_w ({self.tdp_w:g} W) must exceed idle_power_w ({self.idle_power_w:g} W)"
            )
        return self

    @property
    def peak_ops_per_s(self) -> float:
        """Dense peak at the model's precision."""
        return self.peak_flops[self.precision]

    @property
    def flop_energy_j(self) -> float:
        """Energy of one operation at the model's precision."""
        return self.energy_per_flop_j[self.precision]

    @property
    def bytes_per_element(self) -> int:
        """Bytes of one weight or activation at the model's precision."""
        return BYTES_PER_ELEMENT[self.precision]

    def linear_weight_bytes(self, shape: DecodeShape) -> float:
        """Bytes of the linear layers' weights read per token."""
        if self.weight_storage == "workload":
            return float(shape.linear_weight_bytes)
        return float(shape.linear_weights * self.bytes_per_element)

    def stored_weight_bytes(self, shape: DecodeShape) -> float:
        """Bytes of every stored weight (embedding included) in device memory."""
        if self.weight_storage == "workload":
            return float(shape.stored_weight_bytes)
        return float(shape.stored_weights * self.bytes_per_element)

    @property
    def sustained_ops_per_s(self) -> float:
        """Peak times compute efficiency (one token vector per step)."""
        return self.peak_ops_per_s * self.compute_efficiency

    def sustained_ops_per_s_for(self, vectors: int) -> float:
        """Peak times the efficiency of a step multiplying `vectors` token vectors."""
        if self.gemm_efficiency is None:
            return self.sustained_ops_per_s
        fraction = min(self.gemm_efficiency, vectors * self.compute_efficiency)
        return self.peak_ops_per_s * fraction

    @property
    def sustained_bandwidth_bytes_per_s(self) -> float:
        """HBM peak times efficiency."""
        return self.hbm_bandwidth_bytes_per_s * self.hbm_efficiency

    @property
    def dynamic_power_limit_w(self) -> float:
        """The most dynamic power the board allows: TDP minus idle power."""
        return self.tdp_w - self.idle_power_w


def is_gpu_config(data: Mapping[str, Any]) -> bool:
    """True if a loaded (and ``extends``-merged) YAML mapping describes a GPU."""
    return isinstance(data, Mapping) and data.get("kind") == GPU_KIND


def load_gpu_architecture(
    path: str | Path, search_dirs: Sequence[str | Path] = ()
) -> GpuArchitecture:
    """Read, merge ``extends`` and validate a GPU YAML file (ConfigError on problems)."""
    from neurosim.config.loader import load_config

    return load_config(GpuArchitecture, path, search_dirs)


# --------------------------------------------------------------------------- counts


@dataclass(frozen=True, slots=True)
class DecodeShape:
    """What one decoded token touches, read from the workload (independent of the GPU)."""

    layers: int
    attention: AttentionKind
    linear_weights: int
    stored_weights: int
    activation_reads: int
    linear_weight_bytes: int
    stored_weight_bytes: int
    activation_writes: int
    widest_activation: int
    q_width: int = 0
    k_width: int = 0
    v_width: int = 0
    state_elements_per_layer: int = 0
    softmax_layers: int = -1  # layers with a KV cache; -1: all when attention is softmax
    state_elements: int = -1  # recurrent-state values of all layers; -1: layers x per layer
    state_flops: float = -1.0  # recurrent mixers' FLOPs per token; -1: linear attention's

    @property
    def kv_layers(self) -> int:
        """Layers that keep a KV cache."""
        if self.softmax_layers >= 0:
            return self.softmax_layers
        return self.layers if self.attention == "softmax" else 0

    @property
    def total_state_elements(self) -> int:
        """Recurrent-state values of all layers of one sequence."""
        if self.state_elements >= 0:
            return self.state_elements
        return 0 if self.attention == "softmax" else self.layers * self.state_elements_per_layer

    @property
    def kv_elements_per_token(self) -> int:
        """K and V values cached per context token, all layers (softmax only)."""
        return self.kv_layers * (self.k_width + self.v_width)

    def state_flops_per_token(self) -> float:
        """FLOPs of the recurrent mixers (state update and readout) for one token vector."""
        if self.state_flops >= 0:
            return self.state_flops
        return float(self.total_state_elements * LINEAR_ATTENTION_FLOPS_PER_STATE_ELEMENT)

    def attention_flops(self, attended: int) -> float:
        """Attention FLOPs of one token over all layers (`attended` keys for softmax).

        Softmax: q.k scores 2·n·q_width plus the weighted sum of values
        2·n·q_width·v_width/k_width (GQA-safe); exp/max/sum are omitted (~1 % at
        head_dim 128). Linear: LINEAR_ATTENTION_FLOPS_PER_STATE_ELEMENT per state element.
        """
        if self.kv_layers == 0:
            return self.state_flops_per_token()
        n = attended
        return self.kv_layers * (2.0 * n * self.q_width * (1.0 + self.v_width / self.k_width))


def _softmax_widths(workload: Workload) -> tuple[int, int, int]:
    outs = {lin.name: lin.out for lin in workload.blocks.linears}
    missing = [name for name in ("q_proj", "k_proj", "v_proj") if name not in outs]
    if missing:
        raise ConfigError.single(
            f"workload {workload.name}",
            "blocks.linears",
            "softmax attention on a GPU sizes its KV cache from linears named q_proj, "
            f"k_proj and v_proj; missing {', '.join(missing)} "
            f"(linears: {', '.join(outs)})",
        )
    return outs["q_proj"], outs["k_proj"], outs["v_proj"]


def decode_shape(
    workload: Workload, attention: str | None = None, graph: ModelGraph | None = None
) -> DecodeShape:
    """Sizes of one decode step; `attention` None runs the workload's mixers (linear iff
    it has one; a hybrid's pattern)."""
    if attention not in (None, "linear", "softmax", "hgrn", "ssm"):
        raise ValueError(
            f"unknown attention {attention!r}; known: linear, softmax, hgrn, ssm, None"
        )
    la = workload.blocks.linear_attention
    kind: AttentionKind = attention or workload.blocks.attention_kind or "softmax"
    if attention is None and workload.blocks.mixer_pattern:
        kind = "hybrid"
    if kind == "linear" and la is None:
        raise ConfigError.single(
            f"workload {workload.name}",
            "blocks.linear_attention",
            "attention='linear' needs a linear_attention section in the workload",
        )
    graph = graph if graph is not None else build_model_graph(workload)
    linears = [lin for g in graph.groups for lin in g.linears]
    widths = [w for lin in linears for w in (lin.in_features, lin.out_features)]
    shape = {
        "layers": workload.blocks.count,
        "attention": kind,
        "linear_weights": graph.linear_parameters,
        "stored_weights": graph.parameters,
        "linear_weight_bytes": sum(lin.weight_bytes for lin in linears),
        "stored_weight_bytes": graph.weight_bytes,
        "activation_reads": sum(lin.in_features for lin in linears) + workload.embedding.dim,
        "activation_writes": sum(lin.out_features for lin in linears),
        "widest_activation": max([*widths, workload.embedding.dim]),
    }
    if kind == "linear":
        shape["state_elements_per_layer"] = la.heads * la.key_dim * la.value_dim
    elif kind == "softmax":
        shape["q_width"], shape["k_width"], shape["v_width"] = _softmax_widths(workload)
    else:
        blocks = workload.blocks
        mixers = [kind] * blocks.count if kind != "hybrid" else list(map(
            blocks.mixer_of, range(blocks.count)))
        states = [mixer_state(blocks, m) for m in mixers]
        shape["softmax_layers"] = mixers.count("softmax")
        if shape["softmax_layers"]:
            shape["q_width"], shape["k_width"], shape["v_width"] = _softmax_widths(workload)
        shape["state_elements"] = sum(st.elements for st in states if st is not None)
        shape["state_flops"] = float(sum(
            st.elements * LINEAR_ATTENTION_FLOPS_PER_STATE_ELEMENT if st.kind == "linear"
            else st.ops_per_token
            for st in states if st is not None
        ))
        shape["state_elements_per_layer"] = max(
            (st.elements for st in states if st is not None), default=0
        )
    return DecodeShape(**shape)


# --------------------------------------------------------------------------- prices


@dataclass(frozen=True, slots=True)
class TokenCost:
    """Counts, times and energies of one decoded token on one GPU."""

    position: int
    attended_tokens: int
    linear_flops: float
    attention_flops: float
    weight_bytes: float
    attention_read_bytes: float
    attention_write_bytes: float
    activation_read_bytes: float
    activation_write_bytes: float
    kernels: int
    compute_s: float
    hbm_s: float
    overhead_s: float
    kernel_gap_s: float
    sync_s: float
    power_cap_s: float
    flop_energy_j: float
    hbm_read_energy_j: float
    hbm_write_energy_j: float
    static_energy_j: float
    bottleneck: str

    @property
    def flops(self) -> float:
        """All FLOPs of the token."""
        return self.linear_flops + self.attention_flops

    @property
    def read_bytes(self) -> float:
        """HBM bytes read."""
        return self.weight_bytes + self.attention_read_bytes + self.activation_read_bytes

    @property
    def write_bytes(self) -> float:
        """HBM bytes written."""
        return self.attention_write_bytes + self.activation_write_bytes

    @property
    def hbm_bytes(self) -> float:
        """HBM bytes moved (read + write)."""
        return self.read_bytes + self.write_bytes

    @property
    def gpu_s(self) -> float:
        """The GPU stream: roofline time plus the per-kernel device-side gaps."""
        return max(self.compute_s, self.hbm_s) + self.kernel_gap_s

    @property
    def time_s(self) -> float:
        """Step latency: the longer of the host and GPU streams, plus sync and throttling."""
        return max(self.overhead_s, self.gpu_s) + self.sync_s + self.power_cap_s

    @property
    def dynamic_energy_j(self) -> float:
        """Arithmetic plus HBM energy."""
        return self.flop_energy_j + self.hbm_read_energy_j + self.hbm_write_energy_j

    @property
    def energy_j(self) -> float:
        """Dynamic plus static energy."""
        return self.dynamic_energy_j + self.static_energy_j


def token_cost(
    arch: GpuArchitecture, shape: DecodeShape, position: int, batch: int = 1, queries: int = 1
) -> TokenCost:
    """Cost of one step with `position` tokens already in each sequence's cache, in which
    each of `batch` sequences adds `queries` tokens (1: a decode step; the prompt length:
    a prefill). Weights are read once per step; activations, attention and the KV cache or
    state are per sequence (the cache is read once per step, as a fused kernel does)."""
    if position < 0:
        raise ValueError(f"position must be >= 0; got {position}")
    if batch < 1 or queries < 1:
        raise ValueError(f"batch and queries must be >= 1; got {batch}, {queries}")
    elem = arch.bytes_per_element
    vectors = batch * queries
    attended, att_read, att_write = 0, 0.0, 0.0
    if shape.kv_layers:
        attended = batch * (queries * position + queries * (queries + 1) // 2)
        kv_bytes = shape.kv_elements_per_token * arch.kv_cache_bits / 8
        att_read = batch * (position + queries) * kv_bytes
        att_write = vectors * kv_bytes
    if shape.total_state_elements or not shape.kv_layers:
        state = shape.total_state_elements * arch.recurrent_state_bits / 8
        att_read, att_write = att_read + batch * state, att_write + batch * state
    linear_flops = 2.0 * shape.linear_weights * vectors
    attention_flops = shape.attention_flops(attended)
    if not shape.kv_layers:
        attention_flops *= vectors
    elif shape.total_state_elements:
        attention_flops += shape.state_flops_per_token() * vectors
    weight_bytes = arch.linear_weight_bytes(shape)
    act_read = float(shape.activation_reads * elem * vectors)
    act_write = float(shape.activation_writes * elem * vectors)
    read = weight_bytes + att_read + act_read
    write = att_write + act_write
    flops = linear_flops + attention_flops
    kernels = shape.layers * arch.kernels_per_layer + arch.kernels_other
    compute_s = flops / arch.sustained_ops_per_s_for(vectors)
    hbm_s = (read + write) / arch.sustained_bandwidth_bytes_per_s
    overhead_s = host_time_per_step(arch, kernels)
    gap_s = kernels * arch.kernel_gap_s
    prices = price_table(arch)
    e_flop = flops * prices[(GPU_COMPONENT, "flop")]
    e_read = read * 8 * prices[(HBM_COMPONENT, "read_bit")]
    e_write = write * 8 * prices[(HBM_COMPONENT, "write_bit")]
    gpu_s = max(compute_s, hbm_s) + gap_s
    base_s = max(overhead_s, gpu_s) + arch.sync_overhead_s
    dynamic_j = e_flop + e_read + e_write
    cap_s = 0.0
    if base_s <= 0 or dynamic_j / base_s > arch.dynamic_power_limit_w:
        cap_s = dynamic_j / arch.dynamic_power_limit_w - base_s
    if cap_s > 0:
        bottleneck = "power (TDP)"
    elif overhead_s > gpu_s:
        bottleneck = "per-token overhead"
    else:
        bottleneck = "compute" if compute_s >= hbm_s else "hbm"
    total_s = base_s + max(cap_s, 0.0)
    return TokenCost(
        position=position,
        attended_tokens=attended,
        linear_flops=linear_flops,
        attention_flops=attention_flops,
        weight_bytes=weight_bytes,
        attention_read_bytes=att_read,
        attention_write_bytes=att_write,
        activation_read_bytes=act_read,
        activation_write_bytes=act_write,
        kernels=kernels,
        compute_s=compute_s,
        hbm_s=hbm_s,
        overhead_s=overhead_s,
        kernel_gap_s=gap_s,
        sync_s=arch.sync_overhead_s,
        power_cap_s=max(cap_s, 0.0),
        flop_energy_j=e_flop,
        hbm_read_energy_j=e_read,
        hbm_write_energy_j=e_write,
        static_energy_j=arch.idle_power_w * total_s,
        bottleneck=bottleneck,
    )


def host_time_per_step(arch: GpuArchitecture, kernels: int) -> float:
    """Host time to issue one step: a launch per kernel (eager) or one graph replay."""
    if arch.execution == "graph":
        return arch.graph_launch_s
    return kernels * arch.kernel_overhead_s


def memory_footprint(
    arch: GpuArchitecture, shape: DecodeShape, context_tokens: int, batch: int = 1,
    vectors: int = 1,
) -> dict[str, float]:
    """Device memory with `context_tokens` cached for each of `batch` sequences: weights,
    KV cache or state, the rest.

    Activations: two live vectors of the widest layer (input and output) at the precision,
    for each of the `vectors` token vectors of the largest step.
    """
    elem = arch.bytes_per_element
    parts = {"weights": arch.stored_weight_bytes(shape)}
    if shape.kv_layers:
        parts["kv_cache"] = (
            batch * context_tokens * shape.kv_elements_per_token * arch.kv_cache_bits / 8
        )
    if shape.total_state_elements or not shape.kv_layers:
        parts["recurrent_state"] = (
            batch * shape.total_state_elements * arch.recurrent_state_bits / 8
        )
    parts["activations"] = float(2 * shape.widest_activation * elem * vectors)
    parts["framework"] = float(arch.framework_memory_bytes)
    parts["total"] = sum(parts.values())
    return parts


def _max_context(arch: GpuArchitecture, shape: DecodeShape) -> int | None:
    """Longest context whose KV cache still fits (softmax); None for linear attention."""
    if not shape.kv_layers:
        return None
    rest = memory_footprint(arch, shape, 0)["total"]
    per_token = shape.kv_elements_per_token * arch.kv_cache_bits / 8
    return max(0, math.floor((arch.memory_capacity_bytes - rest) / per_token))


# --------------------------------------------------------------------------- run


def simulate_gpu(
    arch: GpuArchitecture,
    workload: Workload,
    n_tokens: int = 8,
    seed: int = 0,
    source: SpikeSource | None = None,
    attention: str | None = None,
    *,
    context_tokens: int | None = None,
    progress: Callable[[int], Any] | None = None,
    batch: int = 1,
    prompt_tokens: int = 0,
) -> Result:
    """Decode `n_tokens` tokens of `workload`'s dense model on `arch`; return the Result.

    The spike source (default: the workload's seeded synthetic one) is consumed token by
    token for interface parity, but a GPU's work does not depend on spikes. `attention`
    None uses linear attention iff the workload has one; `context_tokens` None uses the
    architecture's, else the workload's.
    """
    if n_tokens < 1:
        raise SimulationError(f"n_tokens must be at least 1; got {n_tokens}")
    if seed < 0:
        raise SimulationError(f"seed must be a non-negative integer; got {seed}")
    wall0 = time.perf_counter()
    graph = build_model_graph(workload)
    shape = decode_shape(workload, attention, graph)
    if context_tokens is None:
        context_tokens = (
            arch.context_tokens if arch.context_tokens is not None else workload.context_tokens
        )
    if context_tokens < 0:
        raise SimulationError(f"context_tokens must be >= 0; got {context_tokens}")
    if batch < 1 or prompt_tokens < 0:
        raise SimulationError(
            f"batch must be >= 1 and prompt_tokens >= 0; got {batch}, {prompt_tokens}"
        )
    src = source if source is not None else SyntheticSpikeSource(graph, seed)
    prefill = (
        token_cost(arch, shape, context_tokens, batch, prompt_tokens) if prompt_tokens else None
    )
    first = context_tokens + prompt_tokens
    costs: list[TokenCost] = []
    for i, _spikes in enumerate(src.tokens(n_tokens)):
        costs.append(token_cost(arch, shape, first + i, batch))
        if progress:
            progress(1)
    if not costs:
        raise SimulationError("the spike source yielded no tokens")
    return _result(
        arch, workload, shape, costs, seed, n_tokens, context_tokens, attention, wall0,
        batch=batch, prefill=prefill, prompt_tokens=prompt_tokens,
    )


def price_table(arch: GpuArchitecture) -> dict[tuple[str, str], float]:
    """Joules per event of every (component, event) a GPU run counts."""
    return {
        (GPU_COMPONENT, "flop"): arch.flop_energy_j,
        (HBM_COMPONENT, "read_bit"): arch.hbm_energy_j_per_bit,
        (HBM_COMPONENT, "write_bit"): arch.hbm_energy_j_per_bit,
    }


def static_powers(arch: GpuArchitecture) -> dict[str, float]:
    """Static power (W) of each component: the board's idle power, all on the GPU."""
    return {GPU_COMPONENT: arch.idle_power_w}


def price(counts, arch: GpuArchitecture, elapsed_s: float) -> EnergyBreakdown:
    """Energy of GPU event `counts` under `arch`'s prices over `elapsed_s` (a missing price
    raises PricingError)."""
    return price_events(
        counts, price_table(arch), static_powers(arch), elapsed_s, section_of=_section
    )


def _section(component: str) -> str:
    sections = {GPU_COMPONENT: "energy_per_flop_j", HBM_COMPONENT: "hbm_energy_j_per_bit"}
    return sections.get(component, component)


def _ledger(costs: list[TokenCost]) -> Ledger:
    """The run's event counts: FLOPs and HBM bits read and written."""
    ledger = Ledger()
    for c in costs:
        ledger.add(GPU_COMPONENT, "flop", round(c.flops))
        ledger.add(HBM_COMPONENT, "read_bit", round(c.read_bytes * 8))
        ledger.add(HBM_COMPONENT, "write_bit", round(c.write_bytes * 8))
    return ledger


def _result(
    arch: GpuArchitecture,
    workload: Workload,
    shape: DecodeShape,
    costs: list[TokenCost],
    seed: int,
    n_tokens: int,
    context_tokens: int,
    attention_option: str | None,
    wall0: float,
    *,
    batch: int = 1,
    prefill: TokenCost | None = None,
    prompt_tokens: int = 0,
) -> Result:
    lat = [c.time_s for c in costs]
    steps = costs if prefill is None else [prefill, *costs]
    elapsed = sum(c.time_s for c in steps)
    n = len(costs) * batch  # decoded tokens: per-token figures divide by these

    def total(attr: str) -> float:
        return sum(getattr(c, attr) for c in steps)

    ledger = _ledger(steps)
    final_context = context_tokens + prompt_tokens + len(costs)
    footprint = memory_footprint(
        arch, shape, final_context, batch, batch * max(1, prompt_tokens)
    )
    totals = RunTotals(
        latencies_s=lat,
        elapsed_s=elapsed,
        energy=price(ledger.items(), arch, elapsed),
        parameters=shape.stored_weights,
        weight_bytes=arch.stored_weight_bytes(shape),
        memory_footprint_bytes=float(footprint["total"]),
        synops=ledger.get(GPU_COMPONENT, "flop") / 2,
        spikes=0.0,
        offchip_components=frozenset({HBM_COMPONENT}),
        batch=batch,
        prefill_s=prefill.time_s if prefill is not None else 0.0,
        prompt_tokens=prompt_tokens,
    )
    att = "kv_cache" if shape.kv_layers else "state"
    traffic = {
        "dram_read": total("read_bytes") / n,
        "dram_write": total("write_bytes") / n,
        "hbm.weights_read": total("weight_bytes") / n,
        f"hbm.{att}_read": total("attention_read_bytes") / n,
        f"hbm.{att}_write": total("attention_write_bytes") / n,
        "hbm.activations_read": total("activation_read_bytes") / n,
        "hbm.activations_write": total("activation_write_bytes") / n,
    }
    compute_s, hbm_s, overhead_s = total("compute_s"), total("hbm_s"), total("overhead_s")
    busy = {  # at peak rates, so utilization is the fraction of peak used
        Resource.compute(): total("flops") / arch.peak_ops_per_s,
        Resource(ResourceKind.HBM): total("hbm_bytes") / arch.hbm_bandwidth_bytes_per_s,
        Resource(ResourceKind.HOST_OVERHEAD): overhead_s,
    }
    binding: dict[str, float] = {}
    for c in steps:
        binding[c.bottleneck] = binding.get(c.bottleneck, 0.0) + c.time_s
    placement = {
        "kind": GPU_KIND,
        "attention": shape.attention,
        "attention_chosen_by": "override" if attention_option else "workload",
        "precision": arch.precision,
        "context_tokens": context_tokens,
        "final_context_tokens": final_context,
        "footprint_bytes": footprint,
        "memory_capacity_bytes": arch.memory_capacity_bytes,
        "fits_in_memory": footprint["total"] <= arch.memory_capacity_bytes,
        "memory_headroom_bytes": arch.memory_capacity_bytes - footprint["total"],
        "max_context_tokens": _max_context(arch, shape),
        "time_per_token_s": {
            "compute": compute_s / n,
            "hbm": hbm_s / n,
            "per_token_overhead": overhead_s / n,
            "kernel_gaps": total("kernel_gap_s") / n,
            "gpu_stream": total("gpu_s") / n,
            "sync": total("sync_s") / n,
            "power_cap_stretch": total("power_cap_s") / n,
            "total": elapsed / n,
        },
        "batch": batch,
        "prompt_tokens": prompt_tokens,
        "kernels_per_token": costs[0].kernels,
        "power_capped_tokens": sum(1 for c in costs if c.power_cap_s > 0),
        "synops_per_token_means": "dense MACs per token (2 FLOPs each); a GPU skips nothing",
        # keys the generic placement table reads: weights live in HBM, streamed every token
        "tiles": 0,
        "resident_tiles": 0,
        "resident_weight_bytes": 0.0,
        "streamed_weight_bytes": traffic["hbm.weights_read"],
        "recurrent_state_on_chip": False,
        "streamed_bytes_per_channel": {"hbm": traffic["hbm.weights_read"]},
    }
    options = {
        "fidelity": "analytic",
        "contention": False,
        "seed": seed,
        "tokens": n_tokens,
        "model": GPU_KIND,
        "attention": shape.attention,
        "context_tokens": context_tokens,
    }
    if batch != 1:
        options["batch"] = batch
    if prompt_tokens:
        options["prompt_tokens"] = prompt_tokens
    return build_result(
        arch=arch,
        workload=workload,
        options=options,
        totals=totals,
        traffic_bytes_per_token=traffic,
        busy_s=busy,
        ledger=ledger,
        placement=placement,
        wall_s=time.perf_counter() - wall0,
        bottleneck=max(binding, key=binding.get),
    )


# --------------------------------------------------------------------------- text


def gpu_summary_lines(arch: GpuArchitecture) -> list[str]:
    """A few lines describing a GPU, for `neurosim validate` (strings only)."""
    return [
        f"  gpu: {arch.precision} peak {arch.peak_ops_per_s / 1e12:g} TOPS x "
        f"{arch.compute_efficiency:g}; HBM {arch.hbm_bandwidth_bytes_per_s / 1e9:g} GB/s x "
        f"{arch.hbm_efficiency:g}, {format_quantity(arch.memory_capacity_bytes, 'bytes')}",
        f"  execution: {arch.execution}; ({arch.kernels_per_layer} x layers + "
        f"{arch.kernels_other}) kernels per step; host "
        + (
            f"{format_quantity(arch.graph_launch_s, 'time')} per graph launch"
            if arch.execution == "graph"
            else f"{format_quantity(arch.kernel_overhead_s, 'time')} per kernel"
        )
        + f", overlapped with the GPU; GPU {format_quantity(arch.kernel_gap_s, 'time')} "
        f"per kernel; sync {format_quantity(arch.sync_overhead_s, 'time')} per step",
        f"  power: idle {arch.idle_power_w:g} W, TDP {arch.tdp_w:g} W; "
        f"{format_quantity(arch.flop_energy_j, 'energy')}/op, "
        f"{format_quantity(arch.hbm_energy_j_per_bit, 'energy_per_bit')} HBM",
    ]


def gpu_result_table(r: Result) -> str:
    """Footprint and time split of a GPU Result (strings only; the published comparison is
    the generic one of `neurosim.results.report`)."""
    pl = r.placement
    fp = pl["footprint_bytes"]
    title = "GPU decode model"
    rows = [
        ("attention", f"{pl['attention']} (chosen by {pl['attention_chosen_by']})"),
        ("precision", pl["precision"]),
        ("context tokens (start / end)", f"{pl['context_tokens']} / {pl['final_context_tokens']}"),
    ]
    rows += [(f"memory: {k}", format_quantity(v, "bytes")) for k, v in fp.items()]
    fits = "fits" if pl["fits_in_memory"] else "DOES NOT FIT"
    rows.append(
        ("memory capacity", f"{format_quantity(pl['memory_capacity_bytes'], 'bytes')} ({fits})")
    )
    if pl["max_context_tokens"] is not None:
        rows.append(("longest context that fits", f"{pl['max_context_tokens']} tokens"))
    rows += [
        (f"time/token: {k}", format_quantity(v, "time")) for k, v in pl["time_per_token_s"].items()
    ]
    rows.append(("kernels per token", str(pl["kernels_per_token"])))
    if pl["power_capped_tokens"]:
        rows.append(("tokens slowed by the TDP cap", str(pl["power_capped_tokens"])))
    width = max(len(k) for k, _ in rows)
    lines = [title, "-" * len(title)] + [f"  {k.ljust(width)}  {v}" for k, v in rows]
    return "\n".join(lines)
