"""Players and their scores: the database is the source of truth for every board."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models


def new_player_slug() -> str:
    return secrets.token_urlsafe(8)


class Player(models.Model):
    """A guest (nickname in the session) or the player of a registered account."""

    nickname = models.CharField(max_length=24)
    nickname_key = models.CharField(max_length=24, db_index=True, default="")
    slug = models.CharField(max_length=16, unique=True, default=new_player_slug, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="player",
    )
    level = models.PositiveSmallIntegerField(default=1)
    total_points = models.BigIntegerField(default=0)
    rounds_finished = models.PositiveIntegerField(default=0)
    tutorial_seen = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(level__gte=1), name="player_level_positive"),
        ]

    def __str__(self) -> str:
        return self.nickname

    @property
    def is_guest(self) -> bool:
        return self.user_id is None


class ScoreEntry(models.Model):
    """One finished round's result; boards sum these."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="scores")
    round = models.OneToOneField(
        "kascade_game.Round", on_delete=models.CASCADE, related_name="score_entry"
    )
    points = models.IntegerField()
    correct = models.PositiveSmallIntegerField()
    answered = models.PositiveSmallIntegerField()
    finished = models.DateTimeField(db_index=True)

    class Meta:
        indexes = [models.Index(fields=["finished", "player"])]

    def __str__(self) -> str:
        return f"{self.player} {self.points} ({self.finished:%Y-%m-%d})"
