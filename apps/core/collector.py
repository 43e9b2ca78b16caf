"""The cyclic garbage collector around bulk jobs (issue 12).

A job that allocates hundreds of thousands of container objects (the matching sweep: candidate
rows, proposals, events) triggers full collections, and each full collection walks every object
the process holds, most of them long-lived (the loaded apps, their modules, caches): two of them
were a fifth of a 100-requirement sweep's time. `old_objects_frozen()` moves the objects that
exist when the job starts into the permanent generation (`gc.freeze`), which collections skip,
and puts them back in the oldest generation when it ends (`gc.unfreeze`). The job's own objects
are collected as usual; nothing is lost, the frozen ones are only not re-scanned meanwhile. The
freeze is process-wide (another thread's old objects are skipped too, and a second job's end
unfreezes the first's early: both only change when collections look, never what they free).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def old_objects_frozen() -> Iterator[None]:
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
