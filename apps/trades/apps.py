from django.apps import AppConfig


class TradesConfig(AppConfig):
    name = "apps.trades"
    label = "trades"
    verbose_name = "Trades"

    def ready(self) -> None:
        from apps.trades.resolvers import register_resolvers

        register_resolvers()
