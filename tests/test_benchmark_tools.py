"""The measuring tools of `make bench` and `make loadtest` measure what they claim."""

from __future__ import annotations

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from benchmarks import infra

# A parent that runs a CPU-bound child to its end, then burns CPU itself until killed.
PARENT = """
import subprocess, sys, time
burn = "import time\\nend = time.process_time() + {child_s}\\nwhile time.process_time() < end: pass"
subprocess.run([sys.executable, "-c", burn], check=True)
print("child done", flush=True)
end = time.process_time() + {parent_s}
while time.process_time() < end:
    pass
print("parent done", flush=True)
time.sleep(60)
"""


def test_a_process_trees_cpu_time_counts_the_children_that_ended():
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT.format(child_s=0.6, parent_s=0.3)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline().strip() == "child done"
        assert parent.stdout.readline().strip() == "parent done"
        time.sleep(0.05)
        assert infra.descendants(parent.pid) == []  # the child is gone
        own = infra.cpu_seconds(parent.pid)
        tree = infra.tree_cpu_seconds(parent.pid)
        # The parent's own time misses the child's 0.6 s; the tree's time has both.
        assert own < 0.6
        assert tree >= own + 0.55
    finally:
        parent.kill()
        parent.wait()


def test_the_disk_probe_reports_its_waits_and_leaves_nothing_behind(tmp_path):
    waits = infra.fdatasync_latency(tmp_path, seconds=0.3)
    assert waits["samples"] > 5
    assert 0 < waits["p50"] <= waits["p99"] <= waits["max"]
    assert list(tmp_path.iterdir()) == []


def test_the_load_generators_players_share_one_tls_context():
    """httpx loads the CA bundle into a new context for each client (40 ms of CPU
    here), which blocked the load generator's event loop while 200 players started."""
    from benchmarks import loadtest

    contexts = [
        client._transport._pool._ssl_context
        for client in (loadtest.new_client("http://127.0.0.1:9", "a") for _ in range(3))
    ]
    assert all(context is infra.shared_tls_context() for context in contexts)
    assert infra.shared_tls_context().verify_mode.name == "CERT_REQUIRED"


def _load_generator_against(serve, requests):
    """Run `requests(recorder, client)` from one of the load generator's clients against
    a server on 127.0.0.1 answering with `serve(reader, writer)`: (recorder, its result)."""
    import asyncio

    from benchmarks import loadtest

    async def play():
        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        recorder = loadtest.Recorder(budget=10)
        async with loadtest.new_client(f"http://127.0.0.1:{port}", "lt-test") as client:
            result = await requests(recorder, client)
        server.close()
        return recorder, result

    # A thread of its own: the browser tests' Playwright keeps an event loop running
    # in the main thread for the whole session.
    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(asyncio.run, play()).result(timeout=30)


def test_the_load_generator_resends_once_when_the_server_closed_a_kept_alive_connection():
    """Like a browser: a request on a reused connection that the server closed unanswered
    goes out once more on a new connection, and is counted."""

    answer = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"
    connections = []

    async def serve(reader, writer):
        connections.append(writer)
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer)
        await writer.drain()
        if len(connections) == 1:
            # The first connection: the next request on it is read and dropped unanswered.
            await reader.readuntil(b"\r\n\r\n")
        else:
            await reader.read()  # the client's new connection stays open until it is done
        writer.close()

    async def requests(recorder, client):
        first = await recorder.request(client, "x", "GET", "/a")
        second = await recorder.request(client, "x", "POST", "/b", data={"choice": "Fe"})
        return first, second

    recorder, (first, second) = _load_generator_against(serve, requests)
    assert first.status_code == second.status_code == 200
    assert recorder.resent == 1 and recorder.transport_errors == 0
    assert len(connections) == 2


def test_the_load_generators_requests_import_nothing():
    """httpcore asks for sniffio on every request. Without it installed, each request
    searched sys.path for it four times: a fifth of the load generator's CPU per
    request (docs/benchmarks.md, stop 25)."""
    import asyncio

    searched = []

    class Searches:
        """A finder that finds nothing and notes every module looked for."""

        def find_spec(self, name, path=None, target=None):
            searched.append(name)

    async def serve(reader, writer):
        try:
            while True:
                await reader.readuntil(b"\r\n\r\n")
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except asyncio.IncompleteReadError:  # the client closed its connection
            writer.close()

    async def requests(recorder, client):
        await recorder.request(client, "x", "GET", "/healthz")  # the first one may import
        finder = Searches()
        sys.meta_path.insert(0, finder)
        try:
            for _ in range(3):
                await recorder.request(client, "x", "POST", "/g", data={"choice": "Fe"})
        finally:
            sys.meta_path.remove(finder)

    recorder, _ = _load_generator_against(serve, requests)
    assert recorder.statuses[200] == 4
    assert searched == [], f"modules looked for on every request: {sorted(set(searched))}"


def _call(
    app, method: str, path: str, body: bytes = b"", **headers: str
) -> tuple[str, dict, bytes]:
    import io

    seen = {}

    def start_response(status, headers):
        seen["status"], seen["headers"] = status, dict(headers)

    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "wsgi.url_scheme": "http",
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        **headers,
    }
    content = b"".join(app(environ, start_response))
    return seen["status"], seen["headers"], content


