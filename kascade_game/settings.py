"""Settings for KASCADE Cosmic Quiz.

This is the one module that reads the environment. Two modes:

* development (default): SQLite under ``var/`` unless ``DATABASE_URL`` is set;
  without ``REDIS_URL`` Celery runs tasks in-process and the cache is local
  memory, so a newcomer's ``make run`` needs nothing but Python.
* production (``DJANGO_ENV=production``): ``SECRET_KEY``, ``ALLOWED_HOSTS``,
  ``DATABASE_URL`` and ``REDIS_URL`` are required, HTTPS and secure cookies are
  on, logs are JSON on stdout.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KASCADE_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def _required(name: str) -> str:
    value = os.environ.get(name, "")
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when DJANGO_ENV=production")
    return value


DJANGO_ENV = os.environ.get("DJANGO_ENV", "development").strip().lower()
PRODUCTION = DJANGO_ENV == "production"


def _development_secret_key() -> str:
    """A random key kept under var/ so sessions survive a restart of `make run`."""
    key_file = VAR_DIR / "dev_secret_key"
    try:
        return key_file.read_text().strip()
    except FileNotFoundError:
        key = secrets.token_urlsafe(50)
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key)
        return key


if PRODUCTION:
    SECRET_KEY = _required("SECRET_KEY")
    # Old keys still accepted for signatures during a key rotation (docs/deploy.md).
    SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS", [])
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", [])
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DJANGO_ENV=production")
    DATABASE_URL = _required("DATABASE_URL")
    REDIS_URL = _required("REDIS_URL")
    DEBUG = _env_bool("DEBUG", False)
else:
    SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()
    ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
    DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
    REDIS_URL = os.environ.get("REDIS_URL", "")
    DEBUG = _env_bool("DEBUG", True)

INSTALLED_APPS = [
    # First, so that its registration/ templates (the password pages and the reset
    # e-mail in the game's words and languages) take precedence over the admin's.
    "kascade_game",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_ratelimit",
    "classify",
    "leaderboard",
    "rooms",
]

MIDDLEWARE = [
    # Probes answer before host validation and the HTTPS redirect: kubelets and
    # load balancers call pods by IP over plain HTTP.
    "kascade_game.health.ProbeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kascade_game.middleware.DiskFullMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "kascade_game.middleware.ContentSecurityPolicyMiddleware",
    # Innermost: the page it puts in place of an empty 405 gets every header above.
    "kascade_game.middleware.MethodNotAllowedPageMiddleware",
]

ROOT_URLCONF = "kascade_game.urls"
# A refused form (no or an old CSRF token) gets the site's page in the visitor's language.
CSRF_FAILURE_VIEW = "kascade_game.views.csrf_failure"
WSGI_APPLICATION = "kascade_game.wsgi.application"
ASGI_APPLICATION = "kascade_game.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kascade_game.context_processors.site",
            ],
        },
    },
]

# Connections are kept for a minute and checked before reuse, so the web
# recovers by itself after PostgreSQL restarts (no stale-connection 500s).
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL,
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
# PostgreSQL plans a statement the application sends again and again (a guess's
# three, a card's read) once per connection: server-side binding, and psycopg
# prepares a statement on its 5th run. A guess cost PostgreSQL 1.3-1.9 ms of CPU
# without, 0.7-1.1 ms with (docs/benchmarks.md, Load). Behind PgBouncer in
# transaction mode this needs PgBouncer >= 1.21 with max_prepared_statements set;
# otherwise set DATABASE_PREPARED_STATEMENTS=false.
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and _env_bool(
    "DATABASE_PREPARED_STATEMENTS", True
):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        server_side_binding=True, prepare_threshold=5
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "kascade_game.cache.SharedClientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# With Redis, sessions are read from the cache and written through to the database
# (one query less per request; a Redis outage falls back to the database). The
# local-memory cache is per process, so without Redis they stay in the database.
SESSION_ENGINE = "kascade_game.sessions" if REDIS_URL else "django.contrib.sessions.backends.db"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

LANGUAGE_CODE = "en"
# The outreach team works in German, English and Russian (issue 11); names in
# their own language for the switcher.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Berlin")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Front-end libraries fetched from the npm registry at set-up (tools/fetch_vendor.py).
STATICFILES_DIRS = [("vendor", BASE_DIR / "vendor")]
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG and not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploads larger than this are refused before they are parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = _env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "quiz@localhost")

# Celery: Redis is broker and result backend when configured; otherwise the
# same tasks run in-process (eagerly) so the embedded mode needs no services.
# (memory:// names a host that it ignores: without one kombu warns on every first task.)
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A chunk takes seconds, so a message unacknowledged for 5 minutes belongs to a
# dead worker and is handed to another (chunks are idempotent, a duplicate is harmless).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", "300")),
    "unacked_restore_interval": int(os.environ.get("CELERY_RESTORE_INTERVAL", "10")),
    "unacked_restore_throttle": int(os.environ.get("CELERY_RESTORE_THROTTLE", "10")),
    # The lock a worker holds while it hands dead workers' messages back: a worker
    # killed while holding it blocks every restore until the lock expires.
    "unacked_mutex_expire": int(os.environ.get("CELERY_RESTORE_LOCK_SECONDS", "300")),
}
# Worker processes that take precompute chunks at once (pods × --concurrency): a
# batch is cut into a multiple of this many equal chunks, so no slot idles while
# the last chunk runs (classify/services.py, _chunk_bounds).
PRECOMPUTE_WORKER_SLOTS = max(1, int(os.environ.get("PRECOMPUTE_WORKER_SLOTS", "2")))
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# django-ratelimit: log-in, sign-up and room joins. Its counters live in the
# cache (Redis when configured); if the cache is down, requests go through
# rather than locking every player out.
RATELIMIT_VIEW = "leaderboard.views.too_many_requests"
# Proxies in front of gunicorn that write X-Forwarded-For (1 behind the cluster's
# ingress-nginx, k8s/configmap.yaml; 0 with no proxy): without it every player
# would share the ingress pod's address (kascade_game/addresses.py).
try:
    TRUSTED_PROXIES = int(os.environ.get("TRUSTED_PROXIES", "0") or "0")
except ValueError:
    TRUSTED_PROXIES = -1
if TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(
        "TRUSTED_PROXIES must be the number of proxies in front of the application "
        f"(0, 1, 2, …), not {os.environ.get('TRUSTED_PROXIES')!r}"
    )
RATELIMIT_IP_META_KEY = "kascade_game.addresses.client_ip"


def _env_rate(name: str, default: str) -> str:
    """A django-ratelimit rate ("30/m", "40/h", "5/10m"), checked at start-up."""
    value = os.environ.get(name, "").strip() or default
    if not re.fullmatch(r"[1-9][0-9]*/(?:[1-9][0-9]*)?[smhd]", value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 30/m, 40/h or 5/10m, not {value!r}"
        )
    return value


# The limits count per client address (kascade_game/limits.py), and a class behind
# one school router shares one. Wrong room codes and other failed joins: 31**8
# codes cannot be guessed at this rate.
ROOM_JOIN_FAILURE_RATE = _env_rate("ROOM_JOIN_FAILURE_RATE", "30/m")
# Wrong passwords and refused sign-up forms together (each account name also has
# 5 log-in attempts a minute, leaderboard/views.py).
ACCOUNT_FAILURE_RATE = _env_rate("ACCOUNT_FAILURE_RATE", "30/m")
# Accounts made: a class of thirty signing up in one lesson fits.
SIGNUP_RATE = _env_rate("SIGNUP_RATE", "40/h")
# How often the projector and the students' waiting page refresh (issue 8: ≤ 2 s).
ROOM_POLL_SECONDS = 2
# The festival booth returns to its attract screen after this many idle seconds.
BOOTH_IDLE_SECONDS = int(os.environ.get("BOOTH_IDLE_SECONDS", "60"))
RATELIMIT_FAIL_OPEN = True
# Django's own RedisCache (kascade_game/cache.py only shares its client object) has
# the atomic incr django-ratelimit needs; the package only knows the third-party
# Redis backends by name (W001).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001"]
if not REDIS_URL:
    # The local-memory cache counts per process: fine for one `make run` process.
    SILENCED_SYSTEM_CHECKS += ["django_ratelimit.E003"]
LEADERBOARD_TIME_ZONE = os.environ.get("LEADERBOARD_TIME_ZONE", "Europe/Berlin")

# Where the trained forests and their model cards live.
MODELS_DIR = Path(os.environ.get("KASCADE_MODELS_DIR", BASE_DIR / "models"))
FIXTURES_DIR = BASE_DIR / "fixtures"
# The real KCDC sample used for calibration; read in place, never copied.
KCDC_SAMPLE = Path(
    os.environ.get("KCDC_SAMPLE", BASE_DIR.parent / "shared" / "kcdc" / "dataset1.csv")
)

# Content-Security-Policy (django-csp): only our own origin, so nothing on a
# page can load from elsewhere; htmx swaps need no inline script.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    }
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {"()": "kascade_game.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json" if PRODUCTION else "plain",
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
    SECURE_SSL_REDIRECT = _env_bool("SECURE_SSL_REDIRECT", True)
    # Probes reach the pods over plain HTTP inside the cluster.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    CSRF_TRUSTED_ORIGINS = _env_list(
        "CSRF_TRUSTED_ORIGINS", [f"https://{host}" for host in ALLOWED_HOSTS if host != "*"]
    )
