from django.apps import AppConfig


class LocationsConfig(AppConfig):
    name = "apps.locations"
    label = "locations"
    verbose_name = "Locations"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_seeder
        from apps.locations.permissions import ROLE_PERMISSIONS
        from apps.locations.seed import seed_locations

        register_seeder(30, "locations", seed_locations, master=True)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
