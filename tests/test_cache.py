"""The Redis cache shares one client per connection pool and stays exact under threads."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.core.cache import cache

from tests.conftest import requires_services


@requires_services
def test_the_redis_cache_reuses_its_client_and_counts_exactly_from_many_threads():
    from django.core.cache import caches

    from kascade_game.cache import SharedClientRedisCache

    assert isinstance(caches["default"], SharedClientRedisCache)
    client = caches["default"]._cache
    assert client.get_client(write=True) is client.get_client(write=True)

    key = f"test-cache-{uuid.uuid4().hex}"
    cache.set(key, 0, 60)
    errors = []

    def bump():
        try:
            for _ in range(200):
                cache.incr(key)
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert cache.get(key) == 8 * 200
    cache.set(key, {"picture": "<svg/>"}, 60)
    assert cache.get(key) == {"picture": "<svg/>"}
    cache.delete(key)
    assert cache.get(key) is None


@requires_services
def test_a_stopped_redis_still_raises_so_callers_can_fall_back(settings):
    """Sharing the client must not hide connection errors (sessions and boards catch them)."""
    from django.core.cache import caches

    settings.CACHES = {
        "default": settings.CACHES["default"],
        "dead": {
            "BACKEND": "kascade_game.cache.SharedClientRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    with pytest.raises(Exception, match="(?i)connect"):
        caches["dead"].get("anything")
