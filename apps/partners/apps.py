from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "apps.partners"
    label = "partners"
    verbose_name = "Partners and KYC"

    def ready(self) -> None:
        from apps.accounts.roles import register_role_permissions
        from apps.core.seeding import register_demo_logins, register_seeder
        from apps.partners.caller import connect_signals
        from apps.partners.permissions import ROLE_PERMISSIONS
        from apps.partners.resolvers import register_resolvers
        from apps.partners.seed import demo_logins, seed_partners

        connect_signals()
        register_resolvers()
        register_seeder(50, "partners", seed_partners)
        register_demo_logins(50, "partners", demo_logins)
        register_role_permissions(self.label, ROLE_PERMISSIONS)
