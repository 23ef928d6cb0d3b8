"""What writes in the leaderboard app: score entries, levels, claiming a guest's rounds."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Count, F, Q
from django.db.models.functions import Greatest

from .levels import level_for
from .models import Player, ScoreEntry
from .selectors import bump_generation


def per_group_record(player: Player) -> dict[str, tuple[int, int]]:
    """{group: (right, answered)} over every guess the player made."""
    from kascade_game.models import Guess

    rows = (
        Guess.objects.filter(card__round__player=player)
        .values("truth")
        .annotate(answered=Count("id"), right=Count("id", filter=Q(is_correct=True)))
    )
    return {row["truth"]: (row["right"], row["answered"]) for row in rows}


def record_finished_round(*, game_round) -> ScoreEntry:
    """Inside the last guess's transaction (the round's row is locked): its score entry
    and the player's totals, with F-expressions so concurrent rounds add up exactly."""
    entry = ScoreEntry.objects.create(
        round=game_round,
        player_id=game_round.player_id,
        points=game_round.points,
        correct=game_round.correct,
        answered=game_round.answered,
        finished=game_round.finished,
    )
    Player.objects.filter(pk=game_round.player_id).update(
        total_points=F("total_points") + game_round.points,
        rounds_finished=F("rounds_finished") + 1,
    )
    transaction.on_commit(bump_generation)
    return entry


def refresh_level(player: Player) -> int:
    """Raise the player's level to what their answers earn (levels never go down).

    Run when a round starts, not on the guess path, which stays within its
    query budget."""
    earned = level_for(per_group_record(player)).number
    if earned > player.level:
        Player.objects.filter(pk=player.pk).update(level=Greatest(F("level"), earned))
        player.level = earned
    return player.level


@transaction.atomic
def claim_guest(*, guest: Player, user) -> Player:
    """Move a guest's rounds and points to an account, once.

    If the account has no player yet, the guest player simply becomes it;
    otherwise the guest's rounds and score entries move over and the guest
    player is removed, so the points are counted exactly once.
    """
    guest = Player.objects.select_for_update().get(pk=guest.pk)
    if guest.user_id is not None:
        return guest
    account_player = Player.objects.select_for_update().filter(user=user).first()
    if account_player is None:
        guest.user = user
        guest.save(update_fields=["user"])
        return guest
    from kascade_game.models import Round

    Round.objects.filter(player=guest).update(player=account_player)
    ScoreEntry.objects.filter(player=guest).update(player=account_player)
    Player.objects.filter(pk=account_player.pk).update(
        total_points=F("total_points") + guest.total_points,
        rounds_finished=F("rounds_finished") + guest.rounds_finished,
    )
    guest.delete()
    account_player.refresh_from_db()
    refresh_level(account_player)
    transaction.on_commit(bump_generation)
    return account_player