@pytest.mark.django_db(transaction=True)
def test_the_floors_record_each_guess_once_answer_with_the_reveal_and_pass_the_rest_on(
    tmp_path, monkeypatch
):
    """The loadtest's floors (benchmarks/floor.py) do what their figures claim: one durable
    row per guess, the saved reveal's bytes, the Django floor behind the game's CSRF
    check, and the game for every other path."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the floor runs on PostgreSQL (the services pass)")
    import httpx

    from benchmarks import floor
    from kascade_game.wsgi import application as game
    from tests.conftest import _database_url_for_worker

    url = _database_url_for_worker()
    reveal = '<section class="reveal" data-reveal>It was <strong>Fe</strong></section>'
    response_file = tmp_path / "reveal.json"
    monkeypatch.setenv(floor.RESPONSE_FILE_ENV, str(response_file))
    floor.save_response(
        response_file,
        httpx.Response(
            200,
            headers=[("Content-Type", "text/html; charset=utf-8"), ("Vary", "Cookie")],
            text=reveal,
        ),
    )
    floor.create_tables(url)
    app = floor.make_application(
        game, url, str(response_file), django_floor=floor.django_floor_handler()
    )
    try:
        first, second = floor.create_rounds(url, 2)

        status, headers, body = _call(app, "POST", f"/bench-floor/{first}/0/", b"choice=Fe")
        assert status == "200 OK"
        assert body == reveal.encode()
        assert headers["Vary"] == "Cookie" and headers["Content-Length"] == str(len(body))
        assert _call(app, "POST", f"/bench-floor/{first}/1/", b"choice=He")[0] == "200 OK"
        assert _call(app, "POST", f"/bench-floor/{second}/0/", b"choice=p")[0] == "200 OK"
        # A second guess of a card, an unknown round, a group that is none.
        assert _call(app, "POST", f"/bench-floor/{first}/0/", b"choice=p")[0] == "409 Conflict"
        assert _call(app, "POST", "/bench-floor/nope/0/", b"choice=p")[0] == "404 Not Found"
        assert _call(app, "POST", f"/bench-floor/{first}/2/", b"choice=X")[0].startswith("400")
        assert _call(app, "GET", f"/bench-floor/{first}/2/")[0].startswith("400")

        assert floor.totals(url) == {
            "guesses": 3,
            "guess_points": floor.points_for("Fe") + floor.points_for("He") + floor.points_for("p"),
            "rounds_answered": 3,
            "round_points": floor.points_for("Fe") + floor.points_for("He") + floor.points_for("p"),
        }
        # Everything else is the game's.
        status, _, body = _call(app, "GET", "/healthz")
        assert status.startswith("200") and b'"ok"' in body

        # The Django floor: the game's middleware, so a POST needs the CSRF token.
        django_path = f"/bench-floor-django/{second}/1/"
        assert _call(app, "POST", django_path, b"choice=C")[0].startswith("403")
        status, headers, _ = _call(app, "GET", "/play/")
        assert status.startswith("200")
        token = headers["Set-Cookie"].split("csrftoken=", 1)[1].split(";", 1)[0]
        csrf = {"HTTP_COOKIE": f"csrftoken={token}", "HTTP_X_CSRFTOKEN": token}
        status, headers, body = _call(app, "POST", django_path, b"choice=C", **csrf)
        assert status == "200 OK" and body == reveal.encode()
        assert "frame-ancestors" in headers["Content-Security-Policy"]  # the game's headers
        assert _call(app, "POST", django_path, b"choice=C", **csrf)[0].startswith("409")
        assert _call(app, "POST", django_path, b"choice=X", **csrf)[0].startswith("400")
        assert _call(app, "POST", "/bench-floor-django/nope/1/", b"choice=C", **csrf)[0].startswith(
            "404"
        )
        assert floor.totals(url)["guesses"] == 4
        assert floor.totals(url)["round_points"] == (
            floor.points_for("Fe")
            + floor.points_for("He")
            + floor.points_for("p")
            + floor.points_for("C")
        )
    finally:
        app.floor.close()
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS bench_floor_guess, bench_floor_round")


def test_the_benchmark_logs_keep_one_clock_when_django_sets_the_time_zone(monkeypatch):
    # Django's settings set TZ to TIME_ZONE when they load, in the middle of a run.
    monkeypatch.setenv("TZ", "Pacific/Kiritimati")  # UTC+14: never the same hour as UTC
    time.tzset()
    try:
        before = time.gmtime()
        line = infra.log_line("loadtest", "gunicorn ready")
        after = time.gmtime()
    finally:
        monkeypatch.undo()
        time.tzset()
    stamp = line.split()[1].rstrip("]")
    assert stamp.endswith("Z")
    assert stamp[:-1] in {time.strftime("%H:%M:%S", t) for t in (before, after)}
    assert line.endswith("] gunicorn ready")


def test_make_bench_judges_the_quiz_p95_on_the_server_and_only_shows_the_clients():
    from benchmarks.run import table_rows

    quiz = {"requests": 480, "errors": 0, "card_bytes": 16_000, "one_player_alone": {}}
    for kind in ("card", "guess"):
        # The client's p95 over the limit (it adds the load generator's queueing), the server's not.
        quiz |= {f"{kind}_p50_ms": 120.0, f"{kind}_p95_ms": 240.0, f"server_{kind}_p95_ms": 18.0}
    rows = {row[0]: row for row in table_rows({"quiz": quiz})}
    for kind in ("card", "guess"):
        assert rows[f"quiz {kind} p95 (client, upper bound)"][2:] == ["", ""]
        assert rows[f"quiz {kind} p95 (server, gunicorn log)"][2:] == ["≤ 30 ms", "yes"]
    quiz["server_guess_p95_ms"] = 31.0
    rows = {row[0]: row for row in table_rows({"quiz": quiz})}
    assert rows["quiz guess p95 (server, gunicorn log)"][3] == "NO"
