"""The quiz: rounds of shower cards, one guess per card, and the decks they are dealt from."""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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

    shower = models.OneToOneField(
        Shower, on_delete=models.CASCADE, related_name="deck_entry", verbose_name=_("shower")
    )
    mass_group = models.CharField(_("true mass group"), max_length=2, choices=MASS_GROUP_CHOICES)
    difficulty = models.CharField(_("difficulty"), max_length=8, choices=Difficulty.choices)
    clarity = models.FloatField(_("clarity"))

    class Meta:
        indexes = [models.Index(fields=["difficulty", "mass_group"])]
        verbose_name = _("deck entry")
        verbose_name_plural = _("deck entries")

    def __str__(self) -> str:
        return f"{self.shower_id} ({self.difficulty})"


class Round(models.Model):
    class Kind(models.TextChoices):
        SOLO = "solo", pgettext_lazy("round kind", "solo")
        ROOM = "room", pgettext_lazy("round kind", "room")
        BOOTH = "booth", pgettext_lazy("round kind", "booth")

    public_id = models.CharField(
        _("public id"), max_length=32, unique=True, default=new_public_id, editable=False
    )
    player = models.ForeignKey(
        "leaderboard.Player",
        on_delete=models.CASCADE,
        related_name="rounds",
        verbose_name=_("player"),
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SOLO)
    room = models.ForeignKey(
        "rooms.Room",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rounds",
        verbose_name=_("room"),
    )
    difficulty = models.CharField(
        _("difficulty"), max_length=8, choices=Difficulty.choices, default=Difficulty.EASY
    )
    size = models.PositiveSmallIntegerField(_("number of cards"), default=10)
    points = models.IntegerField(_("points"), default=0)
    correct = models.PositiveSmallIntegerField(_("right answers"), default=0)
    answered = models.PositiveSmallIntegerField(_("answered cards"), default=0)
    streak = models.PositiveSmallIntegerField(_("streak"), default=0)
    best_streak = models.PositiveSmallIntegerField(_("best streak"), default=0)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)
    finished = models.DateTimeField(
        pgettext_lazy("point in time", "finished"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
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


class DocumentsField(models.JSONField):
    """A JSONField whose bulk inserts list their rows as VALUES.

    On PostgreSQL Django inserts several rows through UNNEST of one array per
    column. An array of JSON documents is escaped by psycopg character by
    character in Python: a round's ten cards took 2.2-2.5 ms of CPU to insert
    that way and 0.8-1.2 ms as VALUES (docs/benchmarks.md, Load). A field with
    its own placeholder is left out of UNNEST (django.db.backends.postgresql.compiler)."""

    def get_placeholder(self, value, compiler, connection) -> str:
        return "%s"


class RoundCard(models.Model):
    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="cards", verbose_name=_("round")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    shower = models.ForeignKey(
        Shower, on_delete=models.PROTECT, related_name="+", verbose_name=_("shower")
    )
    # When the card was first shown to its player: the clock of a timed room starts here.
    shown_at = models.DateTimeField(_("first shown"), null=True, blank=True)
    # What each active forest answered for this shower when the card was dealt:
    # {model key: {"version", "group", "probabilities": {group: p}}}. The guess and
    # the reveal read it here instead of querying the predictions each time; never
    # shown before the card's guess is recorded.
    forests = DocumentsField(_("forests' answers when dealt"), default=dict, blank=True)

    class Meta:
        ordering = ["round", "position"]
        verbose_name = _("round card")
        verbose_name_plural = _("round cards")
        constraints = [
            models.UniqueConstraint(fields=["round", "position"], name="card_position_unique"),
            models.UniqueConstraint(fields=["round", "shower"], name="card_shower_once_per_round"),
        ]

    def __str__(self) -> str:
        return f"card {self.position} of {self.round_id}"


class Guess(models.Model):
    """One guess per card, enforced by the database; a replayed POST finds this row."""

    card = models.OneToOneField(
        RoundCard, on_delete=models.CASCADE, related_name="guess", verbose_name=_("card")
    )
    choice = models.CharField(_("guessed group"), max_length=2, choices=MASS_GROUP_CHOICES)
    truth = models.CharField(_("true mass group"), max_length=2, choices=MASS_GROUP_CHOICES)
    is_correct = models.BooleanField(_("right"))
    points = models.IntegerField(_("points"))
    beat_the_machine = models.BooleanField(_("beat the machine"), default=False)
    streak = models.PositiveSmallIntegerField(_("streak"), default=0)
    # Answered after a timed room's clock ran out: recorded, but worth no points.
    late = models.BooleanField(_("too late"), default=False)
    # What each forest answered for this card at the time of the guess: {model key: group}.
    forest_answers = models.JSONField(_("forests' answers"), default=dict)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)

    class Meta:
        verbose_name = _("guess")
        verbose_name_plural = _("guesses")

    def __str__(self) -> str:
        return f"{self.choice} for {self.card}"
