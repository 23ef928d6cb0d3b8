"""Players: guests with a nickname in the session, or registered accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Player(models.Model):
    nickname = models.CharField(max_length=24)
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
