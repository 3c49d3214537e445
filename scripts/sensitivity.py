"""One-at-a-time sensitivity of the VCK190 estimate to its unsourced parameters.

Each row changes one assumption (architecture or workload) and prints the analytic
tokens/s and dynamic power beside the default, so a reader sees which assumptions
the published-figure comparison depends on.

    python scripts/sensitivity.py [--tokens 4] [--fidelity analytic]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent

ARCH_CASES = [
    ("PL clock 200 MHz", {"compute.clock_hz": 200e6}),
    ("PL clock 400 MHz", {"compute.clock_hz": 400e6}),
    ("lanes 256 per unit", {"compute.lanes": 256}),
    ("synop 0.2 pJ", {"compute.energy.synop_j": 0.2e-12}),
    ("synop 1.8 pJ", {"compute.energy.synop_j": 1.8e-12}),
    ("LPDDR4 efficiency 0.6", {"dram.channels[1].efficiency": 0.6,
                               "dram.channels[2].efficiency": 0.6}),
    ("LPDDR4 efficiency 0.95", {"dram.channels[1].efficiency": 0.95,
                                "dram.channels[2].efficiency": 0.95}),
    ("DDR4 20 -> 10 pJ/bit", {"dram.channels[0].read_energy_j_per_bit": 10e-12}),
    ("LPDDR4 13.5 -> 7 pJ/bit", {"dram.channels[1].read_energy_j_per_bit": 7e-12,
                                 "dram.channels[2].read_energy_j_per_bit": 7e-12}),
    ("DDR4 only (no LPDDR4)", "ddr4_only"),
    ("stream buffer 1 MiB", {"mapping.stream_buffer_bytes": 2**20}),
    ("tile 64 KiB", {"mapping.tile_bytes": 2**16}),
    ("sparse weight fetch", {"mapping.sparse_weight_fetch": True}),
    ("NoC as 4x4 mesh", {"interconnect.topology": {"kind": "mesh", "width": 4, "height": 4}}),
]
WORKLOAD_CASES = [
    ("weights 1.6 bit (5 ternary per byte)", {"weights.bits": 1.6}),
    ("weights 4 bit", {"weights.bits": 4}),
    ("silent fraction 0.5 at every site", ("silent", 0.5)),
    ("silent fraction 0.85 at every site", ("silent", 0.85)),
    ("all sites L = 8 (T = 7)", "all_l8"),
]


def main() -> None:
    """Print the sensitivity table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--fidelity", default="analytic", choices=("analytic", "des"))
    args = ap.parse_args()
    arch = load_architecture(ROOT / "architectures/vck190_nsllm.yaml")
    wl = load_workload(ROOT / "workloads/nsllm-1.5b.yaml")

    def row(label, a, w):
        r = simulate(a, w, n_tokens=args.tokens, fidelity=args.fidelity)
        m = r.metrics
        print(f"| {label} | {m['tokens_per_s']:.1f} | {m['dynamic_power_w']:.2f} | "
              f"{1e3 * m['energy_per_token_j']:.1f} | {r.bottleneck} |")

    print("| change | tokens/s | dynamic W | mJ/token | bottleneck |")
    print("|---|---|---|---|---|")
    row("default", arch, wl)
    for label, case in ARCH_CASES:
        if case == "ddr4_only":
            a = arch.model_copy(update={"dram": arch.dram.model_copy(
                update={"channels": arch.dram.channels[:1]})})
            a = with_overrides(a, {})
        else:
            a = with_overrides(arch, case)
        row(label, a, wl)
    for label, case in WORKLOAD_CASES:
        if isinstance(case, tuple) and case[0] == "silent":
            stats = wl.spikes.synthetic
            sites = {
                name: stats.for_site(name).model_dump() | {"silent_fraction": case[1]}
                for name in [*wl.blocks.sites, "head"]
            }
            w = with_overrides(wl, {"spikes.synthetic.sites": sites})
        elif case == "all_l8":
            sites = {k: {"width": v.width, "levels": 8} for k, v in wl.blocks.sites.items()}
            w = with_overrides(wl, {"blocks.sites": sites, "head.site.levels": 8})
        else:
            w = with_overrides(wl, case)
        row(label, arch, w)


if __name__ == "__main__":
    main()
