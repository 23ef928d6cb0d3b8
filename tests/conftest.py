"""Shared test harness: real services, a real browser, a real Celery worker.

* `live_server` comes from pytest-django.
* `browser` / `page`: Playwright on Debian's /usr/bin/chromium (never a
  downloaded browser). Each page records console errors and every request
  that tries to leave 127.0.0.1 (such requests are aborted).
* `celery_worker`: a real `celery worker` process against REDIS_URL and the
  test database, started once per session when REDIS_URL is configured.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.utils import translation

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses
# to run under a running loop unless told the caller knows what it is doing.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / ".artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

requires_services = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs REDIS_URL (runs in the PostgreSQL + Redis pass)"
)
embedded_only = pytest.mark.skipif(
    bool(settings.REDIS_URL), reason="checks the embedded defaults (runs in the SQLite pass)"
)


def pytest_report_header(config):
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    broker = "redis" if settings.REDIS_URL else "in-process (eager)"
    return f"kascade: database={db} tasks={broker}"


@pytest.fixture(scope="session", autouse=True)
def no_connection_left_open(django_db_setup):
    """Torn down just before the test database is dropped: closes every database
    connection the run left open, which would keep PostgreSQL from dropping it.

    pytest-django closes the main thread's current connection only. Django keeps
    a connection per thread and per context, and once the browser tests start
    Playwright the main thread runs in a context of its own: the connection it
    used before is never closed. A helper thread's (the prediction writer's) is
    its own too.
    """
    yield
    from django.db.backends.base.base import BaseDatabaseWrapper

    for wrapper in gc.get_objects():
        # type(), not isinstance(): isinstance asks a lazy object its __class__,
        # which evaluates it (a request's CSP nonce refuses to, once answered).
        if issubclass(type(wrapper), BaseDatabaseWrapper) and wrapper.connection is not None:
            wrapper.inc_thread_sharing()  # it may be another thread's
            try:
                wrapper.close()
            finally:
                wrapper.dec_thread_sharing()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class PageRecorder:
    """What a page did that a test may want to refuse: console errors, outside requests."""

    def __init__(self) -> None:
        self.console_errors: list[str] = []
        self.outside_requests: list[str] = []
        self.page_errors: list[str] = []


def _new_page(browser, request, **context_options):
    context = browser.new_context(**context_options)
    recorder = PageRecorder()

    def route(route_request):
        host = urlparse(route_request.request.url).hostname
        if route_request.request.url.startswith("data:") or host in LOCAL_HOSTS:
            route_request.continue_()
        else:
            recorder.outside_requests.append(route_request.request.url)
            route_request.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on(
        "console",
        lambda message: (
            recorder.console_errors.append(message.text) if message.type == "error" else None
        ),
    )
    page.on("pageerror", lambda error: recorder.page_errors.append(str(error)))
    page.recorder = recorder
    request.addfinalizer(context.close)
    request.addfinalizer(lambda: _keep_evidence_of_a_failure(request.node, page))
    return page


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call" and report.failed:
        item.failed_in_call = True
    return report


def _keep_evidence_of_a_failure(node, page) -> None:
    """A failed browser test leaves its page behind in .artifacts: a screenshot, the
    address and the HTML as the browser had it, and what the console said. A failure
    that happens once in a CI run can then be read afterwards, not only guessed at."""
    if not getattr(node, "failed_in_call", False) or page.is_closed():
        return
    ARTIFACTS.mkdir(exist_ok=True)
    stem = ARTIFACTS / ("failed-" + re.sub(r"[^\w.-]+", "_", node.name) + f"-{id(page):x}")
    try:
        page.screenshot(path=f"{stem}.png", full_page=True)
        stem.with_suffix(".html").write_text(
            f"<!-- {page.url}\n console: {page.recorder.console_errors}"
            f"\n errors: {page.recorder.page_errors} -->\n{page.content()}"
        )
    except Exception as error:  # the evidence must never hide the failure itself
        print(f"no evidence kept for {node.name}: {error!r}")
    else:
        print(f"the failed page is kept in {stem}.png and .html")


@pytest.fixture
def page(browser, request, live_server):
    return _new_page(browser, request, viewport={"width": 1280, "height": 900})


@pytest.fixture
def new_page(browser, request, live_server):
    """A factory for extra pages (a second player, a phone, a projector)."""

    def make(**context_options):
        return _new_page(browser, request, **context_options)

    return make


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _database_url_for_worker() -> str:
    """The URL of the database the tests use (pytest-django renamed it to test_…)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


