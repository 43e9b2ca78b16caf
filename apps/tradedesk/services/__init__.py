"""Use cases of the trade desk, one module per aggregate (availabilities, reservations, requirements)."""
