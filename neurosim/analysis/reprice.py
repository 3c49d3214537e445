"""Price a saved run's event counts with another architecture's energies, no re-simulation.

Works for every architecture kind (chips and the GPU model). Only energy parameters may
differ from the simulated architecture: the counts, the simulated time and the chip
count come from the saved run (so a GPU's TDP stretch is not re-evaluated).
"""

from __future__ import annotations

from neurosim.architecture import Architecture
from neurosim.errors import UsageError
from neurosim.results import pricing
from neurosim.results.pricing import EnergyBreakdown, price
from neurosim.simulate import gpu


def saved_counts(result: dict) -> list[tuple[tuple[str, str], int]]:
    """The event counts of a saved result (``"component/event": n``) as ledger items."""
    counts = []
    for key, n in result["event_counts"].items():
        component, sep, event = key.partition("/")
        if not (sep and component and event):
            raise UsageError(
                f"event count {key!r} is not 'component/event' (a result written before GPU "
                "runs kept a ledger?); run it again to reprice it"
            )
        counts.append(((component, event), n))
    return counts


def saved_elapsed_s(result: dict) -> float:
    """Simulated time of a saved run: tokens / throughput."""
    tokens_per_s = result["metrics"]["tokens_per_s"]
    return result["tokens"] / tokens_per_s if tokens_per_s else 0.0


def price_table_of(arch: Architecture | gpu.GpuArchitecture) -> dict[tuple[str, str], float]:
    """Joules per event of `arch`, whatever its kind."""
    if isinstance(arch, gpu.GpuArchitecture):
        return gpu.price_table(arch)
    return pricing.price_table(arch)


def reprice_result(result: dict, arch: Architecture | gpu.GpuArchitecture) -> EnergyBreakdown:
    """Energy of a saved run (`result.json` as a dict) under `arch`'s prices."""
    counts, elapsed_s = saved_counts(result), saved_elapsed_s(result)
    if isinstance(arch, gpu.GpuArchitecture):
        return gpu.price(counts, arch, elapsed_s)
    return price(counts, arch, elapsed_s, chips=result["placement"].get("chips", 1))
