"""`make loadtest`: many players at once, then scripted faults; `.bench/loadtest.json`.

    .venv/bin/python -m benchmarks.loadtest [--players 200] [--think 3,8] [--skip-faults]

Everything runs on 127.0.0.1 against private services started here (never the
shared PostgreSQL or Redis, since the faults stop and restart them): a
PostgreSQL cluster (initdb into a temporary directory), a redis-server,
gunicorn with 4 workers (gunicorn.conf.py: gthread, 1 thread each) and a
Celery worker. The data are the defaults of `make setup` (migrate,
setup_defaults: datasets, forests from models/*.joblib, predictions, deck).

Phases, in this order:

1. warm-up: a few full rounds (every worker opens its connections);
2. throughput: /healthz alone and guess POSTs alone (on rounds started
   beforehand), in alternating runs from the same number of clients without
   pauses; the ratio guess/healthz compares the guess path with the cheapest
   request the same server answers (the median over the guess runs, each
   against the /healthz runs around it), and each run records the CPU every
   part of the stack used per request. After each guess run the same clients
   send the same requests to the two floors of a guess (benchmarks/floor.py:
   one PostgreSQL transaction answered with a real reveal's bytes, once without
   Django and once as a Django view behind the game's middleware), the least a
   server, and the least this project's Django, can do for a guess on this
   machine; `--no-floor` leaves them out;
3. load: N players at once, each through a full solo round as the browser
   plays it (the /play/ form, POST /play/new/ with its CSRF token, each card,
   each guess with htmx headers, the summary, the leaderboard), pausing
   between clicks like people reading a card (`--think`, seconds, uniform);
4. points: the clients' tally of data-score, the recorded guesses, the score
   entries, the players' totals and every page of the board must agree;
5. faults: Redis stopped during play and restarted; PostgreSQL restarted
   during play; a Celery worker SIGKILLed during a precompute and restarted.

Latency is measured at the client and, from gunicorn's access log (%(D)s), on
the server. Bounded: a request budget and a time cap per phase.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from . import floor, infra

GROUPS = ("p", "He", "C", "Si", "Fe")
HTMX = {"HX-Request": "true", "HX-Target": "play-area"}
SCORE = re.compile(r'data-score="(-?\d+)"')
POINTS = re.compile(r"data-points=\"(-?\d+)\"")
PAGES = re.compile(r"Page (\d+) of (\d+)")
ROUND_PATH = re.compile(r"^/play/r/(?P<round>[^/]+)/$")
CARD_PATH = re.compile(r"^/play/r/(?P<round>[^/]+)/card/(?P<position>\d+)/$")
GUESS_PATH = re.compile(r"^/play/r/[^/]+/card/\d+/guess/$")
SUMMARY_PATH = re.compile(r"^/play/r/[^/]+/summary/$")

TARGETS = {
    "players": 200,
    "errors_5xx": 0,
    "points_mismatch": 0,
    "guess_p95_ms": 50.0,
    "throughput_ratio_vs_healthz": 0.5,
    "postgres_recovery_s": 5.0,
}


def log(message: str) -> None:
    print(infra.log_line("loadtest", message), flush=True)


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (rank - low), 2)


def latency_summary(values: list[float]) -> dict:
    return {
        "count": len(values),
        "p50_ms": percentile(values, 50),
        "p95_ms": percentile(values, 95),
        "p99_ms": percentile(values, 99),
    }


# --- the players ----------------------------------------------------------------


class BudgetExhausted(RuntimeError):
    pass


@dataclass
class RoundLedger:
    """What one client saw of one round: its guesses and the running score."""

    public_id: str
    guesses: dict[int, str] = field(default_factory=dict)  # position -> choice (acknowledged)
    score: int = 0
    finished: bool = False
    # A request of this round got no answer (a client time-out): the client cannot
    # know whether the server recorded it, so the round is compared in the database only.
    uncertain: bool = False


@dataclass
class Recorder:
    """Per-endpoint client latencies, statuses and the rounds the clients played."""

    budget: int
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    five_xx: list[tuple[float, str]] = field(default_factory=list)
    rounds: list[RoundLedger] = field(default_factory=list)
    requests: int = 0
    transport_errors: int = 0
    resent: int = 0

    async def request(self, client, endpoint: str, method: str, url: str, **kwargs):
        import httpx

        if self.budget <= 0:
            raise BudgetExhausted("request budget exhausted")
        self.budget -= 1
        started = time.perf_counter()
        try:
            try:
                response = await client.request(method, url, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError):
                # The server closed a kept-alive connection as the request went out
                # (a gunicorn worker restarting after its max_requests): no answer
                # came, so, as browsers do on a reused connection, send it once
                # more on a new one. Counted in `resent`; a guess is safe to resend
                # (a replay is answered with the recorded result, counted once).
                self.resent += 1
                response = await client.request(method, url, **kwargs)
        except Exception as error:
            self.transport_errors += 1
            self.errors.append(f"{method} {endpoint}: {error.__class__.__name__}")
            raise
        self.samples[endpoint].append((time.perf_counter() - started) * 1000)
        self.requests += 1
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.five_xx.append((time.monotonic(), f"{method} {url}"))
        return response


def new_client(base_url: str, user_agent: str):
    import httpx

    return httpx.AsyncClient(
        base_url=base_url,
        headers={"User-Agent": user_agent},
        timeout=httpx.Timeout(30.0),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=2, max_keepalive_connections=2),
        verify=infra.shared_tls_context(),
    )


async def start_round(client, recorder: Recorder) -> tuple[str, object]:
    """The /play/ form, then POST /play/new/ and its redirects to the first card page."""
    response = await recorder.request(client, "start_page", "GET", "/play/")
    if response.status_code != 200:
        raise RuntimeError(f"GET /play/ -> {response.status_code}")
    token = client.cookies.get("csrftoken")
    if not token:
        raise RuntimeError("no csrftoken cookie after GET /play/")
    response = await recorder.request(
        client,
        "new_round",
        "POST",
        "/play/new/",
        data={"csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token, "Referer": f"{client.base_url}/play/"},
    )
    hops = 0
    while response.status_code in (301, 302, 303) and hops < 4:
        hops += 1
        location = response.headers["location"]
        path = location.split("?")[0]
        endpoint = "card_page" if CARD_PATH.match(path) else "round_redirect"
        response = await recorder.request(client, endpoint, "GET", location)
    match = CARD_PATH.match(response.url.path)
    if response.status_code != 200 or match is None:
        raise RuntimeError(f"new round ended at {response.url.path} ({response.status_code})")
    return match["round"], response


def guess_headers(client, card_url: str) -> dict[str, str]:
    """What htmx sends with a guess from the card at `card_url`."""
    return {
        **HTMX,
        "X-CSRFToken": client.cookies.get("csrftoken"),
        "HX-Current-URL": f"{client.base_url}{card_url}",
        "HX-Trigger": "guess-form",
    }


async def post_guess(client, recorder: Recorder, ledger: RoundLedger, position: int, choice: str):
    card_url = f"/play/r/{ledger.public_id}/card/{position}/"
    ledger.uncertain = True  # until the reveal is read
    response = await recorder.request(
        client,
        "guess",
        "POST",
        f"{card_url}guess/",
        data={"choice": choice},
        headers=guess_headers(client, card_url),
    )
    if response.status_code != 200 or "data-reveal" not in response.text:
        raise RuntimeError(f"POST {card_url}guess/ -> {response.status_code}")
    ledger.guesses[position] = choice
    ledger.score = int(SCORE.search(response.text)[1])
    ledger.uncertain = False
    return response


async def play_solo_round(
    client,
    recorder: Recorder,
    *,
    rng: random.Random,
    think: tuple[float, float],
    board: bool = True,
) -> RoundLedger:
    async def pause():
        if think[1] > 0:
            await asyncio.sleep(rng.uniform(*think))

    public_id, response = await start_round(client, recorder)
    ledger = RoundLedger(public_id)
    recorder.rounds.append(ledger)
    size = int(re.search(r'max="(\d+)"', response.text)[1])
    for position in range(size):
        if position:
            card_url = f"/play/r/{public_id}/card/{position}/"
            response = await recorder.request(
                client,
                "card",
                "GET",
                card_url,
                headers={**HTMX, "HX-Current-URL": f"{client.base_url}{card_url}"},
            )
            if response.status_code != 200 or "data-guess" not in response.text:
                raise RuntimeError(f"GET {card_url} -> {response.status_code}")
        await pause()
        await post_guess(client, recorder, ledger, position, rng.choice(GROUPS))
        await pause()
    response = await recorder.request(client, "summary", "GET", f"/play/r/{public_id}/summary/")
    if response.status_code != 200:
        raise RuntimeError(f"summary -> {response.status_code}")
    shown = int(SCORE.search(response.text)[1])
    if shown != ledger.score:
        recorder.errors.append(f"summary shows {shown}, the reveals said {ledger.score}")
    ledger.finished = True
    if board:
        response = await recorder.request(client, "leaderboard", "GET", "/leaderboard/")
        if response.status_code != 200:
            raise RuntimeError(f"leaderboard -> {response.status_code}")
    return ledger


async def run_players(
    base_url: str,
    recorder: Recorder,
    *,
    players: int,
    user_agent: str,
    seed: int,
    think: tuple[float, float],
    timeout_s: float,
    stagger_s: float = 0.0,
) -> float:
    """`players` clients, each one full round; returns the wall time."""
    rng = random.Random(seed)

    async def one(index: int) -> None:
        player_rng = random.Random(rng.getrandbits(64))
        if stagger_s:
            await asyncio.sleep(player_rng.uniform(0, stagger_s))
        async with new_client(base_url, user_agent) as client:
            try:
                await play_solo_round(client, recorder, rng=player_rng, think=think)
            except BudgetExhausted:
                recorder.errors.append(f"player {index}: request budget exhausted")
            except Exception as error:
                recorder.errors.append(f"player {index}: {error.__class__.__name__}: {error}")

    started = time.perf_counter()
    tasks = [asyncio.ensure_future(one(index)) for index in range(players)]
    done, pending = await asyncio.wait(tasks, timeout=timeout_s)
    for task in pending:
        task.cancel()
    if pending:
        recorder.errors.append(f"time cap of {timeout_s}s reached ({len(pending)} players cut)")
        await asyncio.gather(*pending, return_exceptions=True)
    return time.perf_counter() - started


# --- throughput: /healthz alone and guesses alone ----------------------------------


async def healthz_throughput(base_url: str, *, clients: int, total: int, cpu=None) -> dict:
    recorder = Recorder(budget=total)
    remaining = [total]

    async def worker():
        async with new_client(base_url, "lt-healthz") as client:
            while remaining[0] > 0:
                remaining[0] -= 1
                response = await recorder.request(client, "healthz", "GET", "/healthz")
                if response.status_code != 200:
                    recorder.errors.append(f"healthz -> {response.status_code}")

    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": recorder.requests,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(recorder.requests / elapsed, 1),
        "errors": len(recorder.errors),
        **latency_summary(recorder.samples["healthz"]),
        **cpu_per_request(cpu_before, cpu() if cpu else None, recorder.requests),
    }


async def start_guess_rounds(
    base_url: str, recorder: Recorder, *, clients: int, rounds_each: int
) -> list[tuple[object, list[RoundLedger]]]:
    """Each client's rounds for the guess blocks, started beforehand (not timed)."""
    players = []
    for _ in range(clients):
        client = new_client(base_url, "lt-guess")
        ledgers = []
        for _ in range(rounds_each):
            public_id, _ = await start_round(client, recorder)
            ledgers.append(RoundLedger(public_id))
        recorder.rounds.extend(ledgers)
        players.append((client, ledgers))
    return players


