"""What writes in the game: starting rounds and recording guesses.

Guesses are recorded under a row lock on the round, so concurrent or
replayed submissions are counted once and totals never drift.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Collection
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import MASS_GROUPS
from classify.selectors import predictions_for
from leaderboard.models import Player
from leaderboard.services import record_finished_round, refresh_level

from . import guess_statements
from .decks import all_answered, deal_with_answers
from .models import Guess, Round, RoundCard
from .scoring import score_guess

DEFAULT_ROUND_SIZE = 10
# A timed card's answer still counts this long after its clock runs out
# (network and a slow phone must not cost a student the points).
TIMER_GRACE_S = 2.0


class GameError(Exception):
    """A domain error the views turn into a 4xx reply with this message."""

    status = 400


class NotYourRound(GameError):
    status = 404


class NoSuchCard(GameError):
    status = 404


class InvalidGuess(GameError):
    status = 400


class RoundFinished(GameError):
    status = 409


class DeckEmpty(GameError):
    status = 503


class RoomNotRunning(GameError):
    """A room round's answers are refused while the room waits, is paused or is closed."""

    status = 409

    MESSAGES = {
        "open": gettext_lazy(
            "The teacher has not started this room yet. Wait for the start, then answer."
        ),
        "paused": gettext_lazy(
            "The teacher has paused the room. Your answer was not recorded; "
            "try again when the game goes on."
        ),
        "closed": gettext_lazy("This room is closed: answers are no longer accepted."),
    }

    def __init__(self, status: str):
        message = self.MESSAGES.get(status) or _("This room does not accept answers now.")
        super().__init__(str(message))
        self.room_status = status


class AlreadyAnswered(GameError):
    status = 409

    def __init__(self, guess: Guess):
        super().__init__(_("This card was answered already; here is the recorded result."))
        self.guess = guess


def difficulty_for(player: Player) -> str:
    from leaderboard.levels import LEVELS

    return LEVELS[min(player.level, len(LEVELS)) - 1].difficulty


@transaction.atomic
def start_round(
    *,
    player: Player,
    size: int = DEFAULT_ROUND_SIZE,
    difficulty: str | None = None,
    kind: str = Round.Kind.SOLO,
    rng: random.Random | None = None,
    room=None,
    shower_ids: list[int] | None = None,
    new_player: bool = False,
) -> Round:
    """A new round of `size` cards dealt for the player's level, or of the given
    `shower_ids` in their order (a room's deck). A `new_player`, created for this
    round, has answered nothing yet, so its level is not looked up (a query that
    could only find nothing: 0.7 ms of CPU of a newcomer's 14 ms, paid by every
    visitor of a crowd that joins at once)."""
    complete = True
    if shower_ids is None:
        if not new_player:
            refresh_level(player)
        difficulty = difficulty or difficulty_for(player)
        rng = rng or random.Random(secrets.randbits(64))
        shower_ids, answers = deal_with_answers(size=size, difficulty=difficulty, rng=rng)
        complete = len(shower_ids) == size
    else:
        answers = predictions_for(shower_ids)
    size = len(shower_ids)
    # Every card must carry every forest's answer (RoundCard.forests).
    if not complete or not all_answered(shower_ids, answers):
        raise DeckEmpty(
            _("The game deck is not ready yet: the forests' predictions are still being computed.")
        )
    game_round = Round.objects.create(
        player=player,
        size=size,
        difficulty=difficulty or Round._meta.get_field("difficulty").default,
        kind=kind,
        room=room,
    )
    RoundCard.objects.bulk_create(
        RoundCard(
            round=game_round,
            position=position,
            shower_id=shower_id,
            forests=forests_snapshot(answers[shower_id]),
        )
        for position, shower_id in enumerate(shower_ids)
    )
    return game_round


@dataclass(frozen=True)
class ForestAnswer:
    """One forest's answer for a card's shower: the group it predicts and its probabilities."""

    group: str
    probabilities: dict[str, float]


def forests_snapshot(predictions: dict) -> dict:
    """What a card keeps of its shower's predictions (see RoundCard.forests)."""
    return {
        key: {
            "version": prediction.model_version,
            "group": prediction.predicted_group,
            "probabilities": prediction.probabilities,
        }
        for key, prediction in predictions.items()
    }


