"""Gunicorn settings for the production image (`gunicorn -c gunicorn.conf.py`).

Every value can be overridden from the environment, so an operator tunes a
deployment in the ConfigMap without rebuilding the image:

* ``WEB_CONCURRENCY``: worker processes. Default ``2 * CPUs + 1``, where CPUs
  is the container's CPU limit (cgroup quota) when one is set, not the node's
  core count, capped at ``WEB_MAX_WORKERS`` (default 8) so a pod on a large
  node without limits does not start dozens of workers and database connections.
* ``GUNICORN_THREADS``: threads per worker (gthread worker), default 1: a request
  is mostly Python (ORM, templates), and a second thread in the same process
  only waits for the GIL (``make bench`` section quiz, 20 players without
  pauses on 2 cores: guess p95 on the server 76 ms with 4 workers × 2 threads,
  23 ms with 4 workers × 1 thread, the same throughput).
* ``GUNICORN_PRELOAD``: import the application once in the master (default true).
* ``PORT``: listening port, default 8000 (bound on 0.0.0.0 for the pod network).
* ``GUNICORN_TIMEOUT`` / ``GUNICORN_GRACEFUL_TIMEOUT`` / ``GUNICORN_KEEPALIVE``.
* ``GUNICORN_LOG_LEVEL`` (falls back to ``LOG_LEVEL``).

Access and error logs go to stdout/stderr ("-"), where the cluster collects them.
"""

from __future__ import annotations

import gc
import math
import os
from pathlib import Path

CGROUP_V2_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")
CGROUP_V1_QUOTA = Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
CGROUP_V1_PERIOD = Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _cgroup_cpu_limit() -> float | None:
    """CPUs granted by the container's cgroup quota, or None when unlimited."""
    try:
        quota, period = CGROUP_V2_CPU_MAX.read_text().split()[:2]
        if quota != "max":
            return int(quota) / int(period)
        return None
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(CGROUP_V1_QUOTA.read_text())
        period_us = int(CGROUP_V1_PERIOD.read_text())
        if quota_us > 0 and period_us > 0:
            return quota_us / period_us
    except (OSError, ValueError):
        pass
    return None


def cpu_count() -> int:
    """CPUs this process may really use: the smaller of affinity and cgroup quota."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    limit = _cgroup_cpu_limit()
    if limit is not None:
        available = min(available, max(1, math.ceil(limit)))
    return max(1, available)


def default_workers() -> int:
    return min(2 * cpu_count() + 1, _env_int("WEB_MAX_WORKERS", 8))


wsgi_app = "kascade_game.wsgi:application"
bind = f"0.0.0.0:{_env_int('PORT', 8000)}"
workers = _env_int("WEB_CONCURRENCY", default_workers())
worker_class = "gthread"
threads = _env_int("GUNICORN_THREADS", 1)

# A request that takes longer than this is killed (the request path never runs
# a forest, so 30 s is generous); on SIGTERM a worker gets this long to finish.
timeout = _env_int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 25)
# Longer than the ingress controller's upstream keep-alive (60 s for
# ingress-nginx), so the proxy never reuses a connection gunicorn just closed.
keepalive = _env_int("GUNICORN_KEEPALIVE", 75)

# The application (Django, the URLconf and with it pandas, scikit-learn, Plotly) is
# imported once in the master and shared by the forked workers: a worker is ready
# the moment it exists, instead of importing for seconds on its first requests
# (kascade_game/wsgi.py loads the URLconf at import for this).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").strip().lower() in {"1", "true", "yes"}

# Recycle workers now and then so slow memory growth never reaches the pod limit.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 200)

# Heartbeat files on a RAM disk: the root filesystem is read-only in the
# cluster, and /tmp may be a slow disk elsewhere.
worker_tmp_dir = "/dev/shm" if os.access("/dev/shm", os.W_OK) else "/tmp"
# The gunicornc control socket would live under $HOME; containers have no use for it.
control_socket_disable = True

accesslog = "-"
errorlog = "-"
loglevel = (os.environ.get("GUNICORN_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "info").lower()
# The peer (in the cluster: the ingress pod), then the client the ingress passed on.
access_log_format = '%(h)s %({x-forwarded-for}i)s "%(r)s" %(s)s %(B)s %(M)sms "%(f)s" "%(a)s"'


def pre_fork(server, worker):
    """Freeze the master's objects before each worker is forked.

    With the application preloaded, a worker starts with the master's heap
    (Django, pandas, scikit-learn, Plotly) shared copy-on-write. Its first full
    garbage collection would visit every one of those objects and so copy
    nearly every page: a worker restarted after max_requests spent about half
    a second of CPU on it, and its guesses cost twice the CPU for a while
    (docs/benchmarks.md, Load). Frozen objects are never collected or visited
    (Python's gc.freeze, meant for exactly this).
    """
    gc.freeze()