# The floors of a guess (benchmarks/floor.py): name -> path prefix.
FLOORS = {"floor": floor.PREFIX, "django_floor": floor.DJANGO_PREFIX}
FLOOR_LABELS = {
    "floor": "the floor (one transaction and the reveal's bytes, no Django)",
    "django_floor": "the Django floor (the same as a view behind the game's middleware)",
}


async def post_floor_guess(
    client,
    recorder: Recorder,
    ledger: RoundLedger,
    position: int,
    choice: str,
    *,
    kind: str = "floor",
):
    """A guess of a floor (benchmarks/floor.py), sent as the game's guess is sent."""
    response = await recorder.request(
        client,
        kind,
        "POST",
        f"{FLOORS[kind]}{ledger.public_id}/{position}/",
        data={"choice": choice},
        headers=guess_headers(client, f"/play/r/{ledger.public_id}/card/{position}/"),
    )
    if response.status_code != 200 or "data-reveal" not in response.text:
        raise RuntimeError(f"POST {kind} guess -> {response.status_code}")
    ledger.guesses[position] = choice
    ledger.score += floor.points_for(choice)
    return response


async def guess_block(
    players,
    recorder: Recorder,
    *,
    rounds: int,
    rng: random.Random,
    cpu=None,
    post=post_guess,
    endpoint: str = "guess",
) -> dict:
    """Every client posts all the guesses of its next `rounds` unplayed rounds, at once."""
    before = len(recorder.samples[endpoint])

    async def post_all(client, ledgers):
        for ledger in [ledger for ledger in ledgers if not ledger.finished][:rounds]:
            for position in range(10):
                await post(client, recorder, ledger, position, rng.choice(GROUPS))
            ledger.finished = True

    cpu_before = cpu() if cpu else None
    started = time.perf_counter()
    results = await asyncio.gather(
        *(post_all(client, ledgers) for client, ledgers in players), return_exceptions=True
    )
    elapsed = time.perf_counter() - started
    cpu_after = cpu() if cpu else None
    failures = [repr(result) for result in results if isinstance(result, Exception)]
    guesses = recorder.samples[endpoint][before:]
    return {
        "clients": len(players),
        "requests": len(guesses),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(guesses) / elapsed, 1),
        "errors": len(failures),
        "error_samples": failures[:3],
        **latency_summary(guesses),
        **cpu_per_request(cpu_before, cpu_after, len(guesses)),
    }


