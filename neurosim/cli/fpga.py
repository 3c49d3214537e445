"""`neurosim fpga`: an FPGA design's resources per component against its part, the fit
and timing-closure warnings, and (given a workload) its power by part of the chip."""

from __future__ import annotations

from neurosim.errors import UsageError

__all__ = ["add_fpga_command", "fpga_summary_lines", "run_fpga_command"]


def fpga_summary_lines(arch) -> list[str]:
    """`validate` lines of an FPGA design: its part, the utilisation of every resource it
    uses and the timing-closure warnings (a design that does not fit never loads)."""
    from neurosim.components.fpga import (
        RESOURCE_LABELS,
        fabric_usage,
        timing_warnings,
        usage_totals,
    )

    dev = arch.fpga.device
    have = dev.resources.model_dump()
    total = usage_totals(fabric_usage(arch))
    used = ", ".join(
        f"{RESOURCE_LABELS[r]} {total[r]:,.0f}/{have[r]:,} ({100 * total[r] / have[r]:.0f} %)"
        for r in RESOURCE_LABELS
        if total[r] and have[r]
    )
    lines = [f"  fpga: {dev.part}, fits: {used}"]
    lines += [f"  timing risk: {w}" for w in timing_warnings(arch)]
    return lines


def add_fpga_command(subparsers) -> None:
    """Add `fpga` to an `argparse` subparsers object."""
    from neurosim.cli.app import _add_set
    from neurosim.cli.paths import architecture_file, workload_file

    p = subparsers.add_parser(
        "fpga",
        help="resources of an FPGA design per component, device utilisation and fabric power",
        description="Print what each component of an FPGA design uses of its part (LUT, FF, "
        "DSP, BRAM, URAM, AI Engines, memory controllers, transceivers) and the utilisation; "
        "a design that does not fit is an error naming the resource. With a WORKLOAD, also "
        "run it (analytic) and print the power by part: fabric clock tree, logic, routing, "
        "BRAM/URAM and DSP, per-event energies, device static and DRAM.",
    )
    p.add_argument("architecture", type=architecture_file, help="architecture YAML or preset")
    p.add_argument(
        "workload", type=workload_file, nargs="?", default=None, help="workload YAML or preset"
    )
    p.add_argument("--tokens", type=int, default=2, help="tokens to decode (default 2)")
    p.add_argument("--seed", type=int, default=0, help="seed of the synthetic spikes (default 0)")
    _add_set(p, "architecture or workload")


def run_fpga_command(args) -> int:
    """Print the resource table and, with a workload, the power table."""
    from neurosim.analysis.fpga import power_table, resource_table, timing_warnings
    from neurosim.cli.app import load_architecture, load_workload

    if args.tokens < 1:
        raise UsageError(f"--tokens must be at least 1; got {args.tokens}")
    arch = load_architecture(args.architecture, args.overrides)
    if getattr(arch, "fpga", None) is None:
        raise UsageError(
            f"{args.architecture}: architecture '{arch.name}' has no `fpga` section; add "
            "`fpga: {device: NAME}` (vc1902, zu7ev, xcu280) to build it on an FPGA"
        )
    dev = arch.fpga.device
    print(
        f"{arch.name} on {dev.part}: static {dev.static_power_w:.3f} W at "
        f"{dev.junction_temp_c:g} C junction, fabric clock {arch.compute.clock_hz / 1e6:g} MHz"
    )
    print()
    print(resource_table(arch))
    for w in timing_warnings(arch):
        print(f"warning: {w}")
    if args.workload is None:
        return 0
    from neurosim.results.report import published_table
    from neurosim.simulate.run import simulate

    workload = load_workload(args.workload, args.overrides)
    result = simulate(
        arch,
        workload,
        n_tokens=args.tokens,
        seed=args.seed,
        fidelity="analytic",
        arch_source=str(args.architecture),
    )
    print()
    print(
        f"Power on {workload.name} ({result.tokens} tokens, analytic, "
        f"{result.metrics['tokens_per_s']:.1f} tokens/s)"
    )
    print()
    print(power_table(result))
    if result.published:
        print()
        print(published_table(result))
    return 0
