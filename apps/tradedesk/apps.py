from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "apps.tradedesk"
    label = "tradedesk"
    verbose_name = "Trade desk"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_seeder
        from apps.tradedesk.permissions import ROLE_PERMISSIONS
        from apps.tradedesk.quality_statistics import register_handlers
        from apps.tradedesk.resolvers import register_resolvers
        from apps.tradedesk.seed import seed_tradedesk

        register_resolvers()
        register_handlers()
        register_seeder(60, "tradedesk", seed_tradedesk)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
