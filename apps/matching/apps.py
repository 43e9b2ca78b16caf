from django.apps import AppConfig


class MatchingConfig(AppConfig):
    name = "apps.matching"
    label = "matching"
    verbose_name = "Matching"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_seeder
        from apps.matching.handlers import register_handlers
        from apps.matching.permissions import ROLE_PERMISSIONS
        from apps.matching.seed import seed_matching

        register_handlers()
        register_seeder(70, "matching", seed_matching)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
