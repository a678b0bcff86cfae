"""Event-driven (SimPy) models of mixed-signal neuromorphic chips (layer 4)."""
