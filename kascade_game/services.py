"""What writes in the game: starting rounds and recording guesses.

Guesses are recorded under a row lock on the round, so concurrent or
replayed submissions are counted once and totals never drift.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from classify.physics import MASS_GROUPS
from classify.selectors import predictions_for
from leaderboard.models import Player
from leaderboard.services import record_finished_round, refresh_level

from .decks import deal
from .models import Guess, Round, RoundCard
from .scoring import score_guess

DEFAULT_ROUND_SIZE = 10


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


class AlreadyAnswered(GameError):
    status = 409

    def __init__(self, guess: Guess):
        super().__init__("This card was answered already; here is the recorded result.")
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
) -> Round:
    refresh_level(player)
    difficulty = difficulty or difficulty_for(player)
    rng = rng or random.Random(secrets.randbits(64))
    shower_ids = deal(size=size, difficulty=difficulty, rng=rng)
    if len(shower_ids) < size:
        raise DeckEmpty(
            "The game deck is not ready yet: the forests' predictions are still being computed."
        )
    game_round = Round.objects.create(player=player, size=size, difficulty=difficulty, kind=kind)
    RoundCard.objects.bulk_create(
        RoundCard(round=game_round, position=position, shower_id=shower_id)
        for position, shower_id in enumerate(shower_ids)
    )
    return game_round


@dataclass
class GuessOutcome:
    guess: Guess
    round: Round
    predictions: dict = field(default_factory=dict)


def record_guess(*, player: Player, public_id: str, position: int, choice: str) -> GuessOutcome:
    """Record a guess once. A repeat raises AlreadyAnswered carrying the recorded guess.

    The round's row is locked for the whole transaction, so two guesses of
    the same round are serialised and the streak and totals stay exact.
    """
    if choice not in MASS_GROUPS:
        raise InvalidGuess(f"A guess must be one of {', '.join(MASS_GROUPS)}.")
    try:
        with transaction.atomic():
            card = (
                RoundCard.objects.select_related("round", "shower")
                .select_for_update(of=("round",))
                .filter(round__public_id=public_id, round__player=player, position=position)
                .first()
            )
            if card is None:
                if not Round.objects.filter(public_id=public_id, player=player).exists():
                    raise NotYourRound("There is no such round for you.")
                raise NoSuchCard("This round has no such card.")
            game_round = card.round
            predictions = predictions_for([card.shower_id]).get(card.shower_id, {})
            answers = {key: prediction.predicted_group for key, prediction in predictions.items()}
            score = score_guess(
                choice=choice,
                truth=card.shower.mass_group,
                forest_answers=answers,
                streak_before=game_round.streak,
            )
            # The one-to-one on the card makes a second guess an IntegrityError.
            guess = Guess.objects.create(
                card=card,
                choice=choice,
                truth=card.shower.mass_group,
                is_correct=score.is_correct,
                points=score.points,
                beat_the_machine=score.beat_the_machine,
                streak=score.streak,
                forest_answers=answers,
            )
            game_round.points += score.points
            game_round.correct += 1 if score.is_correct else 0
            game_round.answered += 1
            game_round.streak = score.streak
            game_round.best_streak = max(game_round.best_streak, score.streak)
            if game_round.answered >= game_round.size:
                game_round.finished = timezone.now()
            Round.objects.filter(pk=game_round.pk).update(
                points=F("points") + score.points,
                correct=F("correct") + (1 if score.is_correct else 0),
                answered=F("answered") + 1,
                streak=game_round.streak,
                best_streak=game_round.best_streak,
                finished=game_round.finished,
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
                card__round__player=player,
            )
            .first()
        )
        if existing is None:
            raise
        raise AlreadyAnswered(existing) from None
