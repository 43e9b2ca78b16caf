from celery import shared_task

from apps.events.relay import relay_until_idle


@shared_task(name="apps.events.tasks.relay_outbox", ignore_result=True)
def relay_outbox() -> int:
    """Beat's sweeper and the on-commit hint both land here; concurrent runs are safe."""
    return relay_until_idle()
