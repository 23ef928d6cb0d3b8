"""The quiz views: thin callers of services and selectors.

Before a guess is recorded no response carries the truth or any forest's
answer: the card templates get only the shower's observables.
"""

from __future__ import annotations

from functools import cache

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import MASS_GROUPS
from leaderboard.forms import NicknameForm
from leaderboard.nicknames import nickname_key

from . import guess_statements, reveal, services
from .explain import GROUP_NAMES, describe, muon_hint, physics_sentence
from .footprint import shower_footprint_svg
from .models import Difficulty, Guess, Round, RoundCard
from .players import current_player, new_guest, owned_player_ids

GUESS_BUTTONS = [(index + 1, group, GROUP_NAMES[group]) for index, group in enumerate(MASS_GROUPS)]


@cache
def _guess_buttons(language: str) -> str:
    """The five guess buttons of a card in the active `language`, formatted once per process.

    They are the same on every card. Rendered by the template's loop (fifteen
    localized numbers, five translations) they were about 1 ms of a card's 9 ms
    of CPU (docs/benchmarks.md, stop 24)."""
    return format_html_join(
        "\n",
        '<button type="submit" name="choice" value="{1}" data-guess="{1}" data-key="{0}"'
        ' class="guess-button group-{1}" aria-keyshortcuts="{0}"><span class="guess-symbol">'
        '{1}</span><span class="guess-name">{2}</span><kbd>{0}</kbd></button>',
        ((key, group, _breakable(str(label))) for key, group, label in GUESS_BUTTONS),
    )


def _breakable(label: str) -> SafeString:
    """`label` escaped, with a line-break opportunity after each slash.

    "carbon/oxygen" and "Kohlenstoff/Sauerstoff" are single words to the browser:
    on a 320-px phone the C button's name ran over its neighbour and scrolled the
    page sideways. `<wbr>` lets it wrap after the slash, and after nothing else."""
    return mark_safe("/<wbr>".join(escape(part) for part in label.split("/")))


def _error(request, error: services.GameError) -> HttpResponse:
    if request.htmx and isinstance(error, services.RoomNotRunning):
        # The card stays on screen; the message appears above its buttons.
        response = render(
            request,
            "kascade_game/play/_guess_feedback.html",
            {"message": str(error), "room_status": error.room_status},
            status=error.status,
        )
        return retarget(reswap(response, "innerHTML"), "#guess-feedback")
    template = "kascade_game/play/_error.html" if request.htmx else "kascade_game/play/error.html"
    return render(
        request, template, {"message": str(error), "section": "play"}, status=error.status
    )


@require_GET
def play_start(request):
    return render(
        request, "kascade_game/play/start.html", _start_context(request, current_player(request))
    )


def _start_context(request, player, **extra) -> dict:
    unfinished = None
    if player is not None:
        unfinished = (
            Round.objects.filter(player=player, finished__isnull=True, kind=Round.Kind.SOLO)
            .order_by("-created")
            .first()
        )
    return {
        "section": "play",
        "player": player,
        "unfinished": unfinished,
        "difficulties": Difficulty.choices,
        "suggested": services.difficulty_for(player) if player else Difficulty.EASY,
        "first_visit": player is None or not player.tutorial_seen,
        "nickname_form": extra.pop("nickname_form", None)
        or (
            NicknameForm(initial={"nickname": player.nickname if player else ""})
            if not request.user.is_authenticated
            else None
        ),
        **extra,
    }


