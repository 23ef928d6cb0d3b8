"""Concurrent players against a running server: a full solo round each, over HTTP.

Each player: GET /play/, POST /play/new/ (CSRF from the csrftoken cookie;
redirects followed to the full card page), then for each card an htmx GET
of the card and an htmx POST of a guess. Latency is measured at the client
(on 127.0.0.1 an upper bound of the server's time, since it adds the client's
own scheduling and the wait in gunicorn's accept queue); the server's own
time per request comes from gunicorn's access log (%(D)s) and is parsed by
`server_times`.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from . import infra

GROUPS = ("p", "He", "C", "Si", "Fe")
CARD_PATH = re.compile(r"^/play/r/(?P<round>[^/]+)/card/(?P<position>\d+)/$")
GUESS_PATH = re.compile(r"^/play/r/[^/]+/card/\d+/guess/$")


@dataclass
class PlayerStats:
    card_ms: list[float] = field(default_factory=list)
    card_full_ms: list[float] = field(default_factory=list)
    guess_ms: list[float] = field(default_factory=list)
    other_ms: list[float] = field(default_factory=list)
    card_page_bytes: list[int] = field(default_factory=list)
    card_partial_bytes: list[int] = field(default_factory=list)
    guess_bytes: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    rounds_finished: int = 0


class RequestBudget:
    def __init__(self, limit: int) -> None:
        self.left = limit

    def take(self) -> None:
        if self.left <= 0:
            raise RuntimeError("request budget exhausted")
        self.left -= 1


async def _timed(client, stats: PlayerStats, budget: RequestBudget, method: str, url: str, **kw):
    budget.take()
    started = time.perf_counter()
    response = await client.request(method, url, **kw)
    elapsed_ms = (time.perf_counter() - started) * 1000
    stats.requests += 1 + len(response.history)
    stats.statuses[response.status_code] = stats.statuses.get(response.status_code, 0) + 1
    return response, elapsed_ms


async def play_round(
    base_url: str,
    *,
    stats: PlayerStats,
    budget: RequestBudget,
    rng: random.Random,
    user_agent: str,
    max_cards: int = 10,
) -> None:
    headers = {"User-Agent": user_agent}
    async with httpx.AsyncClient(
        base_url=base_url,
        headers=headers,
        timeout=30.0,
        follow_redirects=False,
        verify=infra.shared_tls_context(),
    ) as client:
        response, ms = await _timed(client, stats, budget, "GET", "/play/")
        stats.other_ms.append(ms)
        if response.status_code != 200:
            stats.errors.append(f"GET /play/ -> {response.status_code}")
            return
        token = client.cookies.get("csrftoken")
        if not token:
            stats.errors.append("no csrftoken cookie after GET /play/")
            return
        response, ms = await _timed(
            client,
            stats,
            budget,
            "POST",
            "/play/new/",
            data={"csrfmiddlewaretoken": token},
            headers={"X-CSRFToken": token},
        )
        stats.other_ms.append(ms)
        # Follow /play/new/ -> /play/r/<id>/card/0/ by hand, so the full card
        # page's own latency and size are recorded.
        hops = 0
        while response.status_code in (301, 302, 303) and hops < 4:
            hops += 1
            location = response.headers["location"]
            response, ms = await _timed(client, stats, budget, "GET", location)
            path = httpx.URL(location).path
            if CARD_PATH.match(path) and response.status_code == 200:
                stats.card_page_bytes.append(len(response.content))
                stats.card_full_ms.append(ms)
            else:
                stats.other_ms.append(ms)
        match = CARD_PATH.match(response.url.path)
        if response.status_code != 200 or match is None:
            stats.errors.append(f"new round ended at {response.url.path} ({response.status_code})")
            return
        round_id = match["round"]
        htmx = {"HX-Request": "true"}
        for position in range(max_cards):
            card_url = f"/play/r/{round_id}/card/{position}/"
            response, ms = await _timed(client, stats, budget, "GET", card_url, headers=htmx)
            if response.status_code != 200 or "data-guess" not in response.text:
                stats.errors.append(f"GET {card_url} -> {response.status_code}")
                return
            stats.card_ms.append(ms)
            stats.card_partial_bytes.append(len(response.content))
            token = client.cookies.get("csrftoken") or token
            response, ms = await _timed(
                client,
                stats,
                budget,
                "POST",
                f"{card_url}guess/",
                data={"choice": rng.choice(GROUPS)},
                headers={**htmx, "X-CSRFToken": token},
            )
            if response.status_code != 200 or "data-reveal" not in response.text:
                stats.errors.append(f"POST {card_url}guess/ -> {response.status_code}")
                return
            stats.guess_ms.append(ms)
            stats.guess_bytes.append(len(response.content))
        response, ms = await _timed(client, stats, budget, "GET", f"/play/r/{round_id}/summary/")
        stats.other_ms.append(ms)
        if response.status_code == 200:
            stats.rounds_finished += 1
        else:
            stats.errors.append(f"summary -> {response.status_code}")


async def run_players(
    base_url: str,
    *,
    players: int,
    user_agent: str,
    seed: int,
    max_requests: int,
    timeout_s: float,
    max_cards: int = 10,
) -> tuple[PlayerStats, float]:
    stats = PlayerStats()
    budget = RequestBudget(max_requests)
    rng = random.Random(seed)

    async def one(index: int) -> None:
        try:
            await play_round(
                base_url,
                stats=stats,
                budget=budget,
                rng=random.Random(rng.random() + index),
                user_agent=user_agent,
                max_cards=max_cards,
            )
        except Exception as error:  # recorded, counted as an error; the others go on
            stats.errors.append(f"player {index}: {error.__class__.__name__}: {error}")

    started = time.perf_counter()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(one(index) for index in range(players))), timeout=timeout_s
        )
    except TimeoutError:
        stats.errors.append(f"time cap of {timeout_s}s reached")
    return stats, time.perf_counter() - started


def server_times(log_path: Path, user_agent: str) -> dict[str, list[float]]:
    """Per-request server time (ms, gunicorn's %(D)s) of one user agent, by kind of request."""
    times: dict[str, list[float]] = {"card": [], "card_full": [], "guess": []}
    for line in log_path.read_text(errors="replace").splitlines():
        if not line.startswith("BENCH|"):
            continue
        parts = line.split("|")
        if len(parts) != 8 or parts[1] != user_agent:
            continue
        _, _, method, path, hx, status, _, micros = parts
        if status != "200":
            continue
        ms = int(micros) / 1000
        if method == "GET" and CARD_PATH.match(path):
            times["card" if hx == "true" else "card_full"].append(ms)
        elif method == "POST" and GUESS_PATH.match(path):
            times["guess"].append(ms)
    return times
