"""Who is playing: the account's player, or a guest player kept in the session."""

from __future__ import annotations

import secrets

from leaderboard.models import Player
from leaderboard.nicknames import nickname_key

SESSION_KEY = "player_id"


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
    nickname = f"Guest-{secrets.randbelow(90000) + 10000}"
    player = Player.objects.create(nickname=nickname, nickname_key=nickname_key(nickname))
    request.session[SESSION_KEY] = player.pk
    return player
