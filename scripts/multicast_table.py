"""Before/after table of tree multicast on the LLM path, for every preset that multicasts.

Each shipped architecture whose `interconnect.multicast` is `tree` runs each workload
twice: with `interconnect.multicast=none` (one message per destination, what every
preset did before the LLM path multicast) and as shipped. Link bits are all bits over
on-chip links (bit-hops) and over chip-to-chip links per token: spikes and streamed
weights together (weights are sent once per destination either way).

    python scripts/multicast_table.py [--tokens 2] [--fidelity analytic]
                                      [--workloads workloads/nsllm-1.5b.yaml ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from neurosim.config.overrides import with_overrides
from neurosim.simulate.run import simulate
from neurosim.simulate.systems import load_architecture, load_workload

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ["workloads/nsllm-1.5b.yaml", "workloads/smollm2-135m.yaml"]


def multicasting_presets() -> list[Path]:
    """Shipped chip presets whose interconnect multicasts (GPUs have no interconnect)."""
    found = []
    for path in sorted((ROOT / "architectures").glob("*.yaml")):
        text = path.read_text()
        if "interconnect:" in text and load_architecture(path).interconnect.multicast != "none":
            found.append(path)
    return found


def main() -> None:
    """Print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fidelity", default="analytic", choices=("analytic", "des"))
    ap.add_argument("--workloads", nargs="+", default=WORKLOADS)
    args = ap.parse_args()
    print("| preset | workload | multicast | chips | tokens/s | mJ/token | "
          "on-chip bit-hops/token | chip-link bits/token | bottleneck |")
    print("|---|---|---|---|---|---|---|---|---|")
    unchanged = []
    for path in multicasting_presets():
        arch = load_architecture(path)
        for wl_path in args.workloads:
            wl = load_workload(ROOT / wl_path)
            rows = []
            for setting in ("none", arch.interconnect.multicast):
                a = with_overrides(arch, {"interconnect.multicast": setting})
                r = simulate(a, wl, n_tokens=args.tokens, seed=args.seed, fidelity=args.fidelity)
                per = 1.0 / args.tokens
                cells = [
                    arch.name, wl.name, setting if setting != "none" else "none (before)",
                    f"{r.placement['chips']}", f"{r.metrics['tokens_per_s']:.4g}",
                    f"{1e3 * r.metrics['energy_per_token_j']:.4g}",
                    f"{r.event_counts.get('interconnect/bit_hop', 0) * per:.4g}",
                    f"{r.event_counts.get('chip_link/bit', 0) * per:.4g}", r.bottleneck,
                ]
                rows.append(cells)
                print("| " + " | ".join(cells) + " |")
            if rows[0][3:] == rows[1][3:]:
                unchanged.append(f"{arch.name} on {wl.name}")
    print()
    print(f"{args.fidelity}, {args.tokens} tokens, seed {args.seed}. Unchanged by multicast: "
          + (", ".join(unchanged) if unchanged else "none") + ".")


if __name__ == "__main__":
    main()
