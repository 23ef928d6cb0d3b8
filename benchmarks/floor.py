"""The floor of a guess: the least a server can do to record one, for `make loadtest`.

The loadtest's target compares the guess with `/healthz`. This module measures
how close to that any implementation could come on the same machine: a "guess"
that only parses the form, records the guess durably in PostgreSQL in one
transaction (lock the round's row, insert the guess, add to the round; commit)
and answers with the bytes of a real reveal. No Django, no session, no CSRF
check, no template: each of those only adds to the cost.

A second floor, the Django floor, does the same work as a Django view behind
the game's whole middleware stack (probes, security, static files, sessions,
locale, CSRF, auth, messages, rate limits, htmx, CSP) on Django's own database
connection and transaction, with no session read, no template and no game
logic: the least a guess can cost in this project's Django.

The loadtest's gunicorn serves `application` below: paths under `/bench-floor/`
go to the floor, those under `/bench-floor-django/` to the game's Django with
the URLconf `benchmarks.floor_urls`, everything else to the game unchanged (two
string comparisons per request). The floors' tables live next to the game's in
the private PostgreSQL of the run and are created by `create_tables`; the game
never reads them.

    POST /bench-floor/<round>/<position>/          choice=<group>
    POST /bench-floor-django/<round>/<position>/   choice=<group>, with a CSRF token
        200 with the reveal's body (and, from the floor, its headers), 404 for an
        unknown round, 409 for a position answered already, 400 for a malformed
        request (the Django floor: 403 without a CSRF token).
"""

from __future__ import annotations

import functools
import json
import os
import secrets
from pathlib import Path
from urllib.parse import parse_qs

from classify.physics import MASS_GROUPS

PREFIX = "/bench-floor/"
DJANGO_PREFIX = "/bench-floor-django/"
RESPONSE_FILE_ENV = "KASCADE_FLOOR_RESPONSE"
# The statements the floor runs, each prepared by psycopg from its 5th run on a
# connection, as the game's are (kascade_game/settings.py).
PREPARE_THRESHOLD = 5

SCHEMA = """
CREATE TABLE IF NOT EXISTS bench_floor_round (
    id bigserial PRIMARY KEY,
    public_id text NOT NULL UNIQUE,
    points integer NOT NULL DEFAULT 0,
    answered integer NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bench_floor_guess (
    id bigserial PRIMARY KEY,
    round_id bigint NOT NULL REFERENCES bench_floor_round (id),
    position integer NOT NULL,
    choice text NOT NULL,
    points integer NOT NULL,
    created timestamptz NOT NULL DEFAULT now(),
    UNIQUE (round_id, position)
);
"""
LOCK = "SELECT id FROM bench_floor_round WHERE public_id = %s FOR UPDATE"
INSERT = (
    "INSERT INTO bench_floor_guess (round_id, position, choice, points) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (round_id, position) DO NOTHING RETURNING id"
)
ADD = "UPDATE bench_floor_round SET points = points + %s, answered = answered + 1 WHERE id = %s"
GROUPS = frozenset(MASS_GROUPS)


def _connect(url: str, **options):
    import psycopg

    return psycopg.connect(url, **options)


def create_tables(url: str) -> None:
    with _connect(url, autocommit=True) as connection:
        connection.execute(SCHEMA)


def create_rounds(url: str, count: int) -> list[str]:
    """`count` new rounds of the floor; their public ids (random, like the game's)."""
    ids = [secrets.token_urlsafe(12) for _ in range(count)]
    with _connect(url) as connection:
        with connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO bench_floor_round (public_id) VALUES (%s)", [(i,) for i in ids]
            )
    return ids


def totals(url: str) -> dict[str, int]:
    """What the floor recorded: guesses and their points, and the rounds' own sums."""
    with _connect(url) as connection:
        guesses, guess_points = connection.execute(
            "SELECT count(*), coalesce(sum(points), 0) FROM bench_floor_guess"
        ).fetchone()
        answered, round_points = connection.execute(
            "SELECT coalesce(sum(answered), 0), coalesce(sum(points), 0) FROM bench_floor_round"
        ).fetchone()
    return {
        "guesses": guesses,
        "guess_points": guess_points,
        "rounds_answered": answered,
        "round_points": round_points,
    }


def save_response(path: Path, response) -> None:
    """Keep a real reveal (an httpx response) for the floor to answer with."""
    skip = {"content-length", "date", "server", "connection", "keep-alive"}
    headers = [  # spelt as the server sent them
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in response.headers.raw
        if name.decode("latin-1").lower() not in skip
    ]
    path.write_text(json.dumps({"headers": headers, "body": response.text}))


