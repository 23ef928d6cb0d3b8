"""Django's Redis cache with one client object per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every
cache call; with redis-py 8 that constructor (its retry policy, its response
callbacks) cost about 0.5 ms, more than the round trip to Redis on 127.0.0.1,
and a card request makes two or three cache calls (the session, the card's
picture). A `redis.Redis` is safe to share between threads (each command
borrows a connection from the pool), so one per pool does the same work.
"""

from __future__ import annotations

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            with self._lock:
                client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
