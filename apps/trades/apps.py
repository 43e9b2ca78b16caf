from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "apps.trades"
    label = "trades"
    verbose_name = "Trades"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_seeder
        from apps.trades.permissions import ROLE_PERMISSIONS
        from apps.trades.resolvers import register_resolvers
        from apps.trades.seed import seed_trades

        register_resolvers()
        register_seeder(80, "trades", seed_trades)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
