"""Fixtures of core's tests: the seeded world of the permanent sweeps (sweep_support.py)."""

from apps.core.tests.sweep_support import world

__all__ = ["world"]
