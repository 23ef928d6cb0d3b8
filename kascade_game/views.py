import sys

from django import db
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

# Where the chosen language is also kept in the session (Django's LocaleMiddleware reads
# the language cookie, which set_language sets; the session copy travels with a login).
LANGUAGE_SESSION_KEY = "language"


@require_GET
def intro(request):
    return render(request, "kascade_game/intro.html", {"section": "intro"})


@require_GET
def field_guide(request):
    return render(request, "kascade_game/field_guide.html", {"section": "play"})


@require_POST
def set_language(request):
    """Django's set_language (cookie and redirect), and the choice kept in the session."""
    response = i18n.set_language(request)
    language = request.POST.get("language")
    if language in dict(settings.LANGUAGES):
        request.session[LANGUAGE_SESSION_KEY] = language
    return response


# Seconds a client should wait before it asks again while the database is away.
RETRY_AFTER_SECONDS = 5
# SQLite reports a missing table or column (a database that was never migrated)
# as an OperationalError too. That is no outage, and waiting will not mend it.
SCHEMA_ERRORS = ("no such table", "no such column")


def server_error(request):
    """handler500: a plain page that needs nothing that may be down (no database, no session).

    While the database does not answer (a restart, a failover: the connection
    fails with OperationalError or InterfaceError) the answer is a 503 with
    Retry-After, which says the outage is temporary to browsers, proxies and
    monitors; the page reloads itself. Anything else is a 500, a missing table
    included (an unmigrated database: `manage.py migrate`). Either way
    Django logs the exception with its traceback (logger django.request).
    """
    error = sys.exc_info()[1]
    unavailable = isinstance(error, (db.OperationalError, db.InterfaceError)) and not str(
        error
    ).startswith(SCHEMA_ERRORS)
    body = render_to_string(
        "kascade_game/server_error.html",
        {"unavailable": unavailable, "retry_after": RETRY_AFTER_SECONDS},
    )
    response = HttpResponse(body, status=503 if unavailable else 500)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
