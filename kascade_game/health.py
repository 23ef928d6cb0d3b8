"""Liveness and readiness probes.

``/healthz`` answers while the process lives and touches nothing else, so a
slow database never gets a healthy pod killed. ``/readyz`` answers 200 only
when the database and (where configured) Redis answer, and otherwise 503
naming the failing part, so a load balancer stops sending players to a pod
that would fail them.
"""

from __future__ import annotations

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

REDIS_PROBE_TIMEOUT_S = 1.0


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # any driver error means "not ready"
        return f"database: {error.__class__.__name__}"
    return None


def check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=REDIS_PROBE_TIMEOUT_S,
            socket_timeout=REDIS_PROBE_TIMEOUT_S,
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as error:
        return f"redis: {error.__class__.__name__}"
    return None


class ProbeMiddleware:
    """Answers /healthz and /readyz before anything that checks the Host header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        if request.path_info == "/readyz":
            return readyz(request)
        return self.get_response(request)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    failures = [problem for problem in (check_database(), check_redis()) if problem]
    if failures:
        return JsonResponse({"status": "unavailable", "failing": failures}, status=503)
    return JsonResponse(
        {
            "status": "ready",
            "database": connection.vendor,
            "broker": "redis" if settings.REDIS_URL else "in-process",
        }
    )
