import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from kascade_game.warm import warm_process

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kascade_game.settings")
application = get_wsgi_application()

# Django imports the URLconf (and with it the views: pandas, scikit-learn, Plotly)
# on the first request. Importing it here moves those seconds to the worker's
# boot, before it accepts connections, so no player waits for them (measured: a
# first GET /play/ of a fresh worker took 30-40 s on a busy 2-core machine).
get_resolver().url_patterns  # noqa: B018

# Then the templates, the translation catalogues and the game's tables, so that a
# worker forked from here (and one restarted after max_requests) starts warm.
warm_process()
