"""The seeded world of the permanent sweeps, shared by both (support.py)."""

from apps.core.tests.sweeps.support import world

__all__ = ["world"]
