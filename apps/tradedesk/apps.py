from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "apps.tradedesk"
    label = "tradedesk"
    verbose_name = "Trade desk"

    def ready(self) -> None:
        from apps.tradedesk.resolvers import register_resolvers

        register_resolvers()
