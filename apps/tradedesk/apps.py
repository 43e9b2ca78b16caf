from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "apps.tradedesk"
    label = "tradedesk"
    verbose_name = "Trade desk"

    def ready(self) -> None:
        from apps.core.seeding import register_seeder
        from apps.tradedesk.quality_statistics import register_handlers
        from apps.tradedesk.resolvers import register_resolvers
        from apps.tradedesk.seed import seed_tradedesk

        register_resolvers()
        register_handlers()
        register_seeder(60, "tradedesk", seed_tradedesk)
