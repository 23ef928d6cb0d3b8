"""The game decks: which showers may be dealt, at which difficulty, and dealing them."""

from __future__ import annotations

import random
import time
from collections.abc import Sequence

import numpy as np
from django.db import transaction
from django.db.models import Count, Max

from classify.hadronic_models import HADRONIC_MODELS
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
    forget_candidates()
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


# A process keeps the deck's candidates for a while: reading them, with the
# check that every active forest answered each, was the most expensive query of
# a round's start (17 ms to run and 3 ms to plan on the 3,000-shower deck,
# docs/benchmarks.md). They are kept per deck signature (the entries' count and
# highest id: a rebuild gives every entry a new id) and for
# DECK_CANDIDATES_SECONDS at most, and a dealt round is checked against the
# active forests' answers before it is used.
DECK_CANDIDATES_SECONDS = 30.0
_candidates_cache: dict[str, tuple] = {}


def _deck_signature() -> tuple:
    """The entries' count and highest id: a rebuild (which every forest activation
    runs) gives every entry a new id. A version activated before its rebuild has
    answered every shower already, and each deal is checked against the active
    versions' answers anyway."""
    entries = DeckEntry.objects.aggregate(n=Count("id"), last=Max("id"))
    return (entries["n"], entries["last"])


def _candidates(*, fresh: bool = False) -> tuple[dict[tuple[str, str], list[int]], bool]:
    """{(group, difficulty): dealable shower ids in id order}, and whether it came from memory."""
    signature = _deck_signature()
    kept = _candidates_cache.get("deck")
    now = time.monotonic()
    if not fresh and kept and kept[0] == signature and now - kept[1] < DECK_CANDIDATES_SECONDS:
        return kept[2], True
    candidates: dict[tuple[str, str], list[int]] = {}
    rows = (
        DeckEntry.objects.filter(shower__in=dealable_showers())
        .order_by("shower_id")
        .values_list("mass_group", "difficulty", "shower_id")
    )
    for group, level, shower_id in rows:
        candidates.setdefault((group, level), []).append(shower_id)
    _candidates_cache["deck"] = (signature, now, candidates)
    return candidates, False


def forget_candidates() -> None:
    _candidates_cache.clear()


def deal(
    *, size: int, difficulty: str, rng: random.Random, exclude_shower_ids: set[int] = frozenset()
) -> list[int]:
    """Shower ids for a round: mixed groups at the difficulty, each shower at most once.

    When a group has too few showers at this difficulty, the neighbouring
    difficulties fill in, so a round is always complete if the deck is.
    """
    return deal_with_answers(
        size=size, difficulty=difficulty, rng=rng, exclude_shower_ids=exclude_shower_ids
    )[0]


def deal_with_answers(
    *, size: int, difficulty: str, rng: random.Random, exclude_shower_ids: set[int] = frozenset()
) -> tuple[list[int], dict[int, dict]]:
    """A deal (see `deal`) and every active forest's answer for each dealt shower.

    The candidates are the deck entries whose showers are dealable (every
    active forest answered them), read in one query or kept from an earlier
    round (see _candidates). The answers are read for the dealt showers, and
    they are the check of kept candidates: if a dealt shower lacks an active
    forest's answer, the candidates are read again and the round dealt anew.
    A round's start needs those answers anyway (RoundCard.forests), so the
    check costs it no query of its own.
    """
    order = {
        Difficulty.EASY: [Difficulty.EASY, Difficulty.MEDIUM, Difficulty.HARD],
        Difficulty.MEDIUM: [Difficulty.MEDIUM, Difficulty.EASY, Difficulty.HARD],
        Difficulty.HARD: [Difficulty.HARD, Difficulty.MEDIUM, Difficulty.EASY],
    }[Difficulty(difficulty)]
    plan = group_plan(size, rng)
    wanted = {group: plan.count(group) for group in MASS_GROUPS if plan.count(group)}
    candidates, kept = _candidates()
    dealt = _pick(candidates, plan, wanted, order, rng, exclude_shower_ids)
    answers = predictions_for(dealt)
    if kept and not all_answered(dealt, answers):
        candidates, _ = _candidates(fresh=True)
        dealt = _pick(candidates, plan, wanted, order, rng, exclude_shower_ids)
        answers = predictions_for(dealt)
    return dealt, answers


def all_answered(shower_ids: Sequence[int], answers: dict[int, dict]) -> bool:
    """True when every forest has an active answer for each of the showers."""
    return all(len(answers.get(shower_id, ())) == len(HADRONIC_MODELS) for shower_id in shower_ids)


def _pick(candidates, plan, wanted, order, rng, exclude_shower_ids) -> list[int]:
    by_group: dict[str, list[int]] = {}
    for group in MASS_GROUPS:
        if group not in wanted:
            continue
        picked: list[int] = []
        for level in order:
            pool = [
                shower_id
                for shower_id in candidates.get((group, level), [])
                if shower_id not in exclude_shower_ids
            ]
            # A random few of the pool: shuffling all of it (a few hundred showers per
            # group and level) took the most of the deal's time for the ten it needs.
            picked += rng.sample(pool, min(wanted[group] - len(picked), len(pool)))
            if len(picked) == wanted[group]:
                break
        by_group[group] = picked
    return [by_group[group].pop() for group in plan if by_group.get(group)]


def rebuild_deck_on_activation(sender, **kwargs) -> None:
    rebuild_deck()
