"""Spiking LLM workloads: model structure, spike coding and spike sources."""
