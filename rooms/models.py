"""School rooms: a teacher's fixed deck that a class plays under a join code."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from classify.models import Shower

# No 0/O, 1/I/L: a code read off a projector is typed right the first time.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
TEACHERS_GROUP = "teachers"


def new_join_code() -> str:
    """8 characters from 31 symbols: 31**8 ≈ 8.5e11 codes, drawn with `secrets`."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


class Room(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open for joining")
        RUNNING = "running", _("running")
        PAUSED = "paused", _("paused")
        CLOSED = "closed", _("closed")

    name = models.CharField(_("name"), max_length=80)
    code = models.CharField(
        _("join code"), max_length=CODE_LENGTH, unique=True, default=new_join_code
    )
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rooms",
        verbose_name=_("teacher"),
    )
    size = models.PositiveSmallIntegerField(_("number of cards"), default=10)
    difficulty = models.CharField(_("difficulty"), max_length=8, default="medium")
    seconds_per_card = models.PositiveSmallIntegerField(
        _("seconds per card"), null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.OPEN
    )
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)
    started = models.DateTimeField(pgettext_lazy("point in time", "started"), null=True, blank=True)
    closed = models.DateTimeField(pgettext_lazy("point in time", "closed"), null=True, blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = _("room")
        verbose_name_plural = _("rooms")
        constraints = [
            models.CheckConstraint(
                condition=Q(size__gte=1) & Q(size__lte=30), name="room_size_range"
            ),
            models.CheckConstraint(
                condition=Q(seconds_per_card__isnull=True) | Q(seconds_per_card__gte=5),
                name="room_seconds_per_card_min",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def accepts_answers(self) -> bool:
        return self.status == self.Status.RUNNING

    @property
    def accepts_joins(self) -> bool:
        return self.status != self.Status.CLOSED


class RoomCard(models.Model):
    """The room's deck: every student's round gets these showers in this order."""

    room = models.ForeignKey(
        Room, on_delete=models.CASCADE, related_name="deck", verbose_name=_("room")
    )
    position = models.PositiveSmallIntegerField(_("position"))
    shower = models.ForeignKey(
        Shower, on_delete=models.PROTECT, related_name="+", verbose_name=_("shower")
    )

    class Meta:
        ordering = ["room", "position"]
        verbose_name = _("room card")
        verbose_name_plural = _("room cards")
        constraints = [
            models.UniqueConstraint(fields=["room", "position"], name="room_card_position_unique"),
        ]

    def __str__(self) -> str:
        return f"card {self.position} of room {self.room_id}"


class TeacherRequest(models.Model):
    """A user's request for the teachers group; an admin approves it."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="teacher_request",
        verbose_name=_("user"),
    )
    school = models.CharField(_("school"), max_length=120, blank=True)
    message = models.TextField(_("message"), max_length=1000, blank=True)
    created = models.DateTimeField(pgettext_lazy("point in time", "created"), auto_now_add=True)
    approved = models.DateTimeField(
        pgettext_lazy("point in time", "approved"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("teacher request")
        verbose_name_plural = _("teacher requests")

    def __str__(self) -> str:
        return f"teacher request of {self.user}"
