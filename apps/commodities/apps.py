from django.apps import AppConfig


class CommoditiesConfig(AppConfig):
    name = "apps.commodities"
    label = "commodities"