@require_POST
def play_new(request):
    difficulty = request.POST.get("difficulty") or None
    if difficulty is not None and difficulty not in Difficulty.values:
        return _error(request, services.InvalidGuess(_("Difficulty must be easy, medium or hard.")))
    player = current_player(request)
    nickname = ""
    if not request.user.is_authenticated and "nickname" in request.POST:
        form = NicknameForm(request.POST, player=player)
        if not form.is_valid():
            return render(
                request,
                "kascade_game/play/start.html",
                _start_context(request, player, nickname_form=form),
                status=400,
            )
        nickname = form.cleaned_data["nickname"]
        if player is not None and nickname and player.nickname != nickname:
            player.nickname = nickname
            player.nickname_key = nickname_key(nickname)
            player.save(update_fields=["nickname", "nickname_key"])
    new_player = player is None
    if new_player:
        # A new guest has just seen the tutorial on the start page.
        player = (
            current_player(request, create=True)
            if request.user.is_authenticated
            else new_guest(request, nickname=nickname, tutorial_seen=True)
        )
    try:
        game_round = services.start_round(
            player=player, difficulty=difficulty, new_player=new_player
        )
    except services.GameError as error:
        return _error(request, error)
    if not player.tutorial_seen:
        player.tutorial_seen = True
        player.save(update_fields=["tutorial_seen"])
    # Straight to the first card: the round's own URL would only redirect there.
    return redirect("play-card", public_id=game_round.public_id, position=0)


BASE_TEMPLATES = {
    Round.Kind.SOLO: "base.html",
    Round.Kind.ROOM: "base.html",
    Round.Kind.BOOTH: "rooms/booth_base.html",
}


def _round_for(request, public_id: str) -> Round:
    owners = owned_player_ids(request)
    game_round = (
        Round.objects.select_related("room")
        .filter(public_id=public_id, player_id__in=owners)
        .first()
        if owners
        else None
    )
    if game_round is None:
        raise services.NotYourRound(_("There is no such round for you."))
    return game_round


def _kind_context(game_round: Round) -> dict:
    """What differs between a solo, a room and a booth round: the frame and the way out."""
    room = game_round.room
    return {
        "base_template": BASE_TEMPLATES.get(game_round.kind, "base.html"),
        "section": {"room": "rooms", "booth": "booth"}.get(game_round.kind, "play"),
        "room": room,
        "booth": game_round.kind == Round.Kind.BOOTH,
        "idle_seconds": settings.BOOTH_IDLE_SECONDS,
    }


def _start_clock(game_round: Round, card: RoundCard) -> None:
    """A timed room's card: its clock starts the first time the card is shown."""
    room = game_round.room
    if room is None or not room.seconds_per_card or card.shown_at is not None:
        return
    now = timezone.now()
    if RoundCard.objects.filter(pk=card.pk, shown_at__isnull=True).update(shown_at=now):
        card.shown_at = now
    else:
        card.refresh_from_db(fields=["shown_at"])


def _card_context(game_round: Round, card: RoundCard, *, answered: bool = False) -> dict:
    """The card page's context; `answered`: the card has its guess (no timer then)."""
    shower = card.shower
    show_hints = game_round.difficulty != Difficulty.HARD
    room = game_round.room
    remaining = None
    if room is not None and room.seconds_per_card and card.shown_at is not None:
        elapsed = (timezone.now() - card.shown_at).total_seconds()
        remaining = max(0, round(room.seconds_per_card - elapsed))
    return {
        **_kind_context(game_round),
        "round": game_round,
        "round_bar": reveal.round_bar_html(
            game_round=game_round,
            position=card.position + 1,
            remaining=None if answered else remaining,
        ),
        "card": card,
        "position_display": card.position + 1,
        "facts": describe(shower),
        "hint": muon_hint(shower) if show_hints else None,
        "footprint": shower_footprint_svg(shower, id_prefix=f"fp{card.position}"),
        "guess_buttons": _guess_buttons(get_language() or ""),
        "guess_url": reverse("play-guess", args=[game_round.public_id, card.position]),
    }


def _reveal_context(game_round: Round, guess: Guess, predictions: dict | None = None) -> dict:
    card = guess.card
    if predictions is None:
        predictions = services.forest_answers(card)
    language = get_language() or ""
    items = []
    for key in HADRONIC_MODELS:
        prediction = predictions.get(key)
        answer = guess.forest_answers.get(key) or (prediction.group if prediction else "")
        probabilities = prediction.probabilities if prediction else {}
        items.append(reveal.forest_item(key, answer, answer == guess.truth, language))
        items += (
            reveal.probability_row(group, round(100 * probabilities.get(group, 0.0)))
            for group in MASS_GROUPS
        )
        items.append("</tbody></table></li>")
    next_position = card.position + 1
    return {
        "guess": guess,
        "reveal": reveal.reveal_html(
            guess=guess,
            forest_items="".join(items),
            sentence=physics_sentence(card.shower, guess.truth),
            next_url=reverse("play-card", args=[game_round.public_id, next_position])
            if next_position < game_round.size
            else None,
            summary_url=reverse("play-summary", args=[game_round.public_id]),
        ),
    }