def cpu_per_request(before: dict | None, after: dict | None, requests: int) -> dict:
    """Milliseconds of CPU per request, per part of the stack, over one phase."""
    if before is None or after is None or not requests:
        return {}
    return {
        "cpu_ms_per_request": {
            part: round((after[part] - before[part]) / requests * 1000, 3) for part in before
        }
    }


# --- the server's own times (gunicorn access log) ------------------------------------


def endpoint_of(method: str, path: str, hx: str) -> str | None:
    if path == "/healthz":
        return "healthz"
    if path == "/play/" and method == "GET":
        return "start_page"
    if path == "/play/new/":
        return "new_round"
    if ROUND_PATH.match(path):
        return "round_redirect"
    if CARD_PATH.match(path):
        return "card" if hx == "true" else "card_page"
    if GUESS_PATH.match(path):
        return "guess"
    if SUMMARY_PATH.match(path):
        return "summary"
    if path == "/leaderboard/":
        return "leaderboard"
    return None


def server_times(log_path: Path, user_agents: set[str]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = defaultdict(list)
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("BENCH|"):
            continue
        parts = line.split("|")
        if len(parts) != 8 or parts[1] not in user_agents:
            continue
        _, _, method, path, hx, status, _, micros = parts
        endpoint = endpoint_of(method, path, hx)
        if endpoint and status.isdigit() and int(status) < 500:
            times[endpoint].append(int(micros) / 1000)
    return times


# --- the run ----------------------------------------------------------------------------


class Stack:
    """Private PostgreSQL and Redis, gunicorn and a Celery worker, all on 127.0.0.1."""

    def __init__(self, root: Path, log_dir: Path, workers: int, *, floor: bool = True) -> None:
        self.root = root
        self.log_dir = log_dir
        # gunicorn serves the game through benchmarks.floor's dispatcher, which
        # answers the floors' paths itself and passes everything else on.
        self.floor = floor
        self.floor_response = root / "floor-response.json"
        self.postgres = infra.PrivatePostgres(root / "postgres")
        self.redis = infra.PrivateRedis(log_dir / "loadtest-redis.log")
        self.web_port = infra.free_port()
        self.workers = workers
        self.web: infra.ManagedProcess | None = None
        self.worker: infra.ManagedProcess | None = None
        self.worker_starts = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    def cpu_snapshot(self) -> dict[str, float]:
        """CPU seconds so far of each part on the machine's 2 cores: the web (gunicorn's
        master and workers), PostgreSQL, Redis, this load generator, and the whole
        machine (everyone's processes, the kernel included)."""
        postmaster = self.postgres.postmaster_pid()
        busy, _idle = infra.system_cpu_seconds()
        return {
            "web": infra.tree_cpu_seconds(self.web.pid) if self.web else 0.0,
            "postgres": infra.tree_cpu_seconds(postmaster) if postmaster else 0.0,
            "redis": infra.tree_cpu_seconds(self.redis.process.pid) if self.redis.process else 0.0,
            "load_generator": time.process_time(),
            "machine": busy,
        }

    def start_services(self) -> None:
        self.postgres.init()
        self.postgres.start()
        self.postgres.create_database()
        self.redis.start()
        os.environ.update(
            DATABASE_URL=self.postgres.url,
            REDIS_URL=self.redis.url,
            DJANGO_SETTINGS_MODULE="kascade_game.settings",
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            # A SIGKILLed worker's unacknowledged chunks come back within seconds.
            CELERY_VISIBILITY_TIMEOUT="10",
            CELERY_RESTORE_INTERVAL="2",
            CELERY_RESTORE_THROTTLE="2",
            CELERY_RESTORE_LOCK_SECONDS="10",
        )

    def start_web(self) -> None:
        options = {}
        if self.floor:
            options = {
                "app": "benchmarks.floor:application",
                "env": {floor.RESPONSE_FILE_ENV: str(self.floor_response)},
            }
        self.web = infra.gunicorn(
            self.web_port, self.log_dir / "loadtest-gunicorn.log", workers=self.workers, **options
        )
        self.web.start()
        infra.wait_http_ready(f"{self.base_url}/healthz", self.web)

    def start_worker(self) -> None:
        self.worker_starts += 1
        self.worker = infra.celery_worker(
            self.log_dir / f"loadtest-celery-{self.worker_starts}.log", concurrency=2
        )
        self.worker.start()
        infra.wait_worker_ready(self.worker)

    def ensure_worker(self) -> None:
        """After the Redis restart: this process's broker connections are stale; the
        worker reconnects by itself, or is started again."""
        from kascade_game.celery import app

        for _ in range(3):
            app.close()  # drops the connection pool; the next call opens a new one
            try:
                infra.wait_worker_ready(self.worker, timeout_s=20)
                return
            except Exception as error:
                log(f"celery worker not answering yet ({error.__class__.__name__}: {error})")
        self.worker.stop(grace_s=10)
        self.start_worker()

    def stop(self) -> None:
        for process in (self.worker, self.web):
            if process is not None:
                process.stop(grace_s=10)
        self.redis.stop()
        self.postgres.remove()
        shutil.rmtree(self.root, ignore_errors=True)


def points_check(base_url: str, rounds: list[RoundLedger]) -> dict:
    """Clients' tally = recorded guesses = rounds = score entries = players' totals = board."""
    import httpx
    from django.db import close_old_connections
    from django.db.models import Sum

    from kascade_game.models import Guess, Round
    from leaderboard.models import Player, ScoreEntry

    close_old_connections()
    certain = [ledger for ledger in rounds if not ledger.uncertain]
    client_all = sum(ledger.score for ledger in certain)
    client_finished = sum(ledger.score for ledger in certain if ledger.finished)
    certain_ids = [ledger.public_id for ledger in certain]
    certain_guess_points = (
        Guess.objects.filter(card__round__public_id__in=certain_ids).aggregate(total=Sum("points"))[
            "total"
        ]
        or 0
    )
    certain_entry_points = (
        ScoreEntry.objects.filter(
            round__public_id__in=[ledger.public_id for ledger in certain if ledger.finished]
        ).aggregate(total=Sum("points"))["total"]
        or 0
    )
    guess_points = Guess.objects.aggregate(total=Sum("points"))["total"] or 0
    round_points = Round.objects.aggregate(total=Sum("points"))["total"] or 0
    entry_points = ScoreEntry.objects.aggregate(total=Sum("points"))["total"] or 0
    player_points = Player.objects.aggregate(total=Sum("total_points"))["total"] or 0
    board_points, board_rows, page, pages = 0, 0, 1, 1
    with httpx.Client(base_url=base_url, headers={"User-Agent": "lt-board"}) as client:
        while page <= pages:
            text = client.get("/leaderboard/", params={"period": "all", "page": page}).text
            found = PAGES.search(text)
            pages = int(found[2]) if found else 1
            values = [int(value) for value in POINTS.findall(text)]
            board_points += sum(values)
            board_rows += len(values)
            page += 1
    finished_rounds = Round.objects.filter(finished__isnull=False).count()
    mismatch = (
        abs(client_all - certain_guess_points)
        + abs(client_finished - certain_entry_points)
        + abs(round_points - guess_points)
        + abs(player_points - entry_points)
        + abs(board_points - entry_points)
    )
    return {
        "client_tally": client_all,
        "client_tally_finished_rounds": client_finished,
        "recorded_guesses_of_those_rounds": certain_guess_points,
        "score_entries_of_those_rounds": certain_entry_points,
        "rounds_with_an_unanswered_request": len(rounds) - len(certain),
        "recorded_guesses": guess_points,
        "rounds": round_points,
        "score_entries": entry_points,
        "players_totals": player_points,
        "board_pages_sum": board_points,
        "board_rows": board_rows,
        "board_pages": pages,
        "rounds_played_by_clients": len(rounds),
        "rounds_finished_in_db": finished_rounds,
        "points_mismatch": mismatch,
    }


def unacknowledged_guesses(rounds: list[RoundLedger]) -> int:
    """Guesses a client saw revealed that the database does not hold (must be 0)."""
    from django.db import close_old_connections

    from kascade_game.models import Guess

    close_old_connections()
    wanted = {
        (ledger.public_id, position): choice
        for ledger in rounds
        for position, choice in ledger.guesses.items()
    }
    public_ids = {public_id for public_id, _ in wanted}
    stored = {
        (public_id, position): choice
        for public_id, position, choice in Guess.objects.filter(
            card__round__public_id__in=public_ids
        ).values_list("card__round__public_id", "card__position", "choice")
    }
    return sum(1 for key, choice in wanted.items() if stored.get(key) != choice)


async def fault_redis_down(stack: Stack, recorder: Recorder, *, players: int) -> dict:
    import httpx

    log("fault: Redis stopped during play")
    result: dict = {}
    five_before = len(recorder.five_xx)
    recorder.budget += (players + 5) * 40
    errors_before = len(recorder.errors)
    stack.redis.stop()
    stopped = time.monotonic()
    elapsed = await run_players(
        stack.base_url,
        recorder,
        players=players,
        user_agent="lt-redis-down",
        seed=41,
        think=(0.0, 0.0),
        timeout_s=180,
    )
    async with new_client(stack.base_url, "lt-redis-down") as client:
        board = await client.get("/leaderboard/")
        ready = await client.get("/readyz")
    down_rounds = [ledger for ledger in recorder.rounds[-players:] if ledger.finished]
    result.update(
        {
            "players_while_down": players,
            "rounds_finished_while_down": len(down_rounds),
            "seconds_while_down": round(elapsed, 2),
            "five_xx_while_down": len(recorder.five_xx) - five_before,
            "board_status_while_down": board.status_code,
            "board_rows_while_down": board.text.count("data-leaderboard-row"),
            "readyz_while_down": ready.status_code,
            "other_errors_while_down": recorder.errors[errors_before:][:5],
        }
    )
    stack.redis.start()
    restarted = time.monotonic()
    recovered = None
    async with new_client(stack.base_url, "lt-redis-back") as client:
        while time.monotonic() - restarted < 60:
            if (await client.get("/readyz")).status_code == 200:
                recovered = time.monotonic() - restarted
                break
            await asyncio.sleep(0.1)
    five_mid = len(recorder.five_xx)
    await run_players(
        stack.base_url,
        recorder,
        players=5,
        user_agent="lt-redis-back",
        seed=43,
        think=(0.0, 0.0),
        timeout_s=120,
    )
    import redis as redis_client

    keys_after = redis_client.Redis.from_url(stack.redis.url).dbsize()
    result.update(
        {
            "redis_down_s": round(restarted - stopped, 2),
            "readyz_recovered_s": round(recovered, 2) if recovered is not None else None,
            "five_xx_after_return": len(recorder.five_xx) - five_mid,
            "cache_keys_after_return": keys_after,
        }
    )
    with httpx.Client(base_url=stack.base_url) as client:
        result["readyz_after"] = client.get("/readyz").status_code
    result["pass"] = bool(
        result["five_xx_while_down"] == 0
        and result["rounds_finished_while_down"] == players
        and result["board_status_while_down"] == 200
        and result["board_rows_while_down"] > 0
        and result["readyz_recovered_s"] is not None
        and result["five_xx_after_return"] == 0
        and result["cache_keys_after_return"] > 0
    )
    log(f"fault redis: {result}")
    return result


async def fault_postgres_restart(stack: Stack, *, players: int) -> dict:
    log("fault: PostgreSQL restarted during play")
    recorder = Recorder(budget=100_000)
    stop = asyncio.Event()

    async def keep_playing(index: int) -> None:
        rng = random.Random(100 + index)
        async with new_client(stack.base_url, "lt-pg") as client:
            while not stop.is_set():
                try:
                    await play_solo_round(client, recorder, rng=rng, think=(0.0, 0.05))
                except Exception as error:  # during the outage; the player starts again
                    recorder.errors.append(f"{error.__class__.__name__}: {error}")
                    await asyncio.sleep(0.2)

    # A probe player with a round started before the restart.
    probe = new_client(stack.base_url, "lt-pg-probe")
    probe_round, _ = await start_round(probe, recorder)
    tasks = [asyncio.ensure_future(keep_playing(index)) for index in range(players)]
    await asyncio.sleep(4)
    restart_started = time.monotonic()
    await asyncio.to_thread(stack.postgres.stop, "fast")
    await asyncio.to_thread(stack.postgres.start)
    postgres_up = time.monotonic()
    recovered = None
    while time.monotonic() - postgres_up < 60:
        response = await probe.get(f"/play/r/{probe_round}/card/0/", headers=HTMX)
        if response.status_code == 200:
            recovered = time.monotonic() - postgres_up
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(5)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await probe.aclose()
    late = [moment for moment, _ in recorder.five_xx if moment > postgres_up]
    last_error_after_up = round(max(late) - postgres_up, 2) if late else 0.0
    lost = await asyncio.to_thread(unacknowledged_guesses, recorder.rounds)
    acknowledged = sum(len(ledger.guesses) for ledger in recorder.rounds)
    result = {
        "players": players,
        "restart_s": round(postgres_up - restart_started, 2),
        "web_recovered_s": round(recovered, 2) if recovered is not None else None,
        "last_5xx_after_postgres_up_s": last_error_after_up,
        "five_xx_during_outage": len(recorder.five_xx) - len(late),
        "five_xx_after_postgres_up": len(late),
        "guesses_acknowledged": acknowledged,
        "guesses_lost": lost,
        "requests": recorder.requests,
    }
    result["pass"] = bool(
        recovered is not None
        and recovered <= TARGETS["postgres_recovery_s"]
        and last_error_after_up <= TARGETS["postgres_recovery_s"]
        and lost == 0
        and acknowledged > 0
    )
    log(f"fault postgres: {result}")
    return result, recorder.rounds


def fault_celery_kill(stack: Stack, *, showers: int) -> dict:
    log("fault: Celery worker SIGKILLed during a precompute")
    from django.db import close_old_connections, connection

    from classify.datasets import DatasetSpec, create_simulated_dataset
    from classify.hadronic_models import HADRONIC_MODELS
    from classify.models import Dataset, PrecomputeBatch, Prediction
    from classify.services import start_precompute_many

    close_old_connections()
    spec = DatasetSpec(
        name="loadtest-worker-kill",
        purpose=Dataset.Purpose.EXPLORE,
        hadronic_models=tuple(HADRONIC_MODELS),
        showers=showers,
        seed=4242,
        description="Simulated by make loadtest for the worker-kill fault.",
    )
    dataset = create_simulated_dataset(spec, replace=True)
    started = time.monotonic()
    batches = start_precompute_many(
        dataset_id=dataset.id, hadronic_models=list(HADRONIC_MODELS), chunk_size=1000, eager=False
    )
    total = showers * len(batches)

    def done() -> int:
        """Rows written so far, counted in the table (not from the batches' progress)."""
        return Prediction.objects.filter(shower__dataset=dataset).count()

    deadline = time.monotonic() + 120
    while done() < total * 0.15 and time.monotonic() < deadline:
        time.sleep(0.1)
    done_at_kill = done()
    os.killpg(stack.worker.pid, signal.SIGKILL)
    stack.worker.process.wait(timeout=30)
    killed = time.monotonic()
    time.sleep(1.0)
    stack.start_worker()
    deadline = time.monotonic() + 300
    finished = None
    while time.monotonic() < deadline:
        statuses = set(
            PrecomputeBatch.objects.filter(id__in=[b.id for b in batches]).values_list(
                "status", flat=True
            )
        )
        if statuses == {PrecomputeBatch.Status.DONE} and done() == total:
            finished = time.monotonic()
            break
        time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM (SELECT p.shower_id, p.hadronic_model, p.model_version "
            f"FROM {Prediction._meta.db_table} p JOIN classify_shower s ON s.id = p.shower_id "
            f"WHERE s.dataset_id = %s GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) d",
            [dataset.id],
        )
        duplicates = cursor.fetchone()[0]
    rows = done()
    result = {
        "showers": showers,
        "batches": len(batches),
        "rows_expected": total,
        "rows_done_at_kill": done_at_kill,
        "rows_after": rows,
        "duplicate_rows": duplicates,
        "killed_after_s": round(killed - started, 2),
        "completed_after_restart_s": round(finished - killed, 2) if finished else None,
    }
    result["pass"] = bool(
        finished is not None and rows == total and duplicates == 0 and done_at_kill < total
    )
    log(f"fault celery: {result}")
    return result


def endpoint_table(recorder: Recorder, server: dict[str, list[float]]) -> dict:
    table = {}
    for endpoint in sorted(set(recorder.samples) | set(server)):
        client = latency_summary(recorder.samples.get(endpoint, []))
        on_server = latency_summary(server.get(endpoint, []))
        table[endpoint] = {
            "count": client["count"],
            "client_p50_ms": client["p50_ms"],
            "client_p95_ms": client["p95_ms"],
            "client_p99_ms": client["p99_ms"],
            "server_p50_ms": on_server["p50_ms"],
            "server_p95_ms": on_server["p95_ms"],
            "server_p99_ms": on_server["p99_ms"],
        }
    return table


def print_report(results: dict) -> None:
    rows = [("endpoint", "n", "p50 c", "p95 c", "p99 c", "p50 s", "p95 s", "p99 s")]
    for name, entry in results.get("endpoints", {}).items():
        rows.append(
            (
                name,
                str(entry["count"]),
                *(
                    "-" if entry[key] is None else f"{entry[key]:.1f}"
                    for key in (
                        "client_p50_ms",
                        "client_p95_ms",
                        "client_p99_ms",
                        "server_p50_ms",
                        "server_p95_ms",
                        "server_p99_ms",
                    )
                ),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    print("\nload phase, per endpoint (ms; c = client, s = server from gunicorn's log)")
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    throughput = results.get("throughput", {})
    healthz_runs, guess_runs = throughput.get("healthz_runs", []), throughput.get("guess_runs", [])
    floors = {kind: results[kind] for kind in FLOORS if kind in results}
    phases = [("healthz", run) for run in healthz_runs[:1]]
    for index, (guess, healthz) in enumerate(zip(guess_runs, healthz_runs[1:], strict=False)):
        phases.append(("guesses", guess))
        for kind, result in floors.items():
            if index < len(result["runs"]):
                phases.append((kind.replace("_", " "), result["runs"][index]))
        phases.append(("healthz", healthz))
    if phases:
        parts = ("web", "postgres", "redis", "load_generator", "machine")
        print("\nthroughput runs, CPU ms per request (machine = every process and the kernel)")
        print(f"{'run':13}{'req/s':>9}" + "".join(f"{part:>16}" for part in parts))
        for name, phase in phases:
            cpu = phase.get("cpu_ms_per_request", {})
            print(
                f"{name:13}{phase.get('requests_per_s', 0):>9}"
                + "".join(f"{cpu.get(part, '-'):>16}" for part in parts)
            )
        print(
            f"ratio of each guess run to the /healthz runs around it: {throughput['block_ratios']}"
        )
        for kind, result in floors.items():
            errors = sum(run["errors"] for run in result["runs"])
            print(
                f"{FLOOR_LABELS[kind]}: ratios {result['block_ratios']}, median "
                f"{result['ratio_vs_healthz']}; {result['rate_vs_guess']}x the game's "
                "guesses per second"
                + (f"; {errors} clients stopped by an error, see error_samples" if errors else "")
            )
        if "floor_check" in results:
            check = results["floor_check"]
            print(
                "the floors recorded what they acknowledged: "
                f"{'yes' if not check['mismatch'] else 'NO'} ({check['recorded']})"
            )
    print()
    for key, target in results["targets"].items():
        print(
            f"{key:32} {str(results['checks'][key]['value']):>12}  target {target['target']:>14}  {'yes' if target['met'] else 'NO'}"
        )
    for name, fault in results.get("faults", {}).items():
        print(f"fault {name:26} {'pass' if fault.get('pass') else 'FAIL'}")
    fsync = results.get("machine", {}).get("fdatasync_ms")
    if fsync:
        print(
            f"\nfdatasync of 8 kB (ms): median {fsync['p50']}, p99 {fsync['p99']}, "
            f"worst {fsync['max']}, {fsync['over_100']} of {fsync['samples']} over 100 ms"
        )
    print(f"\nresults: {results['output']}")


def evaluate(results: dict) -> None:
    for key in ("players", "errors_5xx", "points_mismatch", "guess_p95_ms"):
        results.setdefault(key, None)
    results.setdefault("server_guess_p95_ms", None)
    results.setdefault("throughput_ratio_vs_healthz", None)
    checks = {
        "players": {
            "value": results.get("players_finished"),
            "target": f"{TARGETS['players']} rounds finished",
        },
        "errors_5xx": {
            "value": f"{results['errors_5xx']} (+{results.get('errors_other') or 0} other)",
            "target": "0",
        },
        "points_mismatch": {"value": results["points_mismatch"], "target": "0"},
        "guess_p95_ms": {"value": results["guess_p95_ms"], "target": "≤ 50 ms (client)"},
        "server_guess_p95_ms": {"value": results["server_guess_p95_ms"], "target": "≤ 50 ms"},
        "throughput_ratio_vs_healthz": {
            "value": results["throughput_ratio_vs_healthz"],
            "target": "≥ 0.5",
        },
    }
    met = {
        # Every player must have finished the round, not only started it.
        "players": (results.get("players_finished") or 0) >= TARGETS["players"],
        "errors_5xx": results["errors_5xx"] == 0 and not results.get("errors_other"),
        "points_mismatch": results["points_mismatch"] == 0,
        "guess_p95_ms": (results["guess_p95_ms"] or 1e9) <= TARGETS["guess_p95_ms"],
        "server_guess_p95_ms": (results["server_guess_p95_ms"] or 1e9) <= TARGETS["guess_p95_ms"],
        "throughput_ratio_vs_healthz": (results["throughput_ratio_vs_healthz"] or 0)
        >= TARGETS["throughput_ratio_vs_healthz"],
    }
    results["checks"] = checks
    results["targets"] = {key: {"target": checks[key]["target"], "met": met[key]} for key in checks}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--players", type=int, default=200)
    parser.add_argument(
        "--think",
        default="3,8",
        help="seconds a player pauses before each guess and after each reveal (min,max)",
    )
    parser.add_argument("--stagger", type=float, default=3.0, help="players join within (s)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--timeout", type=float, default=600.0, help="time cap of the load phase")
    parser.add_argument("--throughput-clients", type=int, default=8)
    parser.add_argument(
        "--healthz-requests", type=int, default=2000, help="requests per /healthz run"
    )
    parser.add_argument(
        "--guess-rounds", type=int, default=4, help="rounds per client in each guess run"
    )
    parser.add_argument(
        "--throughput-blocks", type=int, default=3, help="guess runs between /healthz runs"
    )
    parser.add_argument("--skip-faults", action="store_true")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="serve the game alone, without the floors' guess runs (benchmarks/floor.py)",
    )
    parser.add_argument("--kill-showers", type=int, default=20_000)
    parser.add_argument("--output", default=str(infra.BENCH_DIR / "loadtest.json"))
    return parser.parse_args(argv)


async def load_and_throughput(stack: Stack, args, think) -> tuple[dict, Recorder]:
    results: dict = {}
    warm = Recorder(budget=2_000)
    await run_players(
        stack.base_url,
        warm,
        players=8,
        user_agent="lt-warm",
        seed=1,
        think=(0.0, 0.0),
        timeout_s=120,
    )
    log(f"warm-up: {warm.requests} requests, errors {warm.errors[:3]}")
    # The machine's speed drifts within seconds (a /healthz run may give 1,100 req/s
    # and the next one 800), so /healthz and guess runs alternate, and each guess
    # run is compared with the mean of the /healthz runs just before and after it.
    saturation = Recorder(budget=100_000)
    rng = random.Random(5)
    players = await start_guess_rounds(
        stack.base_url,
        saturation,
        clients=args.throughput_clients,
        rounds_each=args.guess_rounds * args.throughput_blocks,
    )
    floors = FLOORS if stack.floor else {}
    floor_players: dict[str, list] = {}
    if floors:
        # The floors answer with the bytes of a real reveal, so the load generator
        # reads the same response from each.
        client = players[0][0]
        sample = RoundLedger((await start_round(client, saturation))[0])
        saturation.rounds.append(sample)  # one guess, counted in the points check
        floor.save_response(
            stack.floor_response, await post_guess(client, saturation, sample, 0, "Fe")
        )
        rounds_each = args.guess_rounds * args.throughput_blocks
        for kind in floors:
            ids = floor.create_rounds(stack.postgres.url, len(players) * rounds_each)
            floor_players[kind] = [
                (
                    client,
                    [
                        RoundLedger(public_id)
                        for public_id in ids[i * rounds_each : (i + 1) * rounds_each]
                    ],
                )
                for i, (client, _) in enumerate(players)
            ]

    async def healthz_run() -> dict:
        return await healthz_throughput(
            stack.base_url,
            clients=args.throughput_clients,
            total=args.healthz_requests,
            cpu=stack.cpu_snapshot,
        )

    healthz_runs, guess_runs = [await healthz_run()], []
    floor_runs: dict[str, list[dict]] = {kind: [] for kind in floors}
    for _ in range(args.throughput_blocks):
        guess_runs.append(
            await guess_block(
                players, saturation, rounds=args.guess_rounds, rng=rng, cpu=stack.cpu_snapshot
            )
        )
        for kind in floors:
            floor_runs[kind].append(
                await guess_block(
                    floor_players[kind],
                    saturation,
                    rounds=args.guess_rounds,
                    rng=rng,
                    cpu=stack.cpu_snapshot,
                    post=functools.partial(post_floor_guess, kind=kind),
                    endpoint=kind,
                )
            )
        healthz_runs.append(await healthz_run())
    for client, _ in players:
        await client.aclose()

    def ratios(runs: list[dict]) -> list[float]:
        return [
            round(
                run["requests_per_s"]
                / statistics.mean(
                    [
                        healthz_runs[index]["requests_per_s"],
                        healthz_runs[index + 1]["requests_per_s"],
                    ]
                ),
                3,
            )
            for index, run in enumerate(runs)
        ]

    block_ratios = ratios(guess_runs)
    guesses = sum(run["requests"] for run in guess_runs)
    results["throughput"] = {
        "method": (
            f"{args.throughput_clients} clients without pauses; /healthz runs of "
            f"{args.healthz_requests} requests alternating with {args.throughput_blocks} runs "
            f"of guesses ({args.guess_rounds} rounds per client each, on rounds started "
            "beforehand); the ratio is the median over the guess runs of each run's rate "
            "over the mean of the /healthz runs before and after it"
        ),
        "healthz_runs": healthz_runs,
        "guess_runs": guess_runs,
        "block_ratios": block_ratios,
        "healthz_requests_per_s": round(
            statistics.mean(run["requests_per_s"] for run in healthz_runs), 1
        ),
        "guess_requests_per_s": round(guesses / sum(run["seconds"] for run in guess_runs), 1),
        "guess_errors": sum(run["errors"] for run in guess_runs),
        "resent_after_a_closed_connection": saturation.resent,
    }
    results["throughput_ratio_vs_healthz"] = statistics.median(block_ratios)
    for kind, runs in floor_runs.items():
        results[kind] = {
            "method": (
                f"the same clients and requests against {FLOOR_LABELS[kind]} "
                "(benchmarks/floor.py), right after each guess run: one PostgreSQL "
                "transaction (lock the round, insert the guess, add to the round) "
                "answered with a real reveal's bytes"
            ),
            "runs": runs,
            "block_ratios": ratios(runs),
            "ratio_vs_healthz": statistics.median(ratios(runs)),
            "rate_vs_guess": round(
                statistics.median(
                    run["requests_per_s"] / guess_run["requests_per_s"]
                    for run, guess_run in zip(runs, guess_runs, strict=True)
                ),
                2,
            ),
        }
    if floors:
        ledgers = [
            ledger
            for kind in floors
            for _, kind_ledgers in floor_players[kind]
            for ledger in kind_ledgers
        ]
        recorded = floor.totals(stack.postgres.url)
        sent = {
            "guesses": sum(len(ledger.guesses) for ledger in ledgers),
            "points": sum(ledger.score for ledger in ledgers),
        }
        results["floor_check"] = {
            "recorded": recorded,
            "acknowledged": sent,
            "mismatch": int(
                recorded["guesses"] != sent["guesses"]
                or recorded["rounds_answered"] != sent["guesses"]
                or recorded["guess_points"] != sent["points"]
                or recorded["round_points"] != sent["points"]
            ),
        }
    log(
        "throughput: /healthz "
        f"{[run['requests_per_s'] for run in healthz_runs]} req/s, guesses "
        f"{[run['requests_per_s'] for run in guess_runs]} req/s, ratios {block_ratios}"
        + "".join(
            f"; {kind} {[run['requests_per_s'] for run in runs]} req/s, "
            f"ratios {results[kind]['block_ratios']}"
            for kind, runs in floor_runs.items()
        )
    )

    load = Recorder(budget=args.players * 40)
    log(f"load: {args.players} players, think {think} s")
    elapsed = await run_players(
        stack.base_url,
        load,
        players=args.players,
        user_agent="lt-load",
        seed=2,
        think=think,
        timeout_s=args.timeout,
        stagger_s=args.stagger,
    )
    results["load"] = {
        "seconds": round(elapsed, 2),
        "requests": load.requests,
        "requests_per_s": round(load.requests / elapsed, 1),
        "guesses_per_s": round(len(load.samples["guess"]) / elapsed, 1),
        "rounds_finished": sum(ledger.finished for ledger in load.rounds),
        "statuses": {str(code): count for code, count in sorted(load.statuses.items())},
        "error_samples": load.errors[:10],
        "transport_errors": load.transport_errors,
        "resent_after_a_closed_connection": load.resent,
    }
    log(f"load: {results['load']}")
    # Everything the clients played so far counts in the points check.
    load.rounds = warm.rounds + saturation.rounds + load.rounds
    load.five_xx += warm.five_xx + saturation.five_xx
    return results, load


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    think = tuple(float(value) for value in args.think.split(","))
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    infra.BENCH_DIR.mkdir(exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="kascade-loadtest-"))
    stack = Stack(root, infra.BENCH_DIR, args.workers, floor=not args.no_floor)
    results: dict = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": [round(value, 2) for value in os.getloadavg()],
        },
        "config": {
            "players": args.players,
            "think_s": list(think),
            "stagger_s": args.stagger,
            "gunicorn": f"{args.workers} workers (gunicorn.conf.py: gthread, {os.environ.get('GUNICORN_THREADS', '1')} thread(s)), DEBUG=false",
            "celery": "1 worker, --concurrency=2",
            "services": "private PostgreSQL 15 cluster and redis-server on free ports",
        },
    }
    # The disk the private PostgreSQL writes its WAL to: every commit waits for one
    # fdatasync, and a stall there holds every guess being recorded at that moment.
    results["machine"]["fdatasync_ms"] = infra.fdatasync_latency(root, seconds=10.0)
    log(f"fdatasync of 8 kB in {root}: {results['machine']['fdatasync_ms']}")
    started = time.perf_counter()
    try:
        run_phases(stack, args, think, results)
    except Exception:
        import traceback

        results["error"] = traceback.format_exc()
        log(f"the run stopped early:\n{results['error']}")
    finally:
        results["seconds"] = round(time.perf_counter() - started, 1)
        stack.stop()
    evaluate(results)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    results["output"] = str(output)
    output.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print_report(results)
    failed = [key for key, value in results["targets"].items() if not value["met"]]
    failed += [
        f"fault {key}" for key, value in results.get("faults", {}).items() if not value["pass"]
    ]
    if failed:
        log(f"targets missed: {', '.join(failed)}")
    return 1 if "error" in results else 0


