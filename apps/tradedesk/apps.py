from django.apps import AppConfig


class TradedeskConfig(AppConfig):
    name = "apps.tradedesk"
    label = "tradedesk"
    verbose_name = "Trade desk"
