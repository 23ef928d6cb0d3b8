"""What rooms and the booth read: the live room board, progress, the class against
the machine, the CSV export and the booth's top ten. All from the database."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils.formats import number_format
from django.utils.translation import pgettext

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import MASS_GROUPS
from classify.selectors import predictions_for
from kascade_game.explain import group_name
from kascade_game.models import Guess, Round
from leaderboard.selectors import board, competition_ranks

from .models import Room


@dataclass(frozen=True)
class RoomRow:
    rank: int
    player_id: int
    nickname: str
    points: int
    answered: int
    correct: int
    finished: bool

    @property
    def accuracy(self) -> float:
        return self.correct / self.answered if self.answered else 0.0


def room_board(room: Room) -> list[RoomRow]:
    """Every student of the room ranked by points so far (ties share a rank)."""
    rows = list(
        Round.objects.filter(room=room)
        .order_by("-points", "-correct", "player__nickname", "player_id")
        .values_list("player_id", "player__nickname", "points", "answered", "correct", "finished")
    )
    ranks = competition_ranks([row[2] for row in rows])
    return [
        RoomRow(rank, pid, nickname, points, answered, correct, finished is not None)
        for rank, (pid, nickname, points, answered, correct, finished) in zip(
            ranks, rows, strict=True
        )
    ]


@dataclass(frozen=True)
class RoomProgress:
    students: int
    finished: int
    answers: int
    possible: int

    @property
    def percent(self) -> int:
        return round(100 * self.answers / self.possible) if self.possible else 0


def room_progress(rows: list[RoomRow], room: Room) -> RoomProgress:
    return RoomProgress(
        students=len(rows),
        finished=sum(row.finished for row in rows),
        answers=sum(row.answered for row in rows),
        possible=len(rows) * room.size,
    )


def class_vs_machine(room: Room) -> dict:
    """Per mass group: the class's accuracy on the room's deck next to each forest's
    on the same cards ({"groups": [...], "overall": {...}})."""
    deck = list(room.deck.select_related("shower").order_by("position"))
    truth = {card.shower_id: card.shower.mass_group for card in deck}
    predictions = predictions_for(list(truth))
    class_counts = {
        row["truth"]: (row["right"], row["answered"])
        for row in Guess.objects.filter(card__round__room=room)
        .values("truth")
        .annotate(answered=Count("id"), right=Count("id", filter=Q(is_correct=True)))
    }

    def forest_record(key: str, group: str | None) -> tuple[int, int]:
        cards = [sid for sid, g in truth.items() if group is None or g == group]
        right = sum(
            1
            for sid in cards
            if key in predictions.get(sid, {})
            and predictions[sid][key].predicted_group == truth[sid]
        )
        return right, len(cards)

    def share(right: int, total: int) -> dict:
        return {
            "right": right,
            "total": total,
            "percent": round(100 * right / total) if total else None,
        }

    groups = []
    for group in MASS_GROUPS:
        cards = sum(1 for g in truth.values() if g == group)
        if not cards:
            continue
        right, answered = class_counts.get(group, (0, 0))
        groups.append(
            {
                "group": group,
                "label": group_name(group),
                "cards": cards,
                "class": share(right, answered),
                "forests": [
                    {"key": key, "label": model.label, **share(*forest_record(key, group))}
                    for key, model in HADRONIC_MODELS.items()
                ],
            }
        )
    class_right = sum(right for right, _ in class_counts.values())
    class_answered = sum(answered for _, answered in class_counts.values())
    return {
        "groups": groups,
        "class": share(class_right, class_answered),
        "forests": [
            {"key": key, "label": model.label, **share(*forest_record(key, None))}
            for key, model in HADRONIC_MODELS.items()
        ],
    }


def export_header(size: int) -> list[str]:
    """The export's column names in the teacher's language; the columns' order never changes
    (rank, nickname, points, answered, correct, accuracy, then one column per card)."""
    return [
        pgettext("CSV column", "rank"),
        pgettext("CSV column", "nickname"),
        pgettext("CSV column", "points"),
        pgettext("CSV column", "answered"),
        pgettext("CSV column", "correct"),
        pgettext("CSV column", "accuracy"),
    ] + [
        pgettext("CSV column", "card %(number)s") % {"number": position + 1}
        for position in range(size)
    ]


def export_rows(room: Room) -> tuple[list[str], list[list]]:
    """The CSV export: one row per student, in board order, with each card's answer.

    The header, the "late" mark and the accuracy's decimal separator follow the
    teacher's language (a German spreadsheet reads 0,750, not 0.750); the cells hold
    the group symbols (p, He, C, Si, Fe) in every language."""
    header = export_header(room.size)
    late_mark = pgettext("CSV cell", "%(choice)s (late)")
    answers: dict[int, dict[int, str]] = {}
    for player_id, position, choice, late in Guess.objects.filter(
        card__round__room=room
    ).values_list("card__round__player_id", "card__position", "choice", "late"):
        answers.setdefault(player_id, {})[position] = (
            late_mark % {"choice": choice} if late else choice
        )
    rows = []
    for row in room_board(room):
        rows.append(
            [
                row.rank,
                row.nickname,
                row.points,
                row.answered,
                row.correct,
                number_format(row.accuracy, decimal_pos=3, use_l10n=True),
            ]
            + [answers.get(row.player_id, {}).get(position, "") for position in range(room.size)]
        )
    return header, rows


def booth_top_ten():
    """Today's best booth rounds (the attract screen and the big screen)."""
    return board("today", kind=Round.Kind.BOOTH)[:10]
