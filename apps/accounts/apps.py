from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        import apps.accounts.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from apps.accounts.caller import connect_signals
        from apps.accounts.permissions import CELERY_BEAT_ROLE_PERMISSIONS, ROLE_PERMISSIONS
        from apps.accounts.roles import register_role_permissions, sync_roles_after_migrate
        from apps.accounts.seed import demo_logins, seed_users
        from apps.core.seeding import register_demo_logins, register_seeder
        from apps.organizations.permissions import ROLE_PERMISSIONS as ORGANIZATIONS_ROLE_PERMISSIONS
        from apps.webhooks.permissions import ROLE_PERMISSIONS as WEBHOOKS_ROLE_PERMISSIONS

        connect_signals()
        register_seeder(20, "accounts", seed_users)
        register_demo_logins(20, "accounts", demo_logins)

        # Permissions of models are created after migrate; attach them to the seeded roles then.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")

        # Role capabilities: apps above accounts register theirs in their own ready(); the ones
        # below it (organizations, the webhooks backbone) and a third-party app cannot, so
        # accounts registers what they declare.
        register_role_permissions(self.label, ROLE_PERMISSIONS)
        register_role_permissions("organizations", ORGANIZATIONS_ROLE_PERMISSIONS)
        register_role_permissions("webhooks", WEBHOOKS_ROLE_PERMISSIONS)
        register_role_permissions("django_celery_beat", CELERY_BEAT_ROLE_PERMISSIONS)
