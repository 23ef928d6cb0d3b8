"""Rate limits that count what is suspicious or costly, per client address.

django-ratelimit's decorator counts every request. A class of thirty behind one
school router shares one address (kascade_game/addresses.py), so a per-address
limit on every log-in would stop the class in the first minute of a lesson,
where it was meant for someone guessing passwords. These count only what a
guesser or a spammer produces: wrong passwords, refused forms, wrong room codes,
and accounts made. The counters live in the cache (Redis when configured).
"""

from __future__ import annotations

from django_ratelimit.core import get_usage


def used_up(request, group: str, rate: str) -> bool:
    """True once this address has used up its `rate` of `group` for the period."""
    usage = get_usage(request, group=group, key="ip", rate=rate, increment=False)
    return bool(usage) and usage["count"] >= usage["limit"]


def count(request, group: str, rate: str) -> None:
    """Count one more `group` event for this address."""
    get_usage(request, group=group, key="ip", rate=rate, increment=True)