@functools.cache
def saved_reveal(path: str) -> tuple[list[tuple[str, str]], bytes]:
    """The reveal `save_response` kept: its headers (with its length) and its body."""
    saved = json.loads(Path(path).read_text())
    body = saved["body"].encode()
    headers = [tuple(pair) for pair in saved["headers"]]
    return [*headers, ("Content-Length", str(len(body)))], body


def points_for(choice: str) -> int:
    """Some points, so the sums are checked on something (the game's scoring is not the floor)."""
    return len(choice)


class Floor:
    """One per worker process: its own connection, opened on the first request."""

    def __init__(self, url: str, response_file: str) -> None:
        self.url = url
        self.response_file = response_file
        self.connection = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _record(self, public_id: str, position: int, choice: str) -> str:
        if self.connection is None or self.connection.closed:
            self.connection = _connect(self.url, prepare_threshold=PREPARE_THRESHOLD)
        connection = self.connection
        try:
            row = connection.execute(LOCK, (public_id,)).fetchone()
            if row is None:
                connection.rollback()
                return "404 Not Found"
            inserted = connection.execute(
                INSERT, (row[0], position, choice, points_for(choice))
            ).fetchone()
            if inserted is None:
                connection.rollback()
                return "409 Conflict"
            connection.execute(ADD, (points_for(choice), row[0]))
            connection.commit()
        except Exception:
            connection.close()
            raise
        return "200 OK"

    def __call__(self, environ, start_response):
        parts = environ.get("PATH_INFO", "")[len(PREFIX) :].strip("/").split("/")
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        form = (
            parse_qs(environ["wsgi.input"].read(length).decode("latin-1"))
            if 0 <= length <= 4096
            else {}
        )
        choice = (form.get("choice") or [""])[0]
        if (
            environ.get("REQUEST_METHOD") != "POST"
            or len(parts) != 2
            or not parts[1].isdigit()
            or choice not in GROUPS
        ):
            return self._plain(start_response, "400 Bad Request", b"bad floor request\n")
        status = self._record(parts[0], int(parts[1]), choice)
        if status != "200 OK":
            return self._plain(start_response, status, status.encode() + b"\n")
        headers, body = saved_reveal(self.response_file)
        start_response(status, headers)
        return [body]

    @staticmethod
    def _plain(start_response, status: str, body: bytes):
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


def django_floor_view(request, public_id: str, position: int):
    """The floor's guess as a Django view (benchmarks.floor_urls), CSRF-checked."""
    from django.db import connection, transaction
    from django.http import HttpResponse

    if request.method != "POST":
        return HttpResponse("POST only\n", status=405, content_type="text/plain")
    choice = request.POST.get("choice", "")
    if choice not in GROUPS:
        return HttpResponse("bad floor request\n", status=400, content_type="text/plain")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(LOCK, [public_id])
        row = cursor.fetchone()
        if row is None:
            return HttpResponse("404 Not Found\n", status=404, content_type="text/plain")
        cursor.execute(INSERT, [row[0], position, choice, points_for(choice)])
        if cursor.fetchone() is None:  # nothing was written: the commit is empty
            return HttpResponse("409 Conflict\n", status=409, content_type="text/plain")
        cursor.execute(ADD, [points_for(choice), row[0]])
    # The game's middleware adds the same headers to this answer as to a reveal.
    _, body = saved_reveal(os.environ[RESPONSE_FILE_ENV])
    return HttpResponse(body, content_type="text/html; charset=utf-8")


def django_floor_handler():
    """Django's WSGI handler with the floor's URLconf (the game's settings and middleware)."""
    from django.core.handlers.wsgi import WSGIHandler

    class FloorHandler(WSGIHandler):
        def get_response(self, request):
            request.urlconf = "benchmarks.floor_urls"
            return super().get_response(request)

    return FloorHandler()


def make_application(game, url: str, response_file: str, django_floor=None):
    floor = Floor(url, response_file)

    def application(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            return floor(environ, start_response)
        if django_floor is not None and path.startswith(DJANGO_PREFIX):
            return django_floor(environ, start_response)
        return game(environ, start_response)

    application.floor = floor
    return application


@functools.cache
def _application():
    from kascade_game.wsgi import application as game

    return make_application(
        game,
        os.environ["DATABASE_URL"],
        os.environ.get(RESPONSE_FILE_ENV, ""),
        django_floor=django_floor_handler(),
    )


# gunicorn's `benchmarks.floor:application`; importing this module elsewhere (the
# loadtest, the tests) does not load the game.
def __getattr__(name: str):
    if name == "application":
        return _application()
    raise AttributeError(name)
