"""Scoring: pure functions, so the rules are tested once and shown in the field guide.

* a right guess earns BASE_POINTS, multiplied by the streak multiplier;
* a guess one group away in lnA order (e.g. C for Si) earns NEIGHBOUR_POINTS:
  the two are hard to tell apart even for the forests;
* beating the machine — right when most forests are wrong — earns BEAT_THE_MACHINE_BONUS;
* a streak of right guesses raises the multiplier: ×1, ×1.5 from the second in a row,
  ×2 from the fourth;
* in a timed room, an answer after the clock ran out earns nothing and ends the streak.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from classify.physics import MASS_GROUPS

BASE_POINTS = 100
NEIGHBOUR_POINTS = 40
BEAT_THE_MACHINE_BONUS = 50
STREAK_STEPS = ((4, 2.0), (2, 1.5), (1, 1.0))


@dataclass(frozen=True)
class Score:
    points: int
    is_correct: bool
    is_neighbour: bool
    beat_the_machine: bool
    streak: int
    multiplier: float

    def too_late(self) -> Score:
        """The same answer given after a timed card's clock ran out."""
        return replace(self, points=0, beat_the_machine=False, streak=0, multiplier=1.0)


def streak_multiplier(streak: int) -> float:
    for minimum, multiplier in STREAK_STEPS:
        if streak >= minimum:
            return multiplier
    return 1.0


def group_distance(first: str, second: str) -> int:
    return abs(MASS_GROUPS.index(first) - MASS_GROUPS.index(second))


def score_guess(
    *, choice: str, truth: str, forest_answers: Mapping[str, str], streak_before: int
) -> Score:
    if choice not in MASS_GROUPS or truth not in MASS_GROUPS:
        raise ValueError(f"mass groups are {', '.join(MASS_GROUPS)}")
    is_correct = choice == truth
    forests_wrong = sum(1 for answer in forest_answers.values() if answer != truth)
    beat_the_machine = is_correct and forests_wrong * 2 > len(forest_answers)
    if is_correct:
        streak = streak_before + 1
        multiplier = streak_multiplier(streak)
        points = round(BASE_POINTS * multiplier) + (
            BEAT_THE_MACHINE_BONUS if beat_the_machine else 0
        )
        return Score(points, True, False, beat_the_machine, streak, multiplier)
    is_neighbour = group_distance(choice, truth) == 1
    return Score(NEIGHBOUR_POINTS if is_neighbour else 0, False, is_neighbour, False, 0, 1.0)
