"""Weight updates while decoding (the workload's `learning` section), as write work.

One entry point per token, :meth:`WeightUpdates.after_token`: it turns the token's
synaptic events (rule `local`) or the update schedule (rule `finetune`) into weight
writes on the memory that holds each weight, and returns them as :class:`TokenWrites`:
the events to price, the time each compute unit and DRAM channel spends writing, and
what the writes do to the most-written cell. The writes run after the token's forward
pass, before the next token: in the DES they hold the units and channels; in the analytic
fidelity they add their longest time. Where weights live decides the write:

- arrays (crossbar, SRAM CIM): `compute.weight_write()`, one array row at a time per unit,
  each written cell `pulses` times (program and verify); a row write programs all its cells;
- spiking cores, near-memory engines: weights resident on chip are written into on-chip
  SRAM at the unit's share of its bandwidth; streamed weights are written back to their
  DRAM channel, one burst per updated weight (at most the tile).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from neurosim.components.compute import WeightWrite
from neurosim.components.dram import transfer_ps
from neurosim.config.workload import LearningConfig
from neurosim.errors import UsageError
from neurosim.mapping.placement import array_bits
from neurosim.results.metrics import LearningTotals
from neurosim.simulate.busy import BusyMeter, TokenBusy
from neurosim.simulate.work import TokenWork, WorkPlanner
from neurosim.workload.spikes import TokenSpikes


@dataclass
class TokenWrites:
    """The weight writes after one token."""

    updates: int  # weights rewritten
    counts: dict[tuple[str, str], int]  # every event, for the ledger
    unit_ps: np.ndarray  # (units,) time each unit spends writing
    unit_counts: list[dict[tuple[str, str], int]]  # events each unit charges (DES)
    channel_ps: np.ndarray  # (channels,) write-back time per DRAM channel
    channel_bits: np.ndarray  # (channels,) bits written per DRAM channel
    onchip_bits: int  # bits written into on-chip SRAM (streaming kinds)
    hottest_cell_writes: float  # writes the most-written weight saw in this token

    def busy(self, meter: BusyMeter) -> TokenBusy:
        """The units' and channels' write time, as busy time for the utilization."""
        dram = np.zeros(meter.n_channels)
        dram[: self.channel_ps.size] = self.channel_ps
        return TokenBusy(
            compute=self.unit_ps.astype(np.float64),
            dram=dram,
            links=np.zeros(meter.planner.routing.n_links),
            onchip=0,
            adc=np.zeros(meter.n_adc_banks),
        )

    @property
    def time_ps(self) -> int:
        """How long the writes last: units and channels write in parallel."""
        longest = [0, *self.unit_ps.tolist(), *self.channel_ps.tolist()]
        return int(max(longest))


class WeightUpdates:
    """The learning section of a run, planned once for a placement."""

    def __init__(self, cfg: LearningConfig, planner: WorkPlanner, n_tokens: int) -> None:
        if cfg.rule == "finetune" and n_tokens < cfg.every_tokens:
            raise UsageError(
                f"workload.learning.every_tokens: updates come every {cfg.every_tokens} "
                f"tokens but the run decodes {n_tokens}; decode at least "
                f"{cfg.every_tokens} tokens or lower every_tokens"
            )
        self.cfg = cfg
        self.planner = planner
        arch, p = planner.arch, planner.placement
        self.arch = arch
        self.units = p.units
        self.array_kind = planner.array_kind
        if self.array_kind:  # arrays store whole bits per weight (packed formats round up)
            self.bits = array_bits(planner.graph.weight_bits)
            self.tile_bits = np.full(p.n_tiles, float(self.bits))
        else:  # each tile at its linear's (possibly fractional, per-layer) bits
            self.tile_bits = planner.tile_weight_bits[:, 0]
        self.tile_weights = np.floor(p.tile_bytes * 8 / self.tile_bits).astype(np.int64)
        self.weights = int(self.tile_weights.sum())
        self.carry = np.zeros(p.n_tiles)  # fractional expected updates not yet written
        self.tile_core = p.tile_core
        self.write: WeightWrite | None = None
        if self.array_kind:
            self.write = arch.compute.weight_write()
            self.cells_per_weight = arch.compute.columns_per_weight(self.bits)
            arrays = np.bincount(p.array_slot // arch.compute.arrays_per_tile, minlength=p.units)
            self.unit_rows = arrays * arch.compute.rows
        self.adapter_weights = self._adapter_weights()
        self._last_probability = cfg.update_probability
        self.lanes = arch.compute.state_ops_per_cycle()
        self.totals = LearningTotals(
            weights=self.weights,
            pulses=self.write.pulses if self.write else 1,
            endurance_cycles=self.write.endurance_cycles if self.write else math.inf,
            duty_cycle=cfg.duty_cycle,
            wear_leveling=cfg.wear_leveling,
        )

    def _adapter_weights(self) -> int:
        """Weights of a rank-r adapter on every linear: r x (inputs + outputs) each."""
        r = self.cfg.adapter_rank
        if not r:
            return 0
        w = self.planner.graph.workload
        per_block = sum(w.blocks.sites[lin.site].width + lin.out for lin in w.blocks.linears)
        return r * (w.blocks.count * per_block + w.head.site.width + w.head.out)

    def _probability(self, events: np.ndarray) -> float:
        """A local rule's chance per synaptic event (from updates_per_token if given)."""
        cfg = self.cfg
        if not cfg.updates_per_token:
            return cfg.update_probability
        total = float(events.sum())
        return cfg.updates_per_token / total if total else 0.0

    def _tile_events(self, work: TokenWork) -> np.ndarray:
        """Synaptic events per tile (arrays count one op per cell of a weight)."""
        synops = np.add.reduceat(work.item_synops, work.item_offsets[:-1])
        return synops / self.cells_per_weight if self.array_kind else synops

    def _expected_updates(self, work: TokenWork, index: int) -> np.ndarray:
        """Per tile: weights the rule rewrites after token `index` (expected, fractional)."""
        cfg = self.cfg
        if cfg.rule == "local":
            events = self._tile_events(work)
            self._last_probability = self._probability(events)
            return self._last_probability * events
        if (index + 1) % cfg.every_tokens:
            return np.zeros_like(self.carry)
        share = self.tile_weights / max(1, self.weights)
        if cfg.updates_per_token:
            return cfg.updates_per_token * cfg.every_tokens * share
        if self.adapter_weights:
            return self.adapter_weights * share
        return cfg.weight_fraction * self.tile_weights

    def _hottest(self, token: TokenSpikes, index: int) -> float:
        """Writes of the most-written weight: under `local`, a weight whose input neuron
        fires most, once per spike at the rule's probability; under `finetune`, one per
        update (the same weights may be chosen every time)."""
        cfg = self.cfg
        if cfg.rule == "finetune":
            return 0.0 if (index + 1) % cfg.every_tokens else 1.0
        counts = np.concatenate(token.counts).astype(np.int64)
        if self.planner.scheme == "bitwise":  # one spike per set bit (numpy 1.x has no popcount)
            counts = sum((counts >> b) & 1 for b in range(17))
        return self._last_probability * float(counts.max(initial=0))

    def after_token(self, work: TokenWork, token: TokenSpikes, index: int) -> TokenWrites:
        """The writes that follow token `index` (0-based), its spikes and its work."""
        expected = self.carry + self._expected_updates(work, index)
        tile_updates = np.minimum(np.floor(expected), self.tile_weights).astype(np.int64)
        self.carry = expected - tile_updates
        per_unit = np.bincount(self.tile_core, weights=tile_updates, minlength=self.units)
        per_unit = per_unit.astype(np.int64)
        if self.array_kind:
            writes = self._array_writes(per_unit)
        else:
            writes = self._memory_writes(tile_updates, per_unit)
        writes.hottest_cell_writes = self._hottest(token, index)
        if self.cfg.where == "on_chip" and writes.updates:
            # the rule's arithmetic: one state update per rewritten weight, on its unit
            rule_ps = -(-per_unit // self.lanes) * self.planner.cycle_ps
            writes.unit_ps = writes.unit_ps + rule_ps
            key = ("compute", "state_update")
            writes.counts[key] = writes.counts.get(key, 0) + writes.updates
            for u, n in enumerate(per_unit.tolist()):
                if n:
                    writes.unit_counts[u][key] = writes.unit_counts[u].get(key, 0) + n
        return writes

    def _array_writes(self, per_unit: np.ndarray) -> TokenWrites:
        """Cells of the updated weights, written one array row at a time on each unit."""
        w = self.write
        rows = np.minimum(per_unit, self.unit_rows)  # one row per update, at most every row
        unit_ps = rows * w.row_ps * w.pulses
        cells = per_unit * self.cells_per_weight * w.pulses
        total = int(per_unit.sum())
        return TokenWrites(
            updates=total,
            counts={w.event: int(cells.sum())} if total else {},
            unit_ps=unit_ps.astype(np.int64),
            unit_counts=[{w.event: int(c)} if c else {} for c in cells.tolist()],
            channel_ps=np.zeros(0, dtype=np.int64),
            channel_bits=np.zeros(0, dtype=np.int64),
            onchip_bits=0,
            hottest_cell_writes=0.0,
        )

    def _memory_writes(self, tile_updates: np.ndarray, per_unit: np.ndarray) -> TokenWrites:
        """On-chip SRAM writes of resident weights, DRAM write-backs of streamed ones."""
        p, pl, arch = self.planner.placement, self.planner, self.arch
        resident = np.where(p.tile_resident, tile_updates, 0)
        resident_bits = resident * self.tile_bits
        unit_bits = np.bincount(self.tile_core, weights=resident_bits, minlength=self.units)
        unit_bytes = np.ceil(unit_bits / 8)
        unit_ps = np.ceil(unit_bytes * pl.core_mem_ps_per_byte).astype(np.int64)
        onchip_bits = int(np.ceil(resident_bits.sum()))
        channels = arch.dram_channels
        channel_bits = np.zeros(len(channels), dtype=np.int64)
        channel_ps = np.zeros(len(channels), dtype=np.int64)
        counts: dict[tuple[str, str], int] = {}
        for ci, ch in enumerate(channels):
            sel = ~p.tile_resident & (p.tile_channel == ci)
            nbytes = int(np.minimum(tile_updates[sel] * ch.burst_bytes, p.tile_bytes[sel]).sum())
            channel_bits[ci] = nbytes * 8
            channel_ps[ci] = int(transfer_ps(ch, nbytes))
            if nbytes:
                counts[(ch.component, "write_bit")] = nbytes * 8
        if onchip_bits:
            counts[("onchip_memory", "write_bit")] = onchip_bits
        return TokenWrites(
            updates=int(per_unit.sum()),
            counts=counts,
            unit_ps=unit_ps,
            unit_counts=[{} for _ in range(self.units)],
            channel_ps=channel_ps,
            channel_bits=channel_bits,
            onchip_bits=onchip_bits,
            hottest_cell_writes=0.0,
        )

    def record(self, writes: TokenWrites, time_ps: int) -> None:
        """Fold one token's writes into the run's totals."""
        t = self.totals
        t.updates += writes.updates
        t.write_time_s += time_ps * 1e-12
        t.hottest_cell_writes += writes.hottest_cell_writes
        t.write_energy_j += sum(t.prices.get(k, 0.0) * n for k, n in writes.counts.items())

    def des_writes(self, system, writes: TokenWrites):
        """SimPy process: the writes hold every unit and DRAM channel that does some."""
        env = system.ctx.env
        procs = [
            env.process(system.cores[u].compute(int(ps), writes.unit_counts[u]))
            for u, ps in enumerate(writes.unit_ps.tolist())
            if ps or writes.unit_counts[u]
        ]
        for ci, bits in enumerate(writes.channel_bits.tolist()):
            if bits:
                ch = system.channels[ci]
                procs.append(env.process(ch.transfer(int(writes.channel_ps[ci]), write_bits=bits)))
        if writes.onchip_bits:
            system.onchip.write(writes.onchip_bits)
        if procs:
            yield env.all_of(procs)
