"""Run a workload on an architecture: per-token work, the analytic model and the DES."""
