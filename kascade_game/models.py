"""The quiz: rounds of shower cards, one guess per card, and the decks they are dealt from."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from classify.models import MASS_GROUP_CHOICES, Shower


class Difficulty(models.TextChoices):
    EASY = "easy", _("easy")
    MEDIUM = "medium", _("medium")
    HARD = "hard", _("hard")


def new_public_id() -> str:
    """An unguessable round id (128 bits), so rounds cannot be enumerated."""
    return secrets.token_urlsafe(16)


class DeckEntry(models.Model):
    """A game-deck shower that every active forest has answered, with its difficulty.

    Rebuilt whenever a forest version becomes active. Difficulty is judged by
    how clearly the forests recognise the shower (their mean probability for
    the true group) and its energy: clear, energetic showers are easy.
    """

    shower = models.OneToOneField(Shower, on_delete=models.CASCADE, related_name="deck_entry")
    mass_group = models.CharField(max_length=2, choices=MASS_GROUP_CHOICES)
    difficulty = models.CharField(max_length=8, choices=Difficulty.choices)
    clarity = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["difficulty", "mass_group"])]

    def __str__(self) -> str:
        return f"{self.shower_id} ({self.difficulty})"


class Round(models.Model):
    class Kind(models.TextChoices):
        SOLO = "solo", "solo"
        ROOM = "room", "room"
        BOOTH = "booth", "booth"

    public_id = models.CharField(max_length=32, unique=True, default=new_public_id, editable=False)
    player = models.ForeignKey(
        "leaderboard.Player", on_delete=models.CASCADE, related_name="rounds"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.SOLO)
    room = models.ForeignKey(
        "rooms.Room", null=True, blank=True, on_delete=models.CASCADE, related_name="rounds"
    )
    difficulty = models.CharField(max_length=8, choices=Difficulty.choices, default=Difficulty.EASY)
    size = models.PositiveSmallIntegerField(default=10)
    points = models.IntegerField(default=0)
    correct = models.PositiveSmallIntegerField(default=0)
    answered = models.PositiveSmallIntegerField(default=0)
    streak = models.PositiveSmallIntegerField(default=0)
    best_streak = models.PositiveSmallIntegerField(default=0)
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(answered__lte=models.F("size")), name="round_answered_le_size"
            ),
            models.CheckConstraint(
                condition=Q(correct__lte=models.F("answered")), name="round_correct_le_answered"
            ),
            # One round per student per room: rejoining finds the same round.
            models.UniqueConstraint(
                fields=["room", "player"],
                condition=Q(room__isnull=False),
                name="round_one_per_player_per_room",
            ),
        ]

    def __str__(self) -> str:
        return f"round {self.public_id} of {self.player}"

    @property
    def is_finished(self) -> bool:
        return self.finished is not None


class RoundCard(models.Model):
    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="cards")
    position = models.PositiveSmallIntegerField()
    shower = models.ForeignKey(Shower, on_delete=models.PROTECT, related_name="+")
    # When the card was first shown to its player: the clock of a timed room starts here.
    shown_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "position"]
        constraints = [
            models.UniqueConstraint(fields=["round", "position"], name="card_position_unique"),
            models.UniqueConstraint(fields=["round", "shower"], name="card_shower_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"card {self.position} of {self.round_id}"


class Guess(models.Model):
    """One guess per card, enforced by the database; a replayed POST finds this row."""

    card = models.OneToOneField(RoundCard, on_delete=models.CASCADE, related_name="guess")
    choice = models.CharField(max_length=2, choices=MASS_GROUP_CHOICES)
    truth = models.CharField(max_length=2, choices=MASS_GROUP_CHOICES)
    is_correct = models.BooleanField()
    points = models.IntegerField()
    beat_the_machine = models.BooleanField(default=False)
    streak = models.PositiveSmallIntegerField(default=0)
    # Answered after a timed room's clock ran out: recorded, but worth no points.
    late = models.BooleanField(default=False)
    # What each forest answered for this card at the time of the guess: {model key: group}.
    forest_answers = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.choice} for {self.card}"
