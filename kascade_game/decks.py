"""The game decks: which showers may be dealt, at which difficulty, and dealing them."""

from __future__ import annotations

import random
from collections.abc import Sequence

import numpy as np
from django.db import transaction

from classify.physics import MASS_GROUPS
from classify.selectors import dealable_showers, predictions_for

from .models import DeckEntry, Difficulty


def clarity_of(
    *, truth: str, probabilities_per_forest: Sequence[dict[str, float]], lg_e: float
) -> float:
    """How clearly a shower shows its primary: the forests' mean probability for the
    true group, nudged up for energetic showers (their sizes fluctuate less)."""
    mean_truth_probability = float(np.mean([p[truth] for p in probabilities_per_forest]))
    return mean_truth_probability + 0.1 * (lg_e - 14.0)


@transaction.atomic
def rebuild_deck() -> int:
    """Recompute every deck entry from the active forests: easy, medium, hard by clarity terciles.

    Terciles are taken per mass group, so every difficulty has every group.
    """
    showers = list(dealable_showers().values_list("id", "mass_group", "lg_e"))
    predictions = predictions_for([shower_id for shower_id, _, _ in showers])
    entries: list[DeckEntry] = []
    for group in MASS_GROUPS:
        members = [(sid, lg_e) for sid, mass_group, lg_e in showers if mass_group == group]
        if not members:
            continue
        clarity = np.array(
            [
                clarity_of(
                    truth=group,
                    probabilities_per_forest=[p.probabilities for p in predictions[sid].values()],
                    lg_e=lg_e,
                )
                for sid, lg_e in members
            ]
        )
        low, high = np.quantile(clarity, [1 / 3, 2 / 3])
        for (sid, _), value in zip(members, clarity, strict=True):
            difficulty = (
                Difficulty.EASY
                if value >= high
                else Difficulty.MEDIUM
                if value >= low
                else Difficulty.HARD
            )
            entries.append(
                DeckEntry(
                    shower_id=sid, mass_group=group, difficulty=difficulty, clarity=float(value)
                )
            )
    DeckEntry.objects.all().delete()
    DeckEntry.objects.bulk_create(entries, batch_size=2000)
    return len(entries)


def group_plan(size: int, rng: random.Random) -> list[str]:
    """Which group each card of a round shows: as even as possible, in random order."""
    plan = [MASS_GROUPS[i % len(MASS_GROUPS)] for i in range(size)]
    extra = size % len(MASS_GROUPS)
    if extra:
        # The groups that get one card more than the others are chosen at random.
        leftover = rng.sample(list(MASS_GROUPS), extra)
        plan = [MASS_GROUPS[i % len(MASS_GROUPS)] for i in range(size - extra)] + leftover
    rng.shuffle(plan)
    return plan


def deal(
    *, size: int, difficulty: str, rng: random.Random, exclude_shower_ids: set[int] = frozenset()
) -> list[int]:
    """Shower ids for a round: mixed groups at the difficulty, each shower at most once.

    When a group has too few showers at this difficulty, the neighbouring
    difficulties fill in, so a round is always complete if the deck is.

    One query reads the groups' candidates at every difficulty (the deck
    entries whose showers are still dealable: every active forest answered
    them); picking happens here. Starting a round took one query per group
    and difficulty before, each repeating the dealable check.
    """
    order = {
        Difficulty.EASY: [Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD],
        Difficulty.MEDIUM: [Difficulty.MEDIUM, Difficulty.EASY, Difficulty.HARD],
        Difficulty.HARD: [Difficulty.HARD, Difficulty.MEDIUM, Difficulty.EASY],
    }[Difficulty(difficulty)]
    plan = group_plan(size, rng)
    wanted = {group: plan.count(group) for group in MASS_GROUPS if plan.count(group)}
    candidates: dict[tuple[str, str], list[int]] = {}
    rows = (
        DeckEntry.objects.filter(mass_group__in=list(wanted), shower__in=dealable_showers())
        .order_by("shower_id")
        .values_list("mass_group", "difficulty", "shower_id")
    )
    for group, level, shower_id in rows:
        if shower_id not in exclude_shower_ids:
            candidates.setdefault((group, level), []).append(shower_id)
    by_group: dict[str, list[int]] = {}
    for group in MASS_GROUPS:
        if group not in wanted:
            continue
        picked: list[int] = []
        for level in order:
            pool = candidates.get((group, level), [])
            rng.shuffle(pool)
            picked += pool[: wanted[group] - len(picked)]
            if len(picked) == wanted[group]:
                break
        by_group[group] = picked
    return [by_group[group].pop() for group in plan if by_group.get(group)]


def rebuild_deck_on_activation(sender, **kwargs) -> None:
    rebuild_deck()
