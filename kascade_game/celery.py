"""The Celery app: Redis as broker and result backend when REDIS_URL is set,
in-process (eager) execution otherwise. Configuration comes from Django's
settings (the CELERY_* names) so the environment is read in one place."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kascade_game.settings")

app = Celery("kascade_game")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="kascade_game.ping")
def ping(value: str = "pong") -> str:
    """Round-trips through the broker and a worker; used by the health tests."""
    return value
