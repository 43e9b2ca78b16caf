from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from apps.core.numbers import hold_drf_decimal_fields_to_plain_strings
        from apps.core.periodic import sync_periodic_tasks_after_migrate

        # Numbers arrive as JSON numbers or plain decimal strings, never "1_000" (issue 14).
        hold_drf_decimal_fields_to_plain_strings()

        # Infrastructure, not business logic: keep beat's tables equal to the code's schedule.
        post_migrate.connect(sync_periodic_tasks_after_migrate, sender=self)
