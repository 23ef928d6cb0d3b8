from django.conf import settings
from django.shortcuts import render
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