def forest_answers(card: RoundCard) -> dict[str, ForestAnswer]:
    """{model key: ForestAnswer} of a card, in HADRONIC_MODELS order.

    From the card's snapshot; a card dealt before cards kept one reads the
    active versions' predictions.
    """
    snapshot = card.forests
    if not snapshot:
        predictions = predictions_for([card.shower_id]).get(card.shower_id, {})
        snapshot = forests_snapshot(predictions)
    return {
        key: ForestAnswer(
            group=snapshot[key]["group"], probabilities=snapshot[key]["probabilities"]
        )
        for key in HADRONIC_MODELS
        if key in snapshot
    }


@dataclass
class GuessOutcome:
    guess: Guess
    round: Round
    predictions: dict = field(default_factory=dict)


def _player_ids(player: Player | None, player_ids: Collection[int] | None) -> list[int]:
    ids = list(player_ids or ())
    if player is not None:
        ids.append(player.pk)
    return ids


def is_late(card: RoundCard, room, *, now=None) -> bool:
    """A timed room's card answered after its clock (plus a short grace) ran out."""
    if room is None or not room.seconds_per_card or card.shown_at is None:
        return False
    elapsed = ((now or timezone.now()) - card.shown_at).total_seconds()
    return elapsed > room.seconds_per_card + TIMER_GRACE_S


def record_guess(
    *,
    public_id: str,
    position: int,
    choice: str,
    player: Player | None = None,
    player_ids: Collection[int] | None = None,
) -> GuessOutcome:
    """Record a guess once. A repeat raises AlreadyAnswered carrying the recorded guess.

    The round must belong to `player` or to one of `player_ids` (a browser may
    hold a solo, a room and a booth player at once). The round's row is locked
    for the whole transaction, so two guesses of the same round are serialised
    and the streak and totals stay exact. A room round is answered only while
    its room runs; a timed card answered too late is recorded with no points.
    """
    if choice not in MASS_GROUPS:
        raise InvalidGuess(
            _("A guess must be one of %(groups)s.") % {"groups": ", ".join(MASS_GROUPS)}
        )
    owners = _player_ids(player, player_ids)
    try:
        with transaction.atomic():
            card = guess_statements.lock_card(public_id=public_id, position=position, owners=owners)
            if card is None:
                if not Round.objects.filter(public_id=public_id, player_id__in=owners).exists():
                    raise NotYourRound(_("There is no such round for you."))
                raise NoSuchCard(_("This round has no such card."))
            game_round = card.round
            room = game_round.room
            if room is not None and not room.accepts_answers and not card_has_guess(card):
                raise RoomNotRunning(room.status)
            late = is_late(card, room)
            predictions = forest_answers(card)
            answers = {key: answer.group for key, answer in predictions.items()}
            score = score_guess(
                choice=choice,
                truth=card.shower.mass_group,
                forest_answers=answers,
                streak_before=game_round.streak,
            )
            if late:
                score = score.too_late()
            # The one-to-one on the card makes a second guess an IntegrityError.
            guess = guess_statements.insert_guess(
                Guess(
                    card=card,
                    choice=choice,
                    truth=card.shower.mass_group,
                    is_correct=score.is_correct,
                    points=score.points,
                    beat_the_machine=score.beat_the_machine,
                    streak=score.streak,
                    forest_answers=answers,
                    late=late,
                )
            )
            game_round.points += score.points
            game_round.correct += 1 if score.is_correct else 0
            game_round.answered += 1
            game_round.streak = score.streak
            game_round.best_streak = max(game_round.best_streak, score.streak)
            if game_round.answered >= game_round.size:
                game_round.finished = timezone.now()
            guess_statements.add_to_round(
                game_round=game_round, points=score.points, correct=1 if score.is_correct else 0
            )
            if game_round.finished:
                record_finished_round(game_round=game_round)
            return GuessOutcome(guess=guess, round=game_round, predictions=predictions)
    except IntegrityError:
        # This card has its guess already (a replay, a second tab, a double click).
        existing = (
            Guess.objects.select_related("card__round", "card__shower")
            .filter(
                card__round__public_id=public_id,
                card__position=position,
                card__round__player_id__in=owners,
            )
            .first()
        )
        if existing is None:
            raise
        raise AlreadyAnswered(existing) from None


def card_has_guess(card: RoundCard) -> bool:
    """True when the card was answered already (a replay is answered with its result
    even after the room closed)."""
    return Guess.objects.filter(card=card).exists()
