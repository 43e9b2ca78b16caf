from typing import Any

from django.core.management.base import BaseCommand

from apps.core.periodic import sync_periodic_tasks


class Command(BaseCommand):
    help = "Sync the periodic tasks declared in settings.PERIODIC_TASKS into Celery beat's tables."

    def handle(self, *args: Any, **options: Any) -> None:
        result = sync_periodic_tasks()
        self.stdout.write(
            f"periodic tasks: {result['created']} created, {result['updated']} updated, {result['disabled']} disabled"
        )
