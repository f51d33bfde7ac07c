"""Settings of the Celery worker processes in the notification acceptance tests: the real
settings, with the Redis broker handing back a killed worker's unacknowledged messages after
5 seconds instead of the default hour (so a test can watch the redelivery happen)."""

from careconnect.settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 5}
