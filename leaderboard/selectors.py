"""Boards, computed from the score entries (the source of truth).

Ties share a rank and the next rank skips ("1, 2, 2, 4", standard competition
ranking). A board may be served from the cache (Redis when configured) for a
few seconds, keyed by a generation number that every new score bumps; when
the cache is cold or down the board is computed from the database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Sum
from django.utils import timezone

from .models import Player, ScoreEntry

logger = logging.getLogger(__name__)

PERIODS = ("all", "week", "today")
PAGE_SIZE = 25
CACHE_SECONDS = 10
GENERATION_KEY = "leaderboard:generation"


@dataclass(frozen=True)
class BoardRow:
    rank: int
    player_id: int
    nickname: str
    slug: str
    points: int
    rounds: int
    # A registered player has a public page to link to; a guest has none (a default,
    # so a row cached before the field existed still reads).
    registered: bool = False


def board_timezone() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "LEADERBOARD_TIME_ZONE", settings.TIME_ZONE))


def period_start(period: str, *, now: datetime | None = None) -> datetime | None:
    """Start of today or of this week (Monday) in the board's time zone; None for all time."""
    if period == "all":
        return None
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    local = (now or timezone.now()).astimezone(board_timezone())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "week":
        midnight -= timedelta(days=midnight.weekday())
    return midnight


def competition_ranks(points: list[int]) -> list[int]:
    """Ranks of scores sorted best first: equal scores share a rank, the next rank skips."""
    ranks: list[int] = []
    for index, value in enumerate(points):
        ranks.append(ranks[-1] if index and value == points[index - 1] else index + 1)
    return ranks


def rank_rows(rows: list[tuple]) -> list[BoardRow]:
    """Rows (player id, nickname, slug, points, rounds[, registered]) sorted by points →
    ranked rows."""
    ranks = competition_ranks([row[3] for row in rows])
    return [BoardRow(rank, *row) for rank, row in zip(ranks, rows, strict=True)]


def _compute_board(period: str, room_id: int | None, kind: str | None = None) -> list[BoardRow]:
    entries = ScoreEntry.objects.all()
    if kind is not None:
        entries = entries.filter(round__kind=kind)
    start = period_start(period)
    if start is not None:
        entries = entries.filter(finished__gte=start)
    if room_id is not None:
        entries = entries.filter(round__room_id=room_id)
    rows = (
        entries.values("player_id", "player__nickname", "player__slug", "player__user_id")
        .annotate(points=Sum("points"), rounds=Count("id"), last=Max("finished"))
        # Ties: equal points share a rank; within a tie the earlier finisher is listed first.
        .order_by("-points", "last", "player_id")
        .values_list(
            "player_id", "player__nickname", "player__slug", "points", "rounds", "player__user_id"
        )
    )
    return rank_rows([(*row[:5], row[5] is not None) for row in rows])


def _generation() -> int:
    try:
        return cache.get(GENERATION_KEY) or 0
    except Exception:  # a cache that is down must never break a board
        logger.warning("leaderboard cache unavailable; reading the database", exc_info=True)
        return -1


def bump_generation() -> None:
    """Called after a score is recorded; stale boards are never read again."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        try:
            cache.add(GENERATION_KEY, 1, timeout=None)
        except Exception:
            logger.warning("leaderboard cache unavailable", exc_info=True)
    except Exception:
        logger.warning("leaderboard cache unavailable", exc_info=True)


def board(
    period: str = "all", *, room_id: int | None = None, kind: str | None = None
) -> list[BoardRow]:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    generation = _generation()
    # The newest score entry's id is part of the key, so a cached board can never
    # miss a round, even one recorded while the cache was down.
    newest = ScoreEntry.objects.aggregate(newest=Max("id"))["newest"] or 0
    start = period_start(period)
    # ISO 8601 without spaces: a key any cache backend takes (Django warns otherwise).
    key = (
        f"leaderboard:{period}:{room_id or '-'}:{kind or '-'}:{newest}:{generation}:"
        f"{start.isoformat(timespec='seconds') if start else '-'}"
    )
    if generation >= 0:
        try:
            cached = cache.get(key)
        except Exception:
            cached = None
        if cached is not None:
            return cached
    rows = _compute_board(period, room_id, kind)
    if generation >= 0:
        try:
            cache.set(key, rows, CACHE_SECONDS)
        except Exception:
            logger.warning("leaderboard cache unavailable", exc_info=True)
    return rows


@dataclass(frozen=True)
class BoardPage:
    rows: list[BoardRow]
    page: int
    pages: int
    total: int
    mine: BoardRow | None
    mine_on_page: bool


def board_page(
    period: str = "all", *, page: int = 1, player: Player | None = None, room_id: int | None = None
) -> BoardPage:
    rows = board(period, room_id=room_id)
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    page = min(max(1, page), pages)
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    mine = next((row for row in rows if player and row.player_id == player.pk), None)
    return BoardPage(
        rows=shown,
        page=page,
        pages=pages,
        total=len(rows),
        mine=mine,
        mine_on_page=mine is not None and mine in shown,
    )
