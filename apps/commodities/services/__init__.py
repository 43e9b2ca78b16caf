"""Use cases of the global masters, one module per aggregate. Every write checks the actor's
capability first (the model permission, `permissions.py`; `actor=None` is the system), runs in
its own transaction, validates with `full_clean()` (field errors as a 400 DomainError, duplicates
as 409) and emits its event in the same transaction. Updates lock the row they change
(`locks.py`); an update that changes nothing writes and emits nothing."""
