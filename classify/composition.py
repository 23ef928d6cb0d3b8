"""Composition of a set of showers: counts, fractions and the mean logarithmic mass.

lnA of the groups follows the product contract: p, He, C, Si, Fe have
A = 1, 4, 12, 28, 56 (lnA = 0, ln 4, ln 12, ln 28, ln 56).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .physics import LN_A, MASS_GROUPS


def composition_of(groups: Iterable[str]) -> dict:
    counts = dict.fromkeys(MASS_GROUPS, 0)
    for group in groups:
        counts[group] += 1
    total = sum(counts.values())
    fractions = {group: (counts[group] / total if total else 0.0) for group in MASS_GROUPS}
    mean_ln_a = sum(fractions[group] * LN_A[group] for group in MASS_GROUPS) if total else math.nan
    return {
        "counts": counts,
        "fractions": {group: round(value, 6) for group, value in fractions.items()},
        "mean_lnA": round(mean_ln_a, 6) if total else None,
    }
