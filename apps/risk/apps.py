from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    label = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        from apps.risk.handlers import register_handlers
        from apps.risk.realtime import register_realtime

        register_handlers()
        register_realtime()
