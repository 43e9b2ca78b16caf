import gc

import pytest

from apps.core.collector import old_objects_frozen

seen: list[int] = []


def _failing_job() -> None:
    with old_objects_frozen():
        seen.append(gc.get_freeze_count())
        raise RuntimeError("the job failed")


def test_the_objects_existing_at_the_start_are_frozen_for_the_job_and_back_after_it_even_if_it_fails():
    assert gc.get_freeze_count() == 0

    with pytest.raises(RuntimeError):
        _failing_job()

    assert seen[0] > 0
    assert gc.get_freeze_count() == 0
