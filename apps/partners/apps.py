from django.apps import AppConfig


class PartnersConfig(AppConfig):
    name = "apps.partners"
    label = "partners"
    verbose_name = "Partners and KYC"

    def ready(self) -> None:
        from apps.partners.resolvers import register_resolvers

        register_resolvers()
