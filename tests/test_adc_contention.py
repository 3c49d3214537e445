"""ADCs in the DES: columns sharing a converter convert one after another, arrays sharing
a bank wait first come first served, and the bits move time, energy and area."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neurosim.architecture import Architecture
from neurosim.config.overrides import with_overrides
from neurosim.config.workload import Workload
from neurosim.simulate.build import build_system
from neurosim.simulate.des import DesTokenRunner
from neurosim.simulate.run import prepare, simulate
from neurosim.workload.spikes import TokenSpikes

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def crossbar(tiny_crossbar) -> Architecture:
    return tiny_crossbar


@pytest.fixture
def workload(tiny_workload) -> Workload:
    return tiny_workload


def _one_spike(graph) -> TokenSpikes:
    """Neuron 0 of the first site fires once: only row chunk 0 of group 0 reads."""
    counts = [np.zeros(g.width, dtype=np.uint16) for g in graph.groups]
    counts[0][0] = 1
    return TokenSpikes(position=0, token_id=None, counts=tuple(counts))


def _des_latency_ps(arch, workload, contention=True):
    """DES time of the one-spike token, the ledger's conversions, the preparation."""
    prep = prepare(arch, workload)
    system = build_system(arch, prep.planner, seed=0, contention=contention)
    runner = DesTokenRunner(system, prep.planner)
    work = prep.planner.plan(_one_spike(prep.graph))
    system.ctx.env.process(runner.token(work))
    system.ctx.env.run()
    return system.ctx.env.now, system.ctx.ledger.get("adc", "conversion"), prep


def _chunk0_arrays(p):
    """(tile, physical columns) of every array of row chunk 0 of group 0."""
    sel = (p.tile_group[p.array_tile] == 0) & (p.array_chunk == 0)
    return p.array_tile[sel], p.array_phys_cols[sel], p.array_slot[sel]


def test_columns_per_adc_lengthen_the_des_latency_by_hand(crossbar, workload):
    """count converters per array, k = 16 / count columns each, 1 ns per conversion: a
    full 16-column array converts in k rounds, so k = 8 takes 6 ns longer than k = 2
    (the group's slowest tile holds a full array of chunk 0)."""
    ends = {}
    for k in (2, 8):
        arch = with_overrides(crossbar, {"adc.columns_per_adc": k, "adc.count": 16 // k})
        ends[k], conversions, prep = _des_latency_ps(arch, workload)
        tiles, cols, _ = _chunk0_arrays(prep.placement)
        assert cols.max() == 16
        assert conversions == cols.sum()  # every column of every array that read
    assert ends[8] - ends[2] == (8 - 2) * 1_000


def test_arrays_sharing_a_bank_queue_in_the_des_only(crossbar, workload):
    """Two arrays per bank: arrays of chunk 0 in one bank convert one after another.
    Hand-built expectation from the placement: per tile, per bank, the sum of its
    arrays' ceil(columns / 2) ns; the slowest tile decides the group."""
    shared = with_overrides(crossbar, {"adc.arrays_per_bank": 2})
    alone, _, prep = _des_latency_ps(crossbar, workload)
    queued, _, _ = _des_latency_ps(shared, workload)
    free, _, _ = _des_latency_ps(shared, workload, contention=False)
    tiles, cols, slots = _chunk0_arrays(prep.placement)
    per_bank: dict[tuple[int, int], int] = {}
    slowest_alone = 0
    for tile, c, slot in zip(tiles.tolist(), cols.tolist(), slots.tolist(), strict=True):
        conv = -(-c // 2) * 1_000  # 2 converters per bank, 1 ns per conversion
        per_bank[(tile, slot // 2)] = per_bank.get((tile, slot // 2), 0) + conv
        slowest_alone = max(slowest_alone, conv)
    assert max(per_bank.values()) > slowest_alone  # the test needs some sharing
    assert queued - alone == max(per_bank.values()) - slowest_alone
    assert free == alone  # without contention nobody queues


def test_sharing_halves_adc_count_and_area(crossbar, workload):
    shared = with_overrides(crossbar, {"adc.arrays_per_bank": 2})
    a = simulate(crossbar, workload, n_tokens=1, fidelity="analytic")
    b = simulate(shared, workload, n_tokens=1, fidelity="analytic")
    assert b.placement["area_m2"]["adc"] == pytest.approx(a.placement["area_m2"]["adc"] / 2)


def test_adc_bits_move_latency_energy_and_area(crossbar, workload):
    """SAR model, 0.25 ns per bit: 4 bits convert in 1 ns, 6 bits in 1.5 ns; a full
    array's 8 conversions per converter take 4 ns longer at 6 bits. Energy and area
    (survey fits) grow with the bits."""
    rows = {}
    for bits in (4, 6):
        arch = with_overrides(
            crossbar,
            {
                "adc": {
                    "bits": bits,
                    "sar_cycle_s": "0.25 ns",
                    "tech_node_nm": 32,
                    "columns_per_adc": 8,
                    "count": 2,
                    "static_power_w": "1 mW",
                }
            },
        )
        end, conversions, _ = _des_latency_ps(arch, workload)
        r = simulate(arch, workload, n_tokens=1, fidelity="analytic")
        rows[bits] = (end, arch.adc.conversion_energy_j, r.placement["area_m2"]["adc"])
    assert rows[6][0] - rows[4][0] == 8 * 500
    assert rows[6][1] > rows[4][1] and rows[6][2] > rows[4][2]


def test_every_des_conversion_goes_through_the_adc_banks(crossbar, workload):
    """The banks, not the tiles, count conversions, and they are busy exactly the
    conversion time of the arrays that read (no sharing: one bank per array)."""
    prep = prepare(crossbar, workload)
    system = build_system(crossbar, prep.planner, seed=0, contention=True)
    runner = DesTokenRunner(system, prep.planner)
    work = prep.planner.plan(_one_spike(prep.graph))
    system.ctx.env.process(runner.token(work))
    system.ctx.env.run()
    _, cols, _ = _chunk0_arrays(prep.placement)
    assert system.ctx.ledger.get("adc", "conversion") == cols.sum()
    assert int(system.adc.busy_ps.sum()) == sum(-(-int(c) // 2) * 1_000 for c in cols)


def test_bank_serial_bound_matches_the_des(crossbar, workload):
    """Per item, read + the busiest bank's summed conversions: equal to the no-queue
    time with one bank per array, and what the DES adds up with shared banks."""
    token_alone = _one_spike(prepare(crossbar, workload).graph)
    work = prepare(crossbar, workload).planner.plan(token_alone)
    assert work.adc.bank_serial_ps().tolist() == work.item_ps.tolist()
    shared = with_overrides(crossbar, {"adc.arrays_per_bank": 2})
    work2 = prepare(shared, workload).planner.plan(token_alone)
    bound = work2.adc.bank_serial_ps()
    assert (bound >= work2.item_ps).all() and (bound > work2.item_ps).any()
    queued, _, _ = _des_latency_ps(shared, workload)
    alone, _, _ = _des_latency_ps(crossbar, workload)
    assert queued - alone == int((bound - work2.item_ps).max())
