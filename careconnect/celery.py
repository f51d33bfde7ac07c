"""The Celery app. On the embedded default the broker is kombu's filesystem transport under
var/broker/ (no server); with REDIS_URL (or CELERY_BROKER_URL) it is that broker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "careconnect.settings")

app = Celery("careconnect")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
