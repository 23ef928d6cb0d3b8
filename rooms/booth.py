"""The festival booth: a kiosk that plays 5-card rounds with a nickname, returns to an
attract screen when idle, and a big-screen view for a second monitor.

The visitor's player lives in the session under its own key, so a refresh
mid-round comes back to the same card and the next visitor starts fresh.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_POST

from kascade_game.models import Round
from kascade_game.players import BOOTH_PLAYER_KEY
from kascade_game.services import GameError
from leaderboard.models import Player

from . import selectors, services
from .forms import BoothNicknameForm

# The on-screen keyboard's letters in the booth's language, laid out as that language's
# own keyboards are: a German visitor finds Ü, Ö, Ä and ß, a Russian one ЙЦУКЕН.
KEYBOARD_ROWS = {
    "en": ("QWERTYUIOP", "ASDFGHJKL", "ZXCVBNM"),
    "de": ("QWERTZUIOPÜ", "ASDFGHJKLÖÄ", "YXCVBNMß"),
    "ru": ("ЙЦУКЕНГШЩЗХ", "ФЫВАПРОЛДЖЭ", "ЯЧСМИТЬБЮ"),
}


def keyboard_rows() -> tuple[str, ...]:
    return KEYBOARD_ROWS.get((get_language() or "en")[:2], KEYBOARD_ROWS["en"])


def _visitor(request) -> Player | None:
    player_id = request.session.get(BOOTH_PLAYER_KEY)
    return Player.objects.filter(pk=player_id).first() if player_id else None


def _animation() -> dict:
    """The attract animation's geometry: a strip of stations and the particles of a
    cascade fanning out from the first interaction (the same every time)."""
    rng = random.Random(1996)
    particles = [
        {
            "dx": round(rng.gauss(0, 70)),
            "dy": round(rng.uniform(170, 215)),
            "delay": round(rng.uniform(0, 2.5), 2),
            "r": rng.choice((2, 2, 3)),
        }
        for _ in range(36)
    ]
    return {"grid": range(22, 380, 20), "grid_rows": (262, 276, 290), "particles": particles}


def _booth_context(**extra) -> dict:
    return {
        "section": "booth",
        "idle_seconds": settings.BOOTH_IDLE_SECONDS,
        **_animation(),
        **extra,
    }


@require_GET
def booth_home(request):
    visitor = _visitor(request)
    if visitor is not None:
        unfinished = (
            Round.objects.filter(player=visitor, kind=Round.Kind.BOOTH, finished__isnull=True)
            .order_by("-created")
            .first()
        )
        if unfinished is not None:
            return redirect("play-round", public_id=unfinished.public_id)
    return render(
        request,
        "rooms/booth_start.html",
        _booth_context(form=BoothNicknameForm(), keyboard=keyboard_rows(), visitor=visitor),
    )


@require_POST
def booth_start(request):
    form = BoothNicknameForm(request.POST)
    error = None
    if form.is_valid():
        try:
            game_round = services.new_booth_visitor(nickname=form.cleaned_data["nickname"])
        except GameError as failure:
            error = failure
        else:
            request.session[BOOTH_PLAYER_KEY] = game_round.player_id
            return redirect("play-round", public_id=game_round.public_id)
    if error is not None:
        form.add_error("nickname", str(error))
    return render(
        request,
        "rooms/booth_start.html",
        _booth_context(form=form, keyboard=keyboard_rows()),
        status=getattr(error, "status", 400),
    )


@require_POST
def booth_again(request):
    visitor = _visitor(request)
    if visitor is None:
        return redirect("booth")
    try:
        game_round = services.another_booth_round(player=visitor)
    except GameError as error:
        return render(
            request,
            "rooms/booth_error.html",
            _booth_context(message=str(error)),
            status=error.status,
        )
    return redirect("play-round", public_id=game_round.public_id)


@require_POST
def booth_reset(request):
    """The visitor is done (or walked away): forget them on this kiosk."""
    request.session.pop(BOOTH_PLAYER_KEY, None)
    return redirect("booth-attract")


@require_GET
def booth_attract(request):
    request.session.pop(BOOTH_PLAYER_KEY, None)
    return render(
        request, "rooms/booth_attract.html", _booth_context(top=selectors.booth_top_ten())
    )


@require_GET
def booth_screen(request):
    template = "rooms/_booth_top.html" if request.htmx else "rooms/booth_screen.html"
    return render(request, template, _booth_context(top=selectors.booth_top_ten(), big=True))
