"""School rooms: the teacher's pages (create, run, project, export) and the students'
(join with a code, wait, play). Thin callers of services and selectors."""

from __future__ import annotations

import csv
import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import get_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kascade_game import limits
from kascade_game.models import Round
from kascade_game.players import remember_room_player, room_player_id
from kascade_game.services import GameError

from . import selectors, services
from .forms import JoinForm, RoomForm, TeacherRequestForm
from .models import Room, TeacherRequest


def _error(request, error: GameError, template: str = "rooms/error.html") -> HttpResponse:
    return render(
        request, template, {"message": str(error), "section": "rooms"}, status=error.status
    )


def teacher_room(view):
    """A teacher's view gets the room instead of its id, if the user may control it;
    anyone else gets the same 404 as for a missing room (so room ids cannot be probed)."""

    @functools.wraps(view)
    def with_room(request, room_id: int, *args, **kwargs):
        room = Room.objects.filter(pk=room_id).first()
        if room is None or not services.can_control(request.user, room):
            return _error(request, services.RoomNotFound(_("There is no such room of yours.")))
        return view(request, room, *args, **kwargs)

    return with_room


@require_GET
def rooms_home(request):
    teacher = services.is_teacher(request.user)
    context = {
        "section": "rooms",
        "teacher": teacher,
        "join_form": JoinForm(initial={"code": request.GET.get("code", "")}),
        "room_form": RoomForm() if teacher else None,
        "rooms": list(Room.objects.filter(teacher=request.user)[:50]) if teacher else [],
        "teacher_request": TeacherRequest.objects.filter(user=request.user).first()
        if request.user.is_authenticated and not teacher
        else None,
        "request_form": TeacherRequestForm()
        if request.user.is_authenticated and not teacher
        else None,
    }
    return render(request, "rooms/home.html", context)


@login_required
@require_POST
def room_create(request):
    if not services.is_teacher(request.user):
        return _error(
            request,
            services.NotTheTeacher(
                _("Only teachers can create rooms. Ask for teacher access on the Rooms page.")
            ),
        )
    form = RoomForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "rooms/home.html",
            {
                "section": "rooms",
                "teacher": True,
                "join_form": JoinForm(),
                "room_form": form,
                "rooms": list(Room.objects.filter(teacher=request.user)[:50]),
            },
            status=400,
        )
    try:
        room = services.create_room(teacher=request.user, **form.cleaned_data)
    except GameError as error:
        return _error(request, error)
    return redirect("room-detail", room_id=room.pk)


@login_required
@require_POST
def teacher_request(request):
    form = TeacherRequestForm(request.POST)
    if not form.is_valid():
        return _error(request, services.RoomError(_("Please shorten the note and try again.")))
    if services.is_teacher(request.user):
        messages.info(request, _("You are a teacher already."))
    else:
        TeacherRequest.objects.update_or_create(user=request.user, defaults=form.cleaned_data)
        messages.success(
            request, _("Thank you! An admin will look at your request for teacher access.")
        )
    return redirect("rooms")


JOIN_FAILURES = "rooms.join-failures"


@require_http_methods(["GET", "POST"])
def room_join(request):
    """Students join with the code and a nickname; failed attempts are rate-limited."""
    if request.method == "GET":
        form = JoinForm(initial={"code": request.GET.get("code", "")})
        return render(request, "rooms/join.html", {"section": "rooms", "form": form})
    if limits.used_up(request, JOIN_FAILURES, settings.ROOM_JOIN_FAILURE_RATE):
        return render(
            request,
            "rooms/join.html",
            {
                "section": "rooms",
                "form": JoinForm(),
                "limited": True,
                "message": _(
                    "Too many wrong codes from this device. Wait a minute, then check "
                    "the code on the teacher's screen."
                ),
            },
            status=429,
        )
    form = JoinForm(request.POST)
    error = None
    if form.is_valid():
        try:
            room = services.find_room(form.cleaned_data["code"])
            game_round = services.join_room(
                code=room.code,
                nickname=form.cleaned_data["nickname"],
                player_id=room_player_id(request, room.pk),
            )
        except GameError as failure:
            error = failure
        else:
            remember_room_player(request, room.pk, game_round.player_id)
            return redirect("room-lobby", code=room.code)
    limits.count(request, JOIN_FAILURES, settings.ROOM_JOIN_FAILURE_RATE)
    if error is not None:
        on_code = isinstance(error, services.RoomNotFound | services.RoomClosed)
        form.add_error("code" if on_code else "nickname", str(error))
    return render(
        request,
        "rooms/join.html",
        {"section": "rooms", "form": form},
        status=getattr(error, "status", 400),
    )