@require_GET
def play_round(request, public_id: str):
    try:
        game_round = _round_for(request, public_id)
    except services.GameError as error:
        return _error(request, error)
    if game_round.is_finished:
        return redirect("play-summary", public_id=public_id)
    return redirect("play-card", public_id=public_id, position=game_round.answered)


@require_GET
def play_card(request, public_id: str, position: int):
    owners = owned_player_ids(request)
    # The round (with its room), the card, its shower and its guess (if any) in one
    # statement, compiled once per process (guess_statements).
    card = guess_statements.read_card(public_id=public_id, position=position, owners=owners)
    if card is None:
        try:
            _round_for(request, public_id)
            raise services.NoSuchCard(_("This round has no such card."))
        except services.GameError as error:
            return _error(request, error)
    game_round = card.round
    try:
        guess = card.guess
    except Guess.DoesNotExist:
        guess = None
    if guess is None:
        _start_clock(game_round, card)
    context = _card_context(game_round, card, answered=guess is not None)
    if guess is not None:
        context.update(_reveal_context(game_round, guess))
    template = (
        "kascade_game/play/_play_area.html" if request.htmx else "kascade_game/play/card.html"
    )
    return render(request, template, context)


@require_http_methods(["POST"])
def play_guess(request, public_id: str, position: int):
    owners = owned_player_ids(request)
    if not owners:
        return _error(request, services.NotYourRound(_("There is no such round for you.")))
    try:
        outcome = services.record_guess(
            player_ids=owners,
            public_id=public_id,
            position=position,
            choice=request.POST.get("choice", ""),
        )
    except services.AlreadyAnswered as repeat:
        outcome = services.GuessOutcome(guess=repeat.guess, round=repeat.guess.card.round)
    except services.GameError as error:
        return _error(request, error)
    guess, game_round, card = outcome.guess, outcome.round, outcome.guess.card
    if not request.htmx:
        # A plain form post (no JavaScript): Post/Redirect/Get. The card's own page
        # shows its recorded guess with the reveal, so a reload or the back button
        # asks nothing and the address bar holds a page that can be shared.
        url = reverse("play-card", args=[game_round.public_id, card.position])
        return HttpResponseRedirect(f"{url}#guess-area", status=303)
    # The card is on the player's screen: only the reveal (into #guess-area) and
    # the round bar's new score and progress (out of band) change. Re-rendering
    # the card (its footprint above all) was a third of a guess's server time
    # (docs/benchmarks.md, loadtest).
    answer = _reveal_context(game_round, guess, outcome.predictions or None)
    bar = reveal.round_bar_html(game_round=game_round, position=card.position + 1, oob=True)
    return HttpResponse(answer["reveal"] + bar)


@require_GET
def play_summary(request, public_id: str):
    try:
        game_round = _round_for(request, public_id)
    except services.GameError as error:
        return _error(request, error)
    guesses = list(
        Guess.objects.filter(card__round=game_round)
        .select_related("card")
        .order_by("card__position")
    )
    forest_right = {key: 0 for key in HADRONIC_MODELS}
    for guess in guesses:
        for key, answer in guess.forest_answers.items():
            forest_right[key] += answer == guess.truth
    return render(
        request,
        "kascade_game/play/summary.html",
        {
            **_kind_context(game_round),
            "round": game_round,
            "guesses": guesses,
            "answered": len(guesses),
            "forests": [
                {"key": key, "label": model.label, "right": forest_right[key]}
                for key, model in HADRONIC_MODELS.items()
            ],
        },
    )


def method_not_allowed(request):
    return HttpResponseNotAllowed(["POST"])
