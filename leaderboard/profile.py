"""A player's profile: rounds, points over time, and confusion matrices beside the forests'."""

from __future__ import annotations

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import MASS_GROUPS
from kascade_game.explain import group_name

from .levels import LEVELS, level_for, next_steps
from .models import Player, ScoreEntry


def confusion(pairs) -> dict:
    """pairs of (truth, answer) → a 5×5 table with row totals and the diagonal share."""
    counts = {truth: dict.fromkeys(MASS_GROUPS, 0) for truth in MASS_GROUPS}
    for truth, answer in pairs:
        if truth in counts and answer in counts[truth]:
            counts[truth][answer] += 1
    rows = []
    right = total = 0
    for truth in MASS_GROUPS:
        row_total = sum(counts[truth].values())
        total += row_total
        right += counts[truth][truth]
        rows.append(
            {
                "truth": truth,
                "label": group_name(truth),
                "total": row_total,
                "cells": [
                    {
                        "answer": answer,
                        "count": counts[truth][answer],
                        "share": round(100 * counts[truth][answer] / row_total) if row_total else 0,
                        "diagonal": answer == truth,
                        "shade": min(4, (100 * counts[truth][answer] // row_total) // 20)
                        if row_total
                        else 0,
                    }
                    for answer in MASS_GROUPS
                ],
            }
        )
    return {"rows": rows, "groups": MASS_GROUPS, "right": right, "total": total}


def profile_context(player: Player) -> dict:
    from kascade_game.models import Guess

    guesses = list(
        Guess.objects.filter(card__round__player=player).values_list(
            "truth", "choice", "forest_answers"
        )
    )
    mine = confusion((truth, choice) for truth, choice, _ in guesses)
    forests = [
        {
            "key": key,
            "label": model.label,
            "matrix": confusion((truth, answers.get(key, "")) for truth, _, answers in guesses),
        }
        for key, model in HADRONIC_MODELS.items()
    ]
    per_group = {
        row["truth"]: (row["cells"][MASS_GROUPS.index(row["truth"])]["count"], row["total"])
        for row in mine["rows"]
    }
    level = level_for(per_group)
    entries = list(
        ScoreEntry.objects.filter(player=player)
        .order_by("finished")
        .values_list("finished", "points", "correct", "answered", "round__public_id")
    )
    cumulative = 0
    history = []
    for finished, points, correct, answered, public_id in entries:
        cumulative += points
        history.append(
            {
                "finished": finished,
                "points": points,
                "total": cumulative,
                "correct": correct,
                "answered": answered,
                "public_id": public_id,
            }
        )
    return {
        "player": player,
        "mine": mine,
        "forests": forests,
        "level": LEVELS[max(level.number, player.level) - 1],
        "next_level": LEVELS[max(level.number, player.level)]
        if max(level.number, player.level) < len(LEVELS)
        else None,
        "next_steps": next_steps(per_group),
        "history": list(reversed(history[-20:])),
        "rounds_played": len(entries),
        "chart": points_chart(history),
    }


def points_chart(history: list[dict], width: int = 600, height: int = 160) -> dict | None:
    """Cumulative points after each round as an SVG polyline (server-rendered, no script)."""
    if len(history) < 1:
        return None
    totals = [0] + [item["total"] for item in history]
    top = max(totals) or 1
    step = width / max(1, len(totals) - 1)
    points = " ".join(
        f"{i * step:.1f},{height - (value / top) * (height - 10):.1f}"
        for i, value in enumerate(totals)
    )
    return {"points": points, "width": width, "height": height, "top": top, "rounds": len(history)}
