import importlib
import os

from django.apps import AppConfig

# Test and ops hook: comma-separated dotted modules imported when the app is ready, so a
# process (a Celery worker started by a test, a one-off ops worker) can register extra event
# handlers without code changes, e.g.
#   COTTON_EXTRA_HANDLER_MODULES=apps.events.tests.sigkill_handlers celery -A cotton_erp worker
# Leave it unset in normal deployments; handlers of the apps register in their own ready().
EXTRA_HANDLER_MODULES_ENV = "COTTON_EXTRA_HANDLER_MODULES"


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Events (outbox)"

    def ready(self) -> None:
        for module in os.environ.get(EXTRA_HANDLER_MODULES_ENV, "").split(","):
            if module.strip():
                importlib.import_module(module.strip())
