"""A class in a school room, over HTTP: STUDENTS join with the code, the teacher
starts, and for every card all students post their guess at the same moment.

Reported: the guesses' client latency (p50/p95) and the server's own time from
gunicorn's access log; errors; and whether the room's board adds up exactly
(the sum of the board = the sum of the recorded guesses = what the clients saw).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx

from . import infra

GROUPS = ("p", "He", "C", "Si", "Fe")
SCORE = re.compile(r'data-score="(-?\d+)"')
ROOM_GUESS_PATH = re.compile(r"^/play/r/[^/]+/card/\d+/guess/$")


async def _join(client: httpx.AsyncClient, code: str, nickname: str) -> str:
    await client.get("/rooms/join/")
    token = client.cookies.get("csrftoken")
    response = await client.post(
        "/rooms/join/",
        data={"code": code, "nickname": nickname, "csrfmiddlewaretoken": token},
        headers={"X-CSRFToken": token},
    )
    if response.status_code != 302:
        raise RuntimeError(f"join {nickname}: {response.status_code}")
    lobby = await client.get(response.headers["location"])
    match = re.search(r'data-round="([^"]+)"', lobby.text)
    if match is None:
        raise RuntimeError(f"join {nickname}: no round link in the lobby")
    return match.group(1)


async def run_class(
    base_url: str, *, code: str, students: int, cards: int, user_agent: str, start
) -> dict:
    """`start` is called (in a thread) once everyone has joined: the teacher's Start."""
    clients = [
        httpx.AsyncClient(
            base_url=base_url,
            headers={"User-Agent": user_agent},
            timeout=30.0,
            verify=infra.shared_tls_context(),
        )
        for _ in range(students)
    ]
    errors: list[str] = []
    latencies: list[float] = []
    scores: dict[int, int] = {}
    try:
        rounds = await asyncio.gather(
            *(_join(client, code, f"Student {index:02d}") for index, client in enumerate(clients))
        )
        await asyncio.to_thread(start)
        htmx = {"HX-Request": "true"}
        for position in range(cards):
            await asyncio.gather(
                *(
                    client.get(f"/play/r/{round_id}/card/{position}/", headers=htmx)
                    for client, round_id in zip(clients, rounds, strict=True)
                )
            )

            async def answer(
                index: int, client: httpx.AsyncClient, round_id: str, position: int = position
            ) -> None:
                token = client.cookies.get("csrftoken")
                started = time.perf_counter()
                response = await client.post(
                    f"/play/r/{round_id}/card/{position}/guess/",
                    data={"choice": GROUPS[(index + position) % 5]},
                    headers={**htmx, "X-CSRFToken": token},
                )
                latencies.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    errors.append(f"guess {index}/{position}: {response.status_code}")
                    return
                match = SCORE.search(response.text)
                if match:
                    scores[index] = int(match.group(1))

            burst = time.perf_counter()
            await asyncio.gather(
                *(
                    answer(index, client, round_id)
                    for index, (client, round_id) in enumerate(zip(clients, rounds, strict=True))
                )
            )
            if time.perf_counter() - burst > 5:
                errors.append(f"card {position}: the burst took more than 5 s")
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return {"latencies_ms": latencies, "errors": errors, "client_scores": scores}


def server_guess_times(log_path: Path, user_agent: str) -> list[float]:
    times = []
    for line in log_path.read_text(errors="replace").splitlines():
        parts = line.split("|")
        if (
            len(parts) == 8
            and parts[0] == "BENCH"
            and parts[1] == user_agent
            and parts[2] == "POST"
            and ROOM_GUESS_PATH.match(parts[3])
            and parts[5] == "200"
        ):
            times.append(int(parts[7]) / 1000)
    return times


def bench(context: dict, *, prepare_services, log, percentile, students: int = 40) -> dict:
    """`make bench` section `rooms`: a class of 40 against gunicorn (4 workers) on PostgreSQL."""
    import logging

    from django.contrib.auth import get_user_model
    from django.db.models import Sum

    from kascade_game.models import Guess
    from rooms import selectors, services

    prepare_services(context)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    teacher, _ = get_user_model().objects.get_or_create(
        username="bench-teacher", defaults={"is_staff": True}
    )
    cards = 5
    room = services.create_room(teacher=teacher, name="Bench class", size=cards)
    port = infra.free_port()
    base = f"http://127.0.0.1:{port}"
    server_log = infra.BENCH_DIR / "gunicorn-rooms.log"
    server_log.unlink(missing_ok=True)
    server = infra.gunicorn(port, server_log, workers=4)
    server.start()
    try:
        infra.wait_http_ready(f"{base}/healthz", server)
        outcome = asyncio.run(
            run_class(
                base,
                code=room.code,
                students=students,
                cards=cards,
                user_agent="bench-rooms",
                start=lambda: services.control_room(room_id=room.pk, user=teacher, action="start"),
            )
        )
    finally:
        server.stop()
    rows = selectors.room_board(room)
    recorded = (
        Guess.objects.filter(card__round__room=room).aggregate(total=Sum("points"))["total"] or 0
    )
    board_total = sum(row.points for row in rows)
    client_total = sum(outcome["client_scores"].values())
    server_ms = server_guess_times(server_log, "bench-rooms")
    result = {
        "students": students,
        "cards": cards,
        "guesses": len(outcome["latencies_ms"]),
        "errors": len(outcome["errors"]),
        "error_samples": outcome["errors"][:5],
        "guess_p50_ms_client": percentile(outcome["latencies_ms"], 50),
        "guess_p95_ms_client": percentile(outcome["latencies_ms"], 95),
        "guess_p50_ms_server": percentile(server_ms, 50),
        "guess_p95_ms_server": percentile(server_ms, 95),
        "board_points": board_total,
        "recorded_points": recorded,
        "client_points": client_total,
        "board_exact": board_total == recorded == client_total,
    }
    log(
        f"rooms: {students} students x {cards} cards, guess p95 "
        f"{result['guess_p95_ms_client']} ms (client), {result['guess_p95_ms_server']} ms "
        f"(server); errors {result['errors']}; board exact: {result['board_exact']}"
    )
    return result