class WorkerProcess:
    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 1) -> None:
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("ab") as log:  # the worker writes to its own copy
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "kascade_game",
                    "worker",
                    "--loglevel=INFO",
                    f"--concurrency={self.concurrency}",
                    "--without-gossip",
                    "--without-mingle",
                    "--pool=prefork",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        from kascade_game.celery import app

        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited; see {self.log_path}")
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError(f"celery worker did not answer within {timeout_s}s; see {self.log_path}")

    def wait_idle(self, timeout_s: float = 120.0) -> None:
        """Until no task is queued, held unacknowledged (a killed worker's, to come back)
        or running: work left over would run against the next test's data, or lock
        tables while the test database is flushed (a deadlock with its TRUNCATE)."""
        import redis

        from kascade_game.celery import app

        broker = redis.Redis.from_url(settings.REDIS_URL)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return
            if not broker.llen("celery") and not broker.hlen("unacked"):
                inspect = app.control.inspect(timeout=1.0, limit=1)  # one worker: its reply
                busy = [
                    tasks
                    for replies in (inspect.active() or {}, inspect.reserved() or {})
                    for tasks in replies.values()
                    if tasks
                ]
                if not busy:
                    return
            time.sleep(0.3)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker, artifacts_dir):
    """A real Celery worker process on REDIS_URL and the test database.

    Tests that use it must use `transactional_db`, so that what they write is
    committed and visible to the worker.
    """
    if not settings.REDIS_URL:
        pytest.skip("a real worker needs REDIS_URL")
    from kascade_game.celery import app

    app.control.purge()
    env = dict(os.environ)
    env["DATABASE_URL"] = _database_url_for_worker()
    env["REDIS_URL"] = settings.REDIS_URL
    # A killed worker's unacknowledged chunks come back within seconds in the tests.
    env["CELERY_VISIBILITY_TIMEOUT"] = "5"
    env["CELERY_RESTORE_INTERVAL"] = "1"
    env["CELERY_RESTORE_THROTTLE"] = "1"
    env["CELERY_RESTORE_LOCK_SECONDS"] = "5"
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    worker = WorkerProcess(env, artifacts_dir / "celery-worker.log")
    worker.start()
    _RUNNING_WORKERS.append(worker)
    yield worker
    _RUNNING_WORKERS.remove(worker)
    worker.stop()


_RUNNING_WORKERS: list[WorkerProcess] = []


@pytest.fixture(autouse=True)
def _worker_idle_before_database_teardown(_django_db_helper):
    """After each test, let the session's worker finish what the test gave it.

    Set up after pytest-django's database helper, so torn down before it
    rolls back or flushes the test database.
    """
    yield
    for worker in _RUNNING_WORKERS:
        worker.wait_idle()


@pytest.fixture
def game_data(db):
    """A small labelled deck with every forest's predictions (rolled back after each test)."""
    from tests.factories import build_game_data

    return build_game_data()


@pytest.fixture
def live_game_data(transactional_db):
    """Game data committed to the database, so the live server's thread sees it."""
    from tests.factories import build_game_data

    return build_game_data()


@pytest.fixture(autouse=True)
def _no_language_left_over():
    """A request activates its language in the thread and nothing deactivates it: without
    this, a test that calls code directly (an import, a selector) would speak the language
    of the previous test's last request."""
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _rate_limits_only_where_tested(request, settings):
    """Rate limits count in a cache shared by all tests; only tests marked `ratelimit` see them."""
    settings.RATELIMIT_ENABLE = request.node.get_closest_marker("ratelimit") is not None


def finish_round(client, *, choices=None) -> object:
    """Start a round as the client's player and answer all its cards; returns the round."""
    from tests.factories import round_started_by

    response = client.post("/play/new/", {"difficulty": "easy"})
    game_round = round_started_by(response)
    for position in range(game_round.size):
        choice = (choices or ["p", "He", "C", "Si", "Fe"])[position % len(choices or "12345")]
        assert (
            client.post(
                f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": choice}
            ).status_code
            == 303
        )
    game_round.refresh_from_db()
    assert game_round.is_finished
    return game_round


@pytest.fixture(autouse=True)
def _fresh_deck_candidates():
    """A process keeps the deck's candidates (kascade_game.decks); a test's database is
    rolled back under them, and SQLite gives the next test's rows the same ids."""
    from kascade_game.decks import forget_candidates

    forget_candidates()


@pytest.fixture(autouse=True)
def _fresh_board_cache():
    """The cache outlives each test's rolled-back database: start every test on a new
    board generation and without cached statistics (no flush: Redis also holds the broker)."""
    from django.core.cache import cache

    from leaderboard.selectors import bump_generation
    from leaderboard.stats import CACHE_KEY

    bump_generation()
    try:
        cache.delete_many([f"{CACHE_KEY}:{code}" for code, _name in settings.LANGUAGES])
    except Exception:
        pass


def unused_address() -> str:
    """A random private IPv4 address: rate-limit counters kept in Redis by an earlier
    run (Redis outlives the test database) never meet this run's requests."""
    import secrets

    return "10.{}.{}.{}".format(*(secrets.randbelow(254) + 1 for _ in range(3)))


def fresh_ratelimit_window(value: str, period_s: int, *, need_s: float = 20.0) -> None:
    """Wait, if need be, until django-ratelimit's window for `value` has `need_s` left,
    so a test's burst of requests cannot straddle two windows (and be counted in halves)."""
    from django_ratelimit.core import _get_window

    left = _get_window(value, period_s) - time.time()
    if left < need_s:
        time.sleep(max(0.0, left) + 1.0)
