"""Gated linear recurrence (GLR) with input-dependent forgetting: numpy inference model and hardware mapping."""

from workloads.glr.model import GLRConfig, GLRModel

__all__ = ["GLRConfig", "GLRModel"]
