"""Human versus machine: every player's accuracy against each forest's, per group and energy."""

from __future__ import annotations

from django.core.cache import cache
from django.utils.translation import get_language, gettext, gettext_lazy

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import MASS_GROUPS
from kascade_game.explain import group_name

# (lower lgE, upper lgE, label): the labels are translated when shown; a guess is
# counted by its band's index.
ENERGY_BANDS = (
    (0.0, 14.0, gettext_lazy("below 100 TeV")),
    (14.0, 14.3, gettext_lazy("100–200 TeV")),
    (14.3, 14.6, gettext_lazy("200–400 TeV")),
    (14.6, 99.0, gettext_lazy("above 400 TeV")),
)
CACHE_KEY = "leaderboard:human-vs-machine"
CACHE_SECONDS = 60


def _accuracy(right: int, total: int) -> float | None:
    return round(right / total, 4) if total else None


def compute_human_vs_machine() -> dict:
    from kascade_game.models import Guess

    tallies = {}
    for truth, choice, answers, lg_e in Guess.objects.values_list(
        "truth", "choice", "forest_answers", "card__shower__lg_e"
    ):
        band = next(i for i, (low, high, _label) in enumerate(ENERGY_BANDS) if low <= lg_e < high)
        for who, answer in [("players", choice)] + [
            (key, answers.get(key)) for key in HADRONIC_MODELS
        ]:
            for axis, bucket in (("group", truth), ("band", band)):
                right, total = tallies.get((who, axis, bucket), (0, 0))
                tallies[(who, axis, bucket)] = (right + (answer == truth), total + 1)
    series = [("players", gettext("Players"))] + [
        (key, gettext("%(model)s forest") % {"model": m.label})
        for key, m in HADRONIC_MODELS.items()
    ]
    by_group = {
        "categories": [group_name(g) for g in MASS_GROUPS],
        "series": [
            {
                "key": key,
                "name": name,
                "values": [_accuracy(*tallies.get((key, "group", g), (0, 0))) for g in MASS_GROUPS],
            }
            for key, name in series
        ],
    }
    by_energy = {
        "categories": [str(label) for _, _, label in ENERGY_BANDS],
        "series": [
            {
                "key": key,
                "name": name,
                "values": [
                    _accuracy(*tallies.get((key, "band", band), (0, 0)))
                    for band in range(len(ENERGY_BANDS))
                ],
            }
            for key, name in series
        ],
    }
    totals = {
        key: _accuracy(
            sum(tallies.get((key, "group", g), (0, 0))[0] for g in MASS_GROUPS),
            sum(tallies.get((key, "group", g), (0, 0))[1] for g in MASS_GROUPS),
        )
        for key, _ in series
    }
    return {
        "by_group": by_group,
        "by_energy": by_energy,
        "totals": totals,
        "names": dict(series),
        "guesses": sum(tallies.get(("players", "group", g), (0, 0))[1] for g in MASS_GROUPS),
    }


def human_vs_machine() -> dict:
    """Cached on read for a minute (Redis when configured); computed if the cache is down."""
    try:
        cached = cache.get(f"{CACHE_KEY}:{get_language()}")
    except Exception:
        cached = None
    if cached is not None:
        return cached
    stats = compute_human_vs_machine()
    try:
        cache.set(f"{CACHE_KEY}:{get_language()}", stats, CACHE_SECONDS)
    except Exception:
        pass
    return stats
