import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")
application = get_wsgi_application()

from apps.core.runtime import freeze_startup_objects  # noqa: E402  (after setup)

freeze_startup_objects()