def _student_round(request, code: str) -> tuple[Room, Round]:
    room = Room.objects.filter(code=services.normalise_code(code)).first()
    player_id = room_player_id(request, room.pk) if room else None
    game_round = (
        Round.objects.filter(room=room, player_id=player_id).select_related("player").first()
        if player_id
        else None
    )
    if game_round is None:
        raise services.RoomNotFound(_("Join the room with its code first."))
    return room, game_round


def _lobby_context(room: Room, game_round: Round) -> dict:
    rows = selectors.room_board(room)
    return {
        "section": "rooms",
        "room": room,
        "round": game_round,
        "rows": rows,
        "mine": next((row for row in rows if row.player_id == game_round.player_id), None),
        "next_url": reverse("play-round", args=[game_round.public_id]),
        "poll_seconds": settings.ROOM_POLL_SECONDS,
    }


@require_GET
def room_lobby(request, code: str):
    try:
        room, game_round = _student_round(request, code)
    except GameError:
        return redirect(f"{reverse('room-join')}?code={services.normalise_code(code)}")
    context = _lobby_context(room, game_round)
    template = "rooms/_lobby_status.html" if request.htmx else "rooms/lobby.html"
    return render(request, template, context)


@require_GET
@teacher_room
def room_detail(request, room: Room):
    rows = selectors.room_board(room)
    return render(
        request,
        "rooms/detail.html",
        {
            "section": "rooms",
            "room": room,
            "rows": rows,
            "progress": selectors.room_progress(rows, room),
            "join_url": request.build_absolute_uri(reverse("room-join")),
        },
    )


@require_POST
def room_control(request, room_id: int):
    try:
        room = services.control_room(
            room_id=room_id, user=request.user, action=request.POST.get("action", "")
        )
    except GameError as error:
        return _error(request, error)
    messages.success(
        request, _("The room is now %(status)s.") % {"status": room.get_status_display()}
    )
    target = "room-screen" if request.POST.get("next") == "screen" else "room-detail"
    return redirect(target, room_id=room.pk)


def _screen_context(request, room: Room) -> dict:
    rows = selectors.room_board(room)
    context = {
        "section": "rooms",
        "room": room,
        "rows": rows,
        "progress": selectors.room_progress(rows, room),
        "podium": rows[:3] if room.status == Room.Status.CLOSED else [],
        "poll_seconds": settings.ROOM_POLL_SECONDS,
        "join_url": request.build_absolute_uri(reverse("room-join")),
    }
    if room.status == Room.Status.CLOSED:
        context["versus"] = selectors.class_vs_machine(room)
    return context


@require_GET
@teacher_room
def room_screen(request, room: Room):
    template = "rooms/_screen_live.html" if request.htmx else "rooms/screen.html"
    return render(request, template, _screen_context(request, room))


@require_GET
@teacher_room
def room_results(request, room: Room):
    rows = selectors.room_board(room)
    return render(
        request,
        "rooms/results.html",
        {
            "section": "rooms",
            "room": room,
            "rows": rows,
            "versus": selectors.class_vs_machine(room),
        },
    )


@require_GET
@teacher_room
def room_export(request, room: Room):
    header, rows = selectors.export_rows(room)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"room-{slugify(room.name) or 'results'}-{room.code}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # The file opens in the teacher's spreadsheet as it is: the byte order mark tells
    # Excel it is UTF-8 (names with umlauts or in Cyrillic), and where the decimal
    # separator is a comma (de, ru) the columns are separated by semicolons, as such
    # a spreadsheet expects. Read it back with encoding="utf-8-sig".
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";" if get_format("DECIMAL_SEPARATOR") == "," else ",")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_spreadsheet_safe(cell) for cell in row])
    return response


def _spreadsheet_safe(cell):
    """A text cell that a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@"):
        return "'" + cell
    return cell
