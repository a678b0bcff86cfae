"""Workloads (S4D/SSM models, spiking networks, data sets) run on simulated hardware (layer 5)."""
