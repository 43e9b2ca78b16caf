from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "apps.risk"
    label = "risk"
    verbose_name = "Risk"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_seeder
        from apps.risk.handlers import register_handlers
        from apps.risk.permissions import ROLE_PERMISSIONS
        from apps.risk.realtime import register_realtime
        from apps.risk.seed import seed_risk

        register_handlers()
        register_realtime()
        register_seeder(65, "risk", seed_risk)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