def run_phases(stack: Stack, args, think, results: dict) -> None:
    stack.start_services()
    log(f"private PostgreSQL on {stack.postgres.port}, Redis on {stack.redis.port}")
    manage_log = infra.BENCH_DIR / "loadtest-manage.log"
    seconds = infra.manage("migrate", "--noinput", "-v", "0", log=manage_log)
    setup_s = infra.manage("setup_defaults", log=manage_log)
    results["setup_s"] = round(seconds + setup_s, 1)
    log(f"migrated and loaded the default data ({results['setup_s']} s)")
    import django

    django.setup()
    if stack.floor:
        floor.create_tables(stack.postgres.url)
    stack.start_web()
    stack.start_worker()
    log(f"gunicorn on {stack.base_url}, celery worker ready")

    phase, load = asyncio.run(load_and_throughput(stack, args, think))
    results.update(phase)
    server = server_times(stack.web.log_path, {"lt-load"})
    results["endpoints"] = endpoint_table(load, server)
    results["players"] = args.players if results["load"]["rounds_finished"] else 0
    results["players_finished"] = results["load"]["rounds_finished"]
    results["requests"] = load.requests
    results["errors_5xx"] = len(load.five_xx)
    results["errors_other"] = len(load.errors)
    results["card_p95_ms"] = results["endpoints"].get("card", {}).get("client_p95_ms")
    results["guess_p95_ms"] = results["endpoints"].get("guess", {}).get("client_p95_ms")
    results["server_card_p95_ms"] = results["endpoints"].get("card", {}).get("server_p95_ms")
    results["server_guess_p95_ms"] = results["endpoints"].get("guess", {}).get("server_p95_ms")
    results["points"] = points_check(stack.base_url, load.rounds)
    results["points_mismatch"] = results["points"]["points_mismatch"]
    log(f"points: {results['points']}")

    if not args.skip_faults:
        faults = results["faults"] = {}
        faults["redis_down"] = asyncio.run(fault_redis_down(stack, load, players=20))
        faults["postgres_restart"], pg_rounds = asyncio.run(
            fault_postgres_restart(stack, players=10)
        )
        stack.ensure_worker()
        faults["celery_worker_killed"] = fault_celery_kill(stack, showers=args.kill_showers)
        results["points_after_faults"] = points_check(stack.base_url, load.rounds + pg_rounds)
        # Rounds cut by the PostgreSQL restart stay unfinished: their guesses count,
        # and no finished round may differ between clients, database and board.
        faults["postgres_restart"]["points_mismatch_after"] = results["points_after_faults"][
            "points_mismatch"
        ]


if __name__ == "__main__":
    sys.exit(main())
