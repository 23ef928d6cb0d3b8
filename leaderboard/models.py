"""Players and their scores: the database is the source of truth for every board."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


def new_player_slug() -> str:
    return secrets.token_urlsafe(8)


class Player(models.Model):
    """A guest (nickname in the session) or the player of a registered account."""

    nickname = models.CharField(_("nickname"), max_length=24)
    nickname_key = models.CharField(
        _("nickname for comparisons"), max_length=24, db_index=True, default=""
    )
    slug = models.CharField(
        _("address of the public page"),
        max_length=16,
        unique=True,
        default=new_player_slug,
        editable=False,
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="player",
        verbose_name=_("user account"),
    )
    level = models.PositiveSmallIntegerField(_("level"), default=1)
    total_points = models.BigIntegerField(_("total points"), default=0)
    rounds_finished = models.PositiveIntegerField(_("finished rounds"), default=0)
    tutorial_seen = models.BooleanField(_("tutorial seen"), default=False)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)

    class Meta:
        verbose_name = _("player")
        verbose_name_plural = _("players")
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

    player = models.ForeignKey(
        Player, on_delete=models.CASCADE, related_name="scores", verbose_name=_("player")
    )
    round = models.OneToOneField(
        "kascade_game.Round",
        on_delete=models.CASCADE,
        related_name="score_entry",
        verbose_name=_("round"),
    )
    points = models.IntegerField(_("points"))
    correct = models.PositiveSmallIntegerField(_("right answers"))
    answered = models.PositiveSmallIntegerField(_("answered cards"))
    finished = models.DateTimeField(pgettext_lazy("point in time", "finished"), db_index=True)

    class Meta:
        indexes = [models.Index(fields=["finished", "player"])]
        verbose_name = _("score")
        verbose_name_plural = _("scores")

    def __str__(self) -> str:
        return f"{self.player} {self.points} ({self.finished:%Y-%m-%d})"
