"""Faults: Redis stopped during play, PostgreSQL restarted under the web, a full disk.

The Redis and PostgreSQL that these tests stop are private instances started
here on free ports (benchmarks.infra), never the shared servers. The long
versions (200 players, a SIGKILLed Celery worker) run in `make loadtest`.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from benchmarks import infra
from classify.models import Dataset, Shower
from kascade_game.models import Guess, Round
from tests.conftest import ROOT, requires_services
from tests.factories import round_started_by

SERVICES = (pytest.mark.services, requires_services)

SCORE = re.compile(r'data-score="(\d+)"')


@pytest.fixture
def private_redis(tmp_path, settings):
    """A redis-server of this test only, used as the Django cache (sessions, boards, pictures)."""
    server = infra.PrivateRedis(tmp_path / "redis.log")
    server.start()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.SESSION_ENGINE = "kascade_game.sessions"
    yield server
    server.stop()


def _start(client) -> Round:
    response = client.post("/play/new/", {"difficulty": "easy"})
    return round_started_by(response)


def _play(client, game_round: Round, positions) -> list[int]:
    scores = []
    for position in positions:
        card = client.get(
            f"/play/r/{game_round.public_id}/card/{position}/", HTTP_HX_REQUEST="true"
        )
        assert card.status_code == 200 and "data-guess" in card.content.decode()
        guess = client.post(
            f"/play/r/{game_round.public_id}/card/{position}/guess/",
            {"choice": "Fe"},
            HTTP_HX_REQUEST="true",
        )
        text = guess.content.decode()
        assert guess.status_code == 200 and "data-reveal" in text
        scores.append(int(SCORE.search(text)[1]))
    return scores


@SERVICES[0]
@SERVICES[1]
def test_cards_guesses_and_boards_keep_working_while_redis_is_down(
    client, game_data, private_redis
):
    import redis

    game_round = _start(client)
    _play(client, game_round, range(3))
    assert redis.Redis.from_url(private_redis.url).dbsize() > 0  # the cache is in use

    private_redis.stop()
    scores = _play(client, game_round, range(3, game_round.size))
    board = client.get("/leaderboard/")
    assert board.status_code == 200
    assert "data-leaderboard-row" in board.content.decode()  # computed from the database
    game_round.refresh_from_db()
    assert game_round.is_finished and game_round.points == scores[-1]
    assert sum(Guess.objects.filter(card__round=game_round).values_list("points", flat=True)) == (
        game_round.points
    )

    private_redis.start()
    second = _start(client)  # the same session, read from the database while Redis was down
    _play(client, second, range(2))
    assert redis.Redis.from_url(private_redis.url).dbsize() > 0  # the cache is used again


@SERVICES[0]
@SERVICES[1]
def test_the_web_recovers_from_a_postgresql_restart_without_losing_a_guess(tmp_path):
    """gunicorn on a private cluster: after a restart the very next requests succeed
    (CONN_HEALTH_CHECKS replaces the dead connections) and every revealed guess is stored."""
    import psycopg

    postgres = infra.PrivatePostgres(Path(tempfile.mkdtemp(prefix="kascade-pg-")), fsync=False)
    web = None
    try:
        postgres.init()
        postgres.start()
        postgres.create_database()
        env = {
            **infra.child_env(),
            "DATABASE_URL": postgres.url,
            "REDIS_URL": "",
            "DEBUG": "false",
            "SECRET_KEY": "fault-test-only",
            "DJANGO_SETTINGS_MODULE": "kascade_game.settings",
        }
        for command in (
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            [
                sys.executable,
                "-c",
                "import django; django.setup(); "
                "from tests.factories import build_game_data; build_game_data()",
            ],
        ):
            subprocess.run(command, cwd=ROOT, env=env, check=True, timeout=300)
        port = infra.free_port()
        web = infra.ManagedProcess(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "kascade_game.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "1",
            ],
            tmp_path / "gunicorn.log",
            env,
        )
        web.start()
        base = f"http://127.0.0.1:{port}"
        infra.wait_http_ready(f"{base}/healthz", web)
        with httpx.Client(base_url=base, timeout=30) as player:
            player.get("/play/")
            token = player.cookies["csrftoken"]
            response = player.post(
                "/play/new/", data={"csrfmiddlewaretoken": token}, follow_redirects=True
            )
            public_id = response.url.path.split("/")[3]
            htmx = {"HX-Request": "true", "X-CSRFToken": token}

            def guess(position: int) -> int:
                reply = player.post(
                    f"/play/r/{public_id}/card/{position}/guess/",
                    data={"choice": "C"},
                    headers=htmx,
                )
                return reply.status_code

            # Both gunicorn threads hold a connection before the restart.
            assert [guess(position) for position in range(4)] == [200] * 4
            postgres.stop(mode="fast")
            # While it is down: a temporary 503 that says so, not a 500.
            board_while_down = player.get("/leaderboard/")
            guess_while_down = guess(4)
            postgres.start()
            statuses = [guess(position) for position in range(4, 10)]
            statuses.append(player.get(f"/play/r/{public_id}/summary/").status_code)
        assert statuses == [200] * 7, web.log_path.read_text()[-3000:]
        assert board_while_down.status_code == 503
        assert board_while_down.headers["Retry-After"] == "5"
        assert "Back in a moment" in board_while_down.text
        assert "Traceback" not in board_while_down.text
        assert guess_while_down == 503  # and it wrote nothing: card 4 is answered once, below
        with psycopg.connect(postgres.url.replace("postgres://", "postgresql://")) as connection:
            stored = connection.execute(
                "SELECT count(*) FROM kascade_game_guess g "
                "JOIN kascade_game_roundcard c ON c.id = g.card_id "
                "JOIN kascade_game_round r ON r.id = c.round_id WHERE r.public_id = %s",
                (public_id,),
            ).fetchone()[0]
        assert stored == 10
    finally:
        if web is not None:
            web.stop(grace_s=5)
        postgres.remove()


@pytest.fixture
def tiny_disk():
    """A 1 MB tmpfs: a real file system that fills up (needs the right to mount)."""
    mountpoint = Path(tempfile.mkdtemp(prefix="kascade-tinydisk-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        mountpoint.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mountpoint
    subprocess.run(["umount", str(mountpoint)], check=False)
    mountpoint.rmdir()


@pytest.mark.django_db
def test_a_full_disk_during_an_upload_gives_a_clear_error_and_writes_nothing(
    client, django_user_model, settings, tiny_disk
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tiny_disk)
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 64 * 1024  # anything larger goes to disk
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = None
    settings.IMPORT_MAX_BYTES = 8 * 1024 * 1024
    staff = django_user_model.objects.create_user("curator", password="x", is_staff=True)
    client.force_login(staff)
    sample = Path(settings.KCDC_SAMPLE).read_bytes()
    header, _, body = sample.partition(b"\n")
    raw = header + b"\n" + body * (1 + (3 * 1024 * 1024) // len(body))  # ~3 MB > the 1 MB disk
    before = (Dataset.objects.count(), Shower.objects.count())
    response = client.post(
        "/explore/upload/",
        {"name": "too-big-for-the-disk", "file": SimpleUploadedFile("big.csv", raw)},
    )
    assert response.status_code == 507
    assert "no room to store this upload" in response.content.decode()
    assert (Dataset.objects.count(), Shower.objects.count()) == before
    assert not os.listdir(tiny_disk)  # the half-written temporary file is gone


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        ("operational", 503, "Back in a moment"),
        ("interface", 503, "Back in a moment"),
        ("other", 500, "Something went wrong"),
    ],
)
def test_an_unhandled_error_gets_a_plain_page_and_a_lost_database_a_503(rf, error, status, text):
    """handler500 reads nothing that may be down; the database's outage is temporary."""
    from django import db

    from kascade_game.views import server_error

    raised = {
        "operational": db.OperationalError("connection refused"),
        "interface": db.InterfaceError("connection already closed"),
        "other": ValueError("a bug"),
    }[error]
    try:
        raise raised
    except Exception:
        response = server_error(rf.get("/leaderboard/"))
    assert response.status_code == status
    assert text in response.content.decode()
    assert ("Retry-After" in response.headers) is (status == 503)
    assert "a bug" not in response.content.decode()


@pytest.mark.django_db
def test_a_missing_table_is_a_500_not_an_outage_that_reloads_forever(rf):
    """An unmigrated database: SQLite calls it an OperationalError, PostgreSQL a
    ProgrammingError. Neither is temporary, so neither asks the browser to retry."""
    from django.db import DatabaseError, connection

    from kascade_game.views import server_error

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM kascade_no_such_table")
    except DatabaseError:
        response = server_error(rf.get("/play/"))
    else:
        pytest.fail("the query of a missing table did not fail")
    assert response.status_code == 500
    assert "Retry-After" not in response.headers
    assert "Something went wrong" in response.content.decode()
