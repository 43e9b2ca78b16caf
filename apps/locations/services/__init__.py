"""Location use cases, one module per aggregate (`services/locations.py`). Every write checks its
actor's rights (`permissions.py`; `actor=None` is the system) and emits its event in the same
transaction; row locks are in `locks.py`."""
