from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"
    verbose_name = "Organizations"

    def ready(self) -> None:
        from apps.core.seeding import register_seeder
        from apps.organizations.seed import seed_organizations

        register_seeder(10, "organizations", seed_organizations)
