"""The DES's schedule is pinned: per-token latencies and every event count of contended
presets, taken from the event structure before it was streamlined (a process per weight
delivery, a `simpy.Container` stream buffer, per-tile ledger entries). A change to the
DES's events that moves one picosecond anywhere, or reorders two requests for a link,
a DRAM channel, an ADC bank or the stream buffer, fails here."""

from __future__ import annotations

import pytest
from conftest import REPO

from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

# (preset, workload) -> (latency of tokens 0 and 1 in ps, event counts), seed 1
PINNED = {
    ("brainscales2", "smollm2-135m"): (
        [34409964500, 34408724500],
        {
            "compute/neuron_update": 4429440,
            "compute/state_update": 4423680,
            "compute/synop": 803237760,
            "dram.fpga_ddr/read_bit": 1111104512,
            "dram.fpga_ddr/write_bit": 35389440,
            "interconnect/bit_hop": 1630651104,
            "onchip_memory/read_bit": 3212951040,
            "onchip_memory/write_bit": 1075709952,
        },
    ),
    ("reram_cim", "smollm2-135m"): (
        [622950120, 621306700],
        {
            "adc/conversion": 69487488,
            "array/cell_read": 1606475520,
            "chip_link/bit": 580640,
            "compute/neuron_update": 4429440,
            "compute/state_update": 4423680,
            "dac/row_drive": 12550590,
            "interconnect/bit_hop": 22018912,
            "onchip_memory/read_bit": 35389440,
            "onchip_memory/write_bit": 35389440,
            "periphery/sample_hold": 69487488,
            "periphery/shift_add": 69487488,
        },
    ),
    ("loihi", "smollm2-135m"): (
        [56045342849, 56077636346],
        {
            "chip_link/bit": 1748676096,
            "compute/neuron_update": 4429440,
            "compute/state_update": 4423680,
            "compute/synop": 803237760,
            "interconnect/bit_hop": 7224392960,
            "onchip_memory/read_bit": 3248340480,
            "onchip_memory/write_bit": 35389440,
        },
    ),
    ("vck190_sparse_fetch", "smollm2-135m"): (
        [1052733720, 1052004700],
        {
            "compute/neuron_update": 4429440,
            "compute/state_update": 4423680,
            "compute/synop": 803237760,
            "dram.ddr4/read_bit": 262609920,
            "dram.lpddr4_0/read_bit": 274981376,
            "dram.lpddr4_1/read_bit": 274980864,
            "interconnect/bit_hop": 1000514976,
            "onchip_memory/read_bit": 3248340480,
            "onchip_memory/write_bit": 847956480,
        },
    ),
    ("vck190_nsllm", "nsllm-1.5b"): (
        [5356119737, 5355996416],
        {
            "compute/neuron_update": 7429120,
            "compute/state_update": 22020096,
            "compute/synop": 5118781852,
            "dram.ddr4/read_bit": 1990262784,
            "dram.lpddr4_0/read_bit": 2081340416,
            "dram.lpddr4_1/read_bit": 2081225728,
            "interconnect/bit_hop": 6497572288,
            "onchip_memory/read_bit": 10413724472,
            "onchip_memory/write_bit": 6328983552,
        },
    ),
}


@pytest.mark.parametrize("case", list(PINNED), ids=["-".join(c) for c in PINNED])
def test_des_schedule_is_unchanged(case):
    arch_name, workload_name = case
    arch = load_architecture(REPO / "architectures" / f"{arch_name}.yaml")
    workload = load_workload(REPO / "workloads" / f"{workload_name}.yaml")
    result = simulate(arch, workload, n_tokens=2, seed=1, fidelity="des")
    latencies, counts = PINNED[case]
    assert [round(s * 1e12) for s in result.latencies_s] == latencies
    assert result.event_counts == counts
