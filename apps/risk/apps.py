from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    label = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        from apps.core.seeding import register_seeder
        from apps.risk.handlers import register_handlers
        from apps.risk.realtime import register_realtime
        from apps.risk.seed import seed_risk

        register_handlers()
        register_realtime()
        register_seeder(65, "risk", seed_risk)
