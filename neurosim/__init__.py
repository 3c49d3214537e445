"""neurosim: a discrete-event simulator of neuromorphic and in-memory-compute systems."""

__version__ = "0.1.0"
