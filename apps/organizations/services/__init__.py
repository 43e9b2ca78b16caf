"""Organization use cases, one module per aggregate. Every write checks its actor's rights
(`permissions.py`; `actor=None` is the system), locks in the order of `locks.py` and emits its
event in the same transaction."""
