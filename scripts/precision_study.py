"""What packed and mixed precision, per-block levels, engine efficiency and host placement
change on the VCK190 design (nsllm-1.5b), one change at a time.

    python scripts/precision_study.py [--tokens 4] [--fidelity analytic]

The host row uses a HYPOTHETICAL host (no sourced VCK190 host figures are in the
repository): 2 cores x 1.7 GHz x 16 operations per cycle, 10 GB/s of memory bandwidth,
2 W active and 1 W idle, behind a 4 GB/s link with 5 us per hand-off.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent

HYPOTHETICAL_HOST = {
    "runs": ["lm_head", "sampling"],
    "cpu": {
        "cores": 2,
        "clock_hz": 1.7e9,
        "ops_per_cycle": 16,
        "memory_bandwidth_bytes_per_s": 10e9,
        "active_power_w": 2.0,
        "static_power_w": 1.0,
    },
    "link": {"bandwidth_bytes_per_s": 4e9, "sync_latency_s": 5e-6, "energy_j_per_bit": 10e-12},
}
EARLY_L32 = [{"blocks": "0-3", "sites": {"attn_in": {"levels": 32}, "mlp_in": {"levels": 32}}}]

WORKLOAD_CASES = [
    ("ternary packed 5 per byte (1.6 bits)",
     {"weights.bits": None, "weights.packing": {"weights": 5, "bytes": 1}}),
    ("ternary at 1.58 bits", {"weights.bits": 1.58}),
    ("LM head INT8", {"weights.overrides": [{"layers": ["lm_head"], "bits": 8}]}),
    ("blocks 0-3 at 4 bits", {"weights.overrides": [{"blocks": "0-3", "bits": 4}]}),
    ("blocks 0-3 attn_in, mlp_in at L = 32", {"blocks.overrides": EARLY_L32}),
]
ARCH_CASES = [
    ("pipeline fill per tile (16 cycles)", {"compute.pipeline_fill": "per_tile"}),
    ("lanes span one spike's columns", {"compute.lane_mapping": "columns"}),
    ("lane efficiency 0.5", {"compute.lane_efficiency": 0.5}),
    ("1 us fixed overhead per layer", {"compute.layer_overhead_s": 1e-6}),
    ("LM head + sampling on a hypothetical host", {"host": HYPOTHETICAL_HOST}),
]


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--fidelity", default="analytic", choices=("analytic", "des"))
    args = ap.parse_args()
    arch = load_architecture(ROOT / "architectures/vck190_nsllm.yaml")
    wl = load_workload(ROOT / "workloads/nsllm-1.5b.yaml")

    def row(label, a, w):
        r = simulate(a, w, n_tokens=args.tokens, fidelity=args.fidelity)
        m = r.metrics
        streamed = r.placement["streamed_weight_bytes"] / 1e6
        print(f"| {label} | {m['tokens_per_s']:.1f} | {1e3 * m['energy_per_token_j']:.1f} | "
              f"{streamed:.1f} | {r.bottleneck} |")

    print("| change | tokens/s | mJ/token | weights streamed MB/token | bottleneck |")
    print("|---|---|---|---|---|")
    row("default (2-bit weights)", arch, wl)
    for label, change in WORKLOAD_CASES:
        row(label, arch, with_overrides(wl, change))
    for label, change in ARCH_CASES:
        row(label, with_overrides(arch, change), wl)


if __name__ == "__main__":
    main()
