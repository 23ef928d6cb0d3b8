"""Accounts, boards, profiles and the human-versus-machine statistics."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from kascade_game import limits
from kascade_game.players import SESSION_KEY, current_player

from . import profile as profile_data
from . import stats as stats_data
from .forms import SignupForm
from .models import Player
from .nicknames import nickname_key
from .selectors import PERIODS, board_page

PERIOD_LABELS = {
    "all": gettext_lazy("All time"),
    "week": gettext_lazy("This week"),
    "today": gettext_lazy("Today"),
}


def too_many_requests(request, exception=None, *, message: str | None = None):
    return render(
        request,
        "leaderboard/too_many.html",
        {"message": message or _("Too many attempts. Please wait a minute and try again.")},
        status=429,
    )


# Per address (kascade_game/limits.py): wrong passwords and refused sign-up forms
# together, and accounts made. A class logging in or signing up at once is none.
ACCOUNT_FAILURES = "accounts.failures"
ACCOUNTS_MADE = "accounts.made"


def _account_failure(request) -> None:
    limits.count(request, ACCOUNT_FAILURES, settings.ACCOUNT_FAILURE_RATE)


@method_decorator(
    ratelimit(key="post:username", rate="5/m", method="POST", block=True), name="post"
)
class RateLimitedLoginView(auth_views.LoginView):
    """Django's log-in, limited per account name (every attempt) and per address
    (failed attempts only). A refused log-in answers 400 with the form and its message."""

    def post(self, request, *args, **kwargs):
        if limits.used_up(request, ACCOUNT_FAILURES, settings.ACCOUNT_FAILURE_RATE):
            return too_many_requests(request)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        _account_failure(self.request)
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    guest = current_player(request)
    if request.user.is_authenticated:
        return redirect("profile")
    if request.method == "POST":
        if limits.used_up(request, ACCOUNT_FAILURES, settings.ACCOUNT_FAILURE_RATE):
            return too_many_requests(request)
        if limits.used_up(request, ACCOUNTS_MADE, settings.SIGNUP_RATE):
            return too_many_requests(
                request,
                message=_(
                    "Many accounts have been made from this network recently. Please "
                    "try again later, or play on as a guest: an account can claim "
                    "your rounds afterwards."
                ),
            )
    form = SignupForm(request.POST or None, guest=guest)
    if request.method == "POST" and not form.is_valid():
        _account_failure(request)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            if guest is not None:
                # The guest's rounds come along (claimed in the user_logged_in handler);
                # the nickname chosen here is the one the boards show.
                Player.objects.filter(pk=guest.pk).update(
                    nickname=form.cleaned_data["nickname"],
                    nickname_key=nickname_key(form.cleaned_data["nickname"]),
                )
            else:
                Player.objects.create(
                    user=user,
                    nickname=form.cleaned_data["nickname"],
                    nickname_key=nickname_key(form.cleaned_data["nickname"]),
                )
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        limits.count(request, ACCOUNTS_MADE, settings.SIGNUP_RATE)
        messages.success(request, _("Welcome! Your account is ready."))
        return redirect("profile")
    return render(
        request,
        "registration/signup.html",
        {"form": form, "section": "accounts"},
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def leaderboard(request):
    period = request.GET.get("period", "all")
    if period not in PERIODS:
        period = "all"
    try:
        page_number = int(request.GET.get("page", "1"))
    except ValueError:
        page_number = 1
    player = current_player(request)
    room = None
    if request.GET.get("room"):
        from rooms.models import Room
        from rooms.services import normalise_code

        room = Room.objects.filter(code=normalise_code(request.GET["room"])).first()
        if room is None:
            return render(
                request,
                "leaderboard/board.html",
                {
                    "section": "leaderboard",
                    "period": period,
                    "periods": [(key, PERIOD_LABELS[key]) for key in PERIODS],
                    "board": board_page(period, page=1, player=player, room_id=-1),
                    "player": player,
                    "room_error": _("No room has this code."),
                },
                status=404,
            )
    page = board_page(period, page=page_number, player=player, room_id=room.pk if room else None)
    context = {
        "section": "leaderboard",
        "room": room,
        "period": period,
        "periods": [(key, PERIOD_LABELS[key]) for key in PERIODS],
        "board": page,
        "player": player,
    }
    template = "leaderboard/_board.html" if request.htmx else "leaderboard/board.html"
    return render(request, template, context)


@login_required
@require_GET
def my_profile(request):
    player = current_player(request, create=True)
    return render(
        request,
        "leaderboard/profile.html",
        {"section": "accounts", "own": True, **profile_data.profile_context(player)},
    )


@require_GET
def public_profile(request, slug: str):
    player = get_object_or_404(Player, slug=slug)
    if player.user_id is None and current_player(request) != player:
        raise Http404(_("Guests have no public page."))
    return render(
        request,
        "leaderboard/profile.html",
        {"section": "leaderboard", "own": False, **profile_data.profile_context(player)},
    )


@require_GET
def human_vs_machine(request):
    return render(
        request,
        "leaderboard/stats.html",
        {"section": "leaderboard", "stats": stats_data.human_vs_machine()},
    )


def claim_on_login(sender, request, user, **kwargs):
    """user_logged_in: a guest's rounds on this device move to the account, once."""
    from .services import claim_guest

    guest_id = request.session.pop(SESSION_KEY, None) if hasattr(request, "session") else None
    if guest_id:
        guest = Player.objects.filter(pk=guest_id, user__isnull=True).first()
        if guest is not None:
            claim_guest(guest=guest, user=user)
