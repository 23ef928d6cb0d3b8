"""Levels: harder decks and fewer hints as a player's accuracy per group grows.

In the spirit of Gravity Spy's levels (Zevin et al., Class. Quantum Grav. 34
(2017) 064003): a volunteer moves on once they have shown they recognise each
class, judged on their own answers. Chance is 20 % on five groups.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from classify.physics import MASS_GROUPS
from kascade_game.explain import group_name


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    min_answers: int
    min_accuracy: float  # overall
    min_group_accuracy: float  # in every group (with at least min_per_group answers)
    min_per_group: int
    difficulty: str
    hints: bool

    @property
    def difficulty_label(self) -> str:
        from kascade_game.models import Difficulty

        return str(Difficulty(self.difficulty).label)


LEVELS: tuple[Level, ...] = (
    Level(1, gettext_lazy("Cloud-chamber novice"), 0, 0.0, 0.0, 0, "easy", True),
    Level(2, gettext_lazy("Shower spotter"), 10, 0.35, 0.0, 0, "easy", True),
    Level(3, gettext_lazy("Muon counter"), 30, 0.40, 0.25, 3, "medium", True),
    Level(4, gettext_lazy("Array operator"), 60, 0.45, 0.30, 6, "medium", True),
    Level(5, gettext_lazy("KASCADE analyst"), 100, 0.50, 0.35, 10, "hard", False),
)


def qualifies(level: Level, per_group: dict[str, tuple[int, int]]) -> bool:
    """per_group: {group: (right, answered)} over all the player's guesses."""
    answered = sum(n for _, n in per_group.values())
    right = sum(r for r, _ in per_group.values())
    if answered < level.min_answers:
        return False
    if answered and right / answered < level.min_accuracy:
        return False
    for group in MASS_GROUPS:
        group_right, group_answered = per_group.get(group, (0, 0))
        if group_answered < level.min_per_group:
            return False
        if group_answered and group_right / group_answered < level.min_group_accuracy:
            return False
    return True


def level_for(per_group: dict[str, tuple[int, int]]) -> Level:
    reached = LEVELS[0]
    for level in LEVELS[1:]:
        if not qualifies(level, per_group):
            break
        reached = level
    return reached


def next_steps(per_group: dict[str, tuple[int, int]]) -> list[str]:
    """What is still needed for the next level, in plain words."""
    current = level_for(per_group)
    if current.number == LEVELS[-1].number:
        return []
    target = LEVELS[current.number]
    answered = sum(n for _, n in per_group.values())
    right = sum(r for r, _ in per_group.values())
    steps = []
    if answered < target.min_answers:
        missing = target.min_answers - answered
        steps.append(
            ngettext("answer %(count)d more shower", "answer %(count)d more showers", missing)
            % {"count": missing}
        )
    if target.min_accuracy and (not answered or right / answered < target.min_accuracy):
        steps.append(
            _("reach %(percent)d %% right overall") % {"percent": round(100 * target.min_accuracy)}
        )
    for group in MASS_GROUPS:
        group_right, group_answered = per_group.get(group, (0, 0))
        if group_answered < target.min_per_group:
            missing = target.min_per_group - group_answered
            steps.append(
                ngettext(
                    "see %(count)d more %(group)s shower",
                    "see %(count)d more %(group)s showers",
                    missing,
                )
                % {"count": missing, "group": group_name(group)}
            )
        elif group_answered and group_right / group_answered < target.min_group_accuracy:
            steps.append(
                _("get %(percent)d %% of %(group)s showers right")
                % {"percent": round(100 * target.min_group_accuracy), "group": group_name(group)}
            )
    return steps
