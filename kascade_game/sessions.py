"""Sessions read from the cache (Redis) and written through to the database.

Django's cached_db backend saves a database query on every request, but a
cache that is down makes its `load` raise (it stores what it read from the
database back into the cache without catching errors). Here every cache call
is guarded, so with Redis stopped the sessions simply come from the database
and players keep playing.
"""

from __future__ import annotations

import logging

from django.contrib.sessions.backends.cached_db import SessionStore as CachedDBStore

logger = logging.getLogger(__name__)


class _TolerantCache:
    """The session cache, where an error counts as a miss and a failed write is skipped."""

    def __init__(self, cache) -> None:
        self._cache = cache

    def get(self, key, default=None):
        try:
            return self._cache.get(key, default)
        except Exception:
            logger.warning("session cache unavailable; reading the database")
            return default

    def set(self, key, value, timeout=None) -> None:
        try:
            self._cache.set(key, value, timeout)
        except Exception:
            logger.warning("session cache unavailable; the database copy is kept")

    def delete(self, key) -> None:
        try:
            self._cache.delete(key)
        except Exception:
            logger.warning("session cache unavailable; could not drop %s", key)

    def __contains__(self, key) -> bool:
        try:
            return key in self._cache
        except Exception:
            return False

    def __str__(self) -> str:
        return str(self._cache)


class SessionStore(CachedDBStore):
    def __init__(self, session_key=None):
        super().__init__(session_key)
        self._cache = _TolerantCache(self._cache)
