import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kascade_game.settings")
application = get_wsgi_application()

# Import the URLconf and with it every view module now, at start-up (in gunicorn's
# master with preload_app), rather than in the first request a worker serves.
from django.urls import get_resolver  # noqa: E402

_ = get_resolver().url_patterns
