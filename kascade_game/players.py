"""Who is playing: the account's player, or a guest player kept in the session.

A browser may hold several players at once: its solo player (the account's
or a guest's), one player per school room it joined (each with the nickname
chosen for that room) and the festival booth's current visitor.
"""

from __future__ import annotations

import secrets

from django.utils.translation import pgettext

from leaderboard.models import Player
from leaderboard.nicknames import nickname_key

SESSION_KEY = "player_id"
ROOM_PLAYERS_KEY = "room_players"
BOOTH_PLAYER_KEY = "booth_player_id"


def current_player(request, *, create: bool = False) -> Player | None:
    if request.user.is_authenticated:
        player = Player.objects.filter(user=request.user).first()
        if player is None and create:
            player = Player.objects.create(
                user=request.user, nickname=request.user.get_username()[:24]
            )
        return player
    player_id = request.session.get(SESSION_KEY)
    if player_id:
        player = Player.objects.filter(pk=player_id, user__isnull=True).first()
        if player is not None:
            return player
    if not create:
        return None
    return new_guest(request)


def new_guest(request, *, nickname: str = "", tutorial_seen: bool = False) -> Player:
    """A guest player for this browser session, under `nickname` (checked by the
    caller) or a drawn Guest-NNNNN in the visitor's language (Gast-, Гость-), written
    in one INSERT."""
    guest = pgettext("the first part of a drawn guest nickname", "Guest")
    nickname = nickname or f"{guest}-{secrets.randbelow(90000) + 10000}"
    player = Player.objects.create(
        nickname=nickname, nickname_key=nickname_key(nickname), tutorial_seen=tutorial_seen
    )
    request.session[SESSION_KEY] = player.pk
    return player


def side_player_ids(request) -> list[int]:
    """The room and booth players this browser session holds (no query)."""
    ids = [int(pk) for pk in request.session.get(ROOM_PLAYERS_KEY, {}).values()]
    booth = request.session.get(BOOTH_PLAYER_KEY)
    if booth:
        ids.append(int(booth))
    return ids


def owned_player_ids(request) -> list[int]:
    """Every player whose rounds this request may see and answer."""
    ids = side_player_ids(request)
    if request.user.is_authenticated:
        player = current_player(request)
        if player is not None:
            ids.append(player.pk)
    elif request.session.get(SESSION_KEY):
        ids.append(int(request.session[SESSION_KEY]))
    return ids


def room_player_id(request, room_id: int) -> int | None:
    value = request.session.get(ROOM_PLAYERS_KEY, {}).get(str(room_id))
    return int(value) if value else None


def remember_room_player(request, room_id: int, player_id: int) -> None:
    players = dict(request.session.get(ROOM_PLAYERS_KEY, {}))
    players[str(room_id)] = player_id
    request.session[ROOM_PLAYERS_KEY] = players
