"""Fitting device-model parameters to measured data (layer 2)."""
