import logging
import sys

from django import db
from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _
from django.views import i18n
from django.views.decorators.http import require_GET, require_POST

from .context_processors import NAVIGATION

# Where the chosen language is also kept in the session (Django's LocaleMiddleware reads
# the language cookie, which set_language sets; the session copy travels with a login).
LANGUAGE_SESSION_KEY = "language"

logger = logging.getLogger(__name__)


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
    if not unavailable:
        return _error_response("server", 500)
    response = _error_response("unavailable", 503, retry_after=RETRY_AFTER_SECONDS)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


# The error pages: the 500 and 503 above, and Django's own refusals (handler400,
# handler403, handler404, CSRF_FAILURE_VIEW, and the empty 405s that
# MethodNotAllowedPageMiddleware fills). The site's layout and navigation in the
# visitor's language, instead of Django's one English line; the exception's own text
# is for the log, not for the page. They are rendered without the request: no
# session, no database, which a refused request may not deserve and an outage may
# not allow. An htmx request is refused with the message alone, for the element it
# was going to fill.
ERROR_PAGES = {
    "server": (
        _("Something went wrong"),
        _(
            "The server could not answer this page. Your answers so far are kept. Go back "
            "and try again; if it happens again, tell the people running the game."
        ),
    ),
    "unavailable": (
        _("Back in a moment"),
        _(
            "The game's database is not answering right now, for example while it "
            "restarts. Nothing you had answered is lost. This page tries again by itself "
            "in a few seconds."
        ),
    ),
    400: (
        _("Bad request"),
        _("The server could not understand this request. Go back and try again."),
    ),
    403: (
        _("Not allowed"),
        _(
            "You may not open this page. If you run a class or the booth, log in with the "
            "account that was given access."
        ),
    ),
    404: (
        _("Page not found"),
        _(
            "There is no page at this address. The link may be mistyped, or the round, "
            "room or player it pointed to no longer exists."
        ),
    ),
    405: (
        _("Not a page to open"),
        _(
            "This address takes a form sent by a button, not a visit. Go back and use "
            "the button on the page."
        ),
    ),
    "csrf": (
        _("This form has expired"),
        _(
            "The page was open for a long time, or your browser refused its cookie, so "
            "nothing was sent. Reload the page and try again."
        ),
    ),
}


def _error_response(
    kind, status: int, *, htmx: bool = False, retry_after: int | None = None
) -> HttpResponse:
    title, message = ERROR_PAGES[kind]
    template = "kascade_game/_error_message.html" if htmx else "kascade_game/error_page.html"
    context = {
        "title": title,
        "message": message,
        "kind": kind,
        "navigation": NAVIGATION,
        "retry_after": retry_after,
    }
    try:
        body = render_to_string(template, context)
    except Exception:
        # An error page must not fail in turn (a static file missing from the
        # manifest, say): then one plain line, as Django's own page was.
        logger.exception("the %s page could not be rendered", kind)
        return HttpResponse(
            f"{title}. {message}", status=status, content_type="text/plain; charset=utf-8"
        )
    return HttpResponse(body, status=status)


def _error_page(request, kind, status: int) -> HttpResponse:
    return _error_response(kind, status, htmx=getattr(request, "htmx", False))


def bad_request(request, exception=None):
    return _error_page(request, 400, 400)


def permission_denied(request, exception=None):
    return _error_page(request, 403, 403)


def page_not_found(request, exception=None):
    return _error_page(request, 404, 404)


def method_not_allowed(request):
    return _error_page(request, 405, 405)


def csrf_failure(request, reason=""):
    return _error_page(request, "csrf", 403)
