from celery import shared_task

from apps.webhooks.services import deliveries


@shared_task(name="apps.webhooks.tasks.deliver_webhook", ignore_result=True)
def deliver_webhook(delivery_id: str) -> None:
    """One attempt of one delivery; a duplicate or early message finds nothing to claim."""
    deliveries.delivery_attempt(delivery_id=delivery_id)


@shared_task(name="apps.webhooks.tasks.deliver_due", ignore_result=True)
def deliver_due() -> int:
    """Beat's sweeper: queue due deliveries that no task is queued for."""
    return deliveries.deliveries_enqueue_due()
