"""What writes in rooms and at the booth: creating a room and its deck, joining,
the teacher's controls, and booth visitors.

A room deals its deck once; every student's round is a copy of it, in the same
order. Joins are serialised by a row lock on the room, so a nickname is unique
within the room even when a whole class joins in the same second.
"""

from __future__ import annotations

import random
import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kascade_game.decks import deal
from kascade_game.models import Difficulty, Round
from kascade_game.services import DeckEmpty, GameError, start_round
from leaderboard.models import Player
from leaderboard.nicknames import NicknameRejected, check_nickname, nickname_key

from .models import TEACHERS_GROUP, Room, RoomCard

BOOTH_ROUND_SIZE = 5


class RoomError(GameError):
    status = 400


class RoomNotFound(RoomError):
    status = 404


class RoomClosed(RoomError):
    status = 409


class NicknameTaken(RoomError):
    status = 409


class NotTheTeacher(RoomError):
    status = 403


def is_teacher(user) -> bool:
    return bool(
        user.is_authenticated
        and (user.is_staff or user.groups.filter(name=TEACHERS_GROUP).exists())
    )


def can_control(user, room: Room) -> bool:
    """Only the room's own teacher, or staff, may run, watch or export a room."""
    return bool(user.is_authenticated and (user.is_staff or room.teacher_id == user.pk))


@transaction.atomic
def create_room(
    *,
    teacher,
    name: str,
    size: int = 10,
    difficulty: str = Difficulty.MEDIUM,
    seconds_per_card: int | None = None,
    rng: random.Random | None = None,
) -> Room:
    if not is_teacher(teacher):
        raise NotTheTeacher(
            _("Only teachers can create rooms. Ask for teacher access on your profile.")
        )
    rng = rng or random.Random(secrets.randbits(64))
    shower_ids = deal(size=size, difficulty=difficulty, rng=rng)
    if len(shower_ids) < size:
        raise DeckEmpty(
            _("The game deck is not ready yet: the forests' predictions are still being computed.")
        )
    for _attempt in range(5):
        try:
            with transaction.atomic():
                room = Room.objects.create(
                    teacher=teacher,
                    name=name,
                    size=size,
                    difficulty=difficulty,
                    seconds_per_card=seconds_per_card,
                )
            break
        except IntegrityError:  # a join-code collision (about 1 in 10^11): draw again
            continue
    else:
        raise RoomError(_("Could not draw a free join code; please try again."))
    RoomCard.objects.bulk_create(
        RoomCard(room=room, position=position, shower_id=shower_id)
        for position, shower_id in enumerate(shower_ids)
    )
    return room


def normalise_code(raw: str) -> str:
    """Codes are typed by children on phones: ignore case, spaces and dashes."""
    return "".join(ch for ch in (raw or "").upper() if ch.isalnum())[:16]


def find_room(code: str) -> Room:
    room = Room.objects.filter(code=normalise_code(code)).first()
    if room is None:
        raise RoomNotFound(_("No room has this code. Check the code on the teacher's screen."))
    return room


@transaction.atomic
def join_room(*, code: str, nickname: str, player_id: int | None = None) -> Round:
    """A student's round in the room: the same one again when this browser joined before.

    `player_id` is the room player this browser already holds for the room, if any.
    """
    room = Room.objects.select_for_update().filter(code=normalise_code(code)).first()
    if room is None:
        raise RoomNotFound(_("No room has this code. Check the code on the teacher's screen."))
    if player_id is not None:
        existing = Round.objects.filter(room=room, player_id=player_id).first()
        if existing is not None:
            return existing
    if not room.accepts_joins:
        raise RoomClosed(_("This room is closed; ask your teacher for the code of a new one."))
    try:
        nickname = check_nickname(nickname)
    except NicknameRejected as rejection:
        raise RoomError(str(rejection)) from None
    key = nickname_key(nickname)
    if Round.objects.filter(room=room, player__nickname_key=key).exists():
        raise NicknameTaken(
            _(
                "Someone in this room already plays as this nickname; add a number or choose another."
            )
        )
    player = Player.objects.create(nickname=nickname, nickname_key=key)
    shower_ids = list(room.deck.order_by("position").values_list("shower_id", flat=True))
    return start_round(
        player=player,
        kind=Round.Kind.ROOM,
        room=room,
        difficulty=room.difficulty,
        shower_ids=shower_ids,
    )


TRANSITIONS = {
    # action: (allowed from, to)
    "start": ({Room.Status.OPEN, Room.Status.PAUSED}, Room.Status.RUNNING),
    "pause": ({Room.Status.RUNNING}, Room.Status.PAUSED),
    "close": ({Room.Status.OPEN, Room.Status.RUNNING, Room.Status.PAUSED}, Room.Status.CLOSED),
}


@transaction.atomic
def control_room(*, room_id: int, user, action: str) -> Room:
    """The teacher's buttons: start (or resume), pause, close."""
    room = Room.objects.select_for_update().filter(pk=room_id).first()
    if room is None or not can_control(user, room):
        raise RoomNotFound(_("There is no such room of yours."))
    if action not in TRANSITIONS:
        raise RoomError(_("Unknown action: use start, pause or close."))
    allowed, target = TRANSITIONS[action]
    if room.status not in allowed:
        raise RoomClosed(
            _("The room is %(status)s; it cannot %(action)s now.")
            % {"status": room.get_status_display(), "action": action}
        )
    room.status = target
    now = timezone.now()
    if target == Room.Status.RUNNING and room.started is None:
        room.started = now
    if target == Room.Status.CLOSED:
        room.closed = now
    room.save(update_fields=["status", "started", "closed"])
    return room


@transaction.atomic
def new_booth_visitor(*, nickname: str) -> Round:
    """A festival visitor: a new player with a filtered nickname and a short round."""
    from django import forms

    from leaderboard.forms import clean_unique_nickname

    try:
        nickname = clean_unique_nickname(nickname)
    except forms.ValidationError as error:
        raise RoomError(" ".join(error.messages)) from None
    player = Player.objects.create(nickname=nickname, nickname_key=nickname_key(nickname))
    return start_round(
        player=player,
        kind=Round.Kind.BOOTH,
        size=BOOTH_ROUND_SIZE,
        difficulty=Difficulty.EASY,
        new_player=True,
    )


def another_booth_round(*, player: Player) -> Round:
    return start_round(
        player=player, kind=Round.Kind.BOOTH, size=BOOTH_ROUND_SIZE, difficulty=Difficulty.EASY
    )
