from django.apps import AppConfig


class CommoditiesConfig(AppConfig):
    name = "apps.commodities"
    label = "commodities"
    verbose_name = "Commodities and terms"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.commodities.permissions import ROLE_PERMISSIONS
        from apps.commodities.seed import seed_commodities
        from apps.core.seeding import register_seeder

        register_seeder(40, "commodities", seed_commodities, master=True)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
