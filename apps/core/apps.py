from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.core.periodic import sync_periodic_tasks_after_migrate

        # Infrastructure, not business logic: keep beat's tables equal to the code's schedule.
        post_migrate.connect(sync_periodic_tasks_after_migrate, sender=self)
