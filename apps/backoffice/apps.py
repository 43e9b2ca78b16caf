from django.apps import AppConfig


class BackofficeConfig(AppConfig):
    """The back office's cross-app screens: the admin home's work queues and the live desk
    board. It sits above every domain app (it reads their selectors) and owns no models."""

    name = "apps.backoffice"
    label = "backoffice"
    verbose_name = "Back office"
