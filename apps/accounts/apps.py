from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        import apps.accounts.schema  # noqa: F401  (registers the OpenAPI auth extension)
        from apps.accounts.caller import connect_signals
        from apps.accounts.roles import sync_roles_after_migrate
        from apps.accounts.seed import demo_logins, seed_users
        from apps.core.seeding import register_demo_logins, register_seeder

        connect_signals()
        register_seeder(20, "accounts", seed_users)
        register_demo_logins(20, "accounts", demo_logins)

        # Permissions of models are created after migrate; attach them to the seeded roles then.
        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
