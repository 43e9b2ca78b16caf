"""The Celery app. Beat uses django-celery-beat's DatabaseScheduler; its rows come from
settings.PERIODIC_TASKS through `manage.py sync_periodic_tasks` (run after every migrate)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cotton_erp.settings")

app = Celery("cotton_erp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
