"""School rooms: creating, joining, the teacher's controls, permissions, the class
against the machine, the CSV export, and 40 students answering at once."""

from __future__ import annotations

import csv
import io
import re
import statistics
import threading
import time
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from kascade_game.models import Guess, Round, RoundCard
from leaderboard.models import Player, ScoreEntry
from leaderboard.selectors import board
from rooms import selectors, services
from rooms.models import CODE_ALPHABET, CODE_LENGTH, TEACHERS_GROUP, Room, TeacherRequest
from tests.conftest import fresh_ratelimit_window, unused_address

pytestmark = pytest.mark.django_db


def make_teacher(name: str = "ms-curie"):
    user = get_user_model().objects.create_user(name, password="radium-1898-polonium")
    user.groups.add(Group.objects.get_or_create(name=TEACHERS_GROUP)[0])
    return user


def teacher_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def create_room(client: Client, **fields) -> Room:
    data = {"name": "Class 9b physics", "size": 5, "difficulty": "medium", **fields}
    response = client.post("/rooms/new/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Room.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def join(client: Client, room: Room, nickname: str, code: str | None = None):
    return client.post("/rooms/join/", {"code": code or room.code, "nickname": nickname})


def student_round(room: Room, nickname: str) -> Round:
    return Round.objects.get(room=room, player__nickname=nickname)


def guess(client: Client, game_round: Round, position: int, choice: str = "Fe"):
    """A student's guess as a browser makes it: the post, then its 303 to the card's page."""
    return client.post(
        f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": choice}, follow=True
    )


def test_a_teacher_creates_a_room_with_an_unguessable_code_and_a_fixed_deck(game_data):
    teacher = make_teacher()
    client = teacher_client(teacher)
    room = create_room(client, size=10, seconds_per_card="")
    assert len(room.code) == CODE_LENGTH and set(room.code) <= set(CODE_ALPHABET)
    assert not set(room.code) & set("0O1IL")
    assert room.deck.count() == 10 and room.status == Room.Status.OPEN
    page = client.get(f"/rooms/{room.pk}/").content.decode()
    assert f'data-room-code="{room.code}"' in page
    screen = client.get(f"/rooms/{room.pk}/screen/").content.decode()
    assert f'data-room-code="{room.code}"' in screen and 'hx-trigger="every 2s"' in screen
    # Two rooms get different codes, and the list shows the teacher's rooms.
    other = create_room(client)
    assert other.code != room.code
    assert room.code in client.get("/rooms/").content.decode()


def test_only_teachers_create_rooms_and_a_user_can_ask_to_become_one(game_data):
    user = get_user_model().objects.create_user("student-ann", password="muon-rich-shower-7")
    client = teacher_client(user)
    response = client.post("/rooms/new/", {"name": "Mine", "size": 5, "difficulty": "easy"})
    assert response.status_code == 403 and "Only teachers" in response.content.decode()
    assert Room.objects.count() == 0
    assert Client().post("/rooms/new/", {"name": "x"}).status_code == 302  # to the log-in
    assert "Ask for teacher access" in client.get("/rooms/").content.decode()
    client.post("/rooms/teacher-request/", {"school": "Gymnasium Karlsruhe", "message": "9b"})
    request = TeacherRequest.objects.get(user=user)
    assert request.school == "Gymnasium Karlsruhe" and request.approved is None

    from django.contrib.admin.sites import site

    from rooms.admin import TeacherRequestAdmin, approve

    admin_client = Client()
    admin_user = get_user_model().objects.create_superuser("root", password="admin-pass-2026!")
    admin_client.force_login(admin_user)
    fake_request = admin_client.get("/admin/").wsgi_request
    from django.contrib.messages.storage.fallback import FallbackStorage

    fake_request._messages = FallbackStorage(fake_request)
    approve(TeacherRequestAdmin(TeacherRequest, site), fake_request, TeacherRequest.objects.all())
    assert services.is_teacher(get_user_model().objects.get(pk=user.pk))
    room = create_room(client)
    assert room.teacher_id == user.pk


def test_room_forms_refuse_bad_input_with_clear_messages(game_data):
    client = teacher_client(make_teacher())
    for data, message in [
        ({"name": "x", "size": 5, "difficulty": "easy"}, "at least 2 characters"),
        ({"name": "ok\u202eevil", "size": 5, "difficulty": "easy"}, "invisible or control"),
        ({"name": "Class", "size": 7, "difficulty": "easy"}, "Select a valid choice"),
        ({"name": "Class", "size": 5, "difficulty": "insane"}, "Select a valid choice"),
        (
            {"name": "Class", "size": 5, "difficulty": "easy", "seconds_per_card": 3},
            "greater than or equal to 10",
        ),
    ]:
        response = client.post("/rooms/new/", data)
        assert response.status_code == 400, data
        assert message in response.content.decode(), (data, message)
    assert Room.objects.count() == 0
    # Markup in a room name is shown as text, never as markup.
    room = create_room(client, name="<script>alert(1)</script> 9b")
    page = client.get(f"/rooms/{room.pk}/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page


def test_students_join_with_code_and_nickname_and_get_the_same_deck_in_order(game_data):
    room = create_room(teacher_client(make_teacher()))
    ann, ben = Client(), Client()
    assert (
        join(ann, room, "Ann", code=room.code.lower()[:4] + "-" + room.code[4:]).status_code == 302
    )
    assert join(ben, room, "Ben").status_code == 302
    deck = list(room.deck.order_by("position").values_list("shower_id", flat=True))
    for nickname in ("Ann", "Ben"):
        game_round = student_round(room, nickname)
        assert game_round.kind == Round.Kind.ROOM and game_round.size == len(deck)
        cards = list(game_round.cards.order_by("position").values_list("shower_id", flat=True))
        assert cards == deck
    # Rejoining from the same browser finds the same round; the nickname is unique in the room.
    assert join(ann, room, "Ann").status_code == 302
    assert Round.objects.filter(room=room).count() == 2
    taken = join(Client(), room, "ann")
    assert taken.status_code == 409 and "already plays as this nickname" in taken.content.decode()
    rude = join(Client(), room, "admin")
    assert rude.status_code == 400 and "official name" in rude.content.decode()
    wrong = join(Client(), room, "Cleo", code="ZZZZZZZZ")
    assert wrong.status_code == 404 and "No room has this code" in wrong.content.decode()
    short = join(Client(), room, "Cleo", code="ABC")
    assert short.status_code == 400 and "8 letters and digits" in short.content.decode()
    assert Round.objects.filter(room=room).count() == 2
    lobby = ann.get(f"/rooms/play/{room.code}/").content.decode()
    assert "Waiting for the teacher" in lobby and 'data-player="Ann"' in lobby


def test_the_teacher_opens_starts_pauses_and_closes_and_answers_follow(game_data):
    teacher = teacher_client(make_teacher())
    room = create_room(teacher)
    student = Client()
    join(student, room, "Dora")
    game_round = student_round(room, "Dora")

    waiting = guess(student, game_round, 0)
    assert waiting.status_code == 409 and "not started" in waiting.content.decode()
    assert teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"}).status_code == 302
    assert guess(student, game_round, 0).status_code == 200
    assert "data-room-play" in student.get(f"/rooms/play/{room.code}/").content.decode()

    teacher.post(f"/rooms/{room.pk}/control/", {"action": "pause"})
    paused = guess(student, game_round, 1, "p")
    assert paused.status_code == 409 and "paused" in paused.content.decode()
    # With htmx the refusal goes above the buttons and the card stays.
    htmx = student.post(
        f"/play/r/{game_round.public_id}/card/1/guess/", {"choice": "p"}, HTTP_HX_REQUEST="true"
    )
    assert htmx.status_code == 409 and htmx["HX-Retarget"] == "#guess-feedback"
    assert 'data-guess-refused="paused"' in htmx.content.decode()
    teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"})  # resume
    assert guess(student, game_round, 1, "p").status_code == 200

    teacher.post(f"/rooms/{room.pk}/control/", {"action": "close"})
    closed = guess(student, game_round, 2)
    assert closed.status_code == 409 and "closed" in closed.content.decode()
    # A replay of an answered card still shows its recorded result.
    replay = guess(student, game_round, 0, "p")
    assert replay.status_code == 200 and "data-reveal" in replay.content.decode()
    assert Guess.objects.filter(card__round=game_round).count() == 2
    again = teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"})
    assert again.status_code == 409 and "cannot start" in again.content.decode()
    assert teacher.post(f"/rooms/{room.pk}/control/", {"action": "nap"}).status_code == 400
    assert join(Client(), room, "Late Larry").status_code == 409
    room.refresh_from_db()
    assert room.status == Room.Status.CLOSED and room.closed and room.started


def test_only_the_rooms_teacher_or_staff_control_watch_or_export_it(game_data):
    room = create_room(teacher_client(make_teacher()))
    other_teacher = teacher_client(make_teacher("mr-hess"))
    student = Client()
    join(student, room, "Eve")
    for client in (other_teacher, student, Client()):
        for url in ("", "screen/", "results/", "export.csv"):
            assert client.get(f"/rooms/{room.pk}/{url}").status_code == 404, url
        assert client.post(f"/rooms/{room.pk}/control/", {"action": "start"}).status_code == 404
    room.refresh_from_db()
    assert room.status == Room.Status.OPEN
    staff = get_user_model().objects.create_user(
        "staffer", password="x-ray-burst-99", is_staff=True
    )
    assert teacher_client(staff).get(f"/rooms/{room.pk}/export.csv").status_code == 200


def play_room(room: Room, nicknames_and_choices: dict[str, str]) -> None:
    for nickname, choice in nicknames_and_choices.items():
        client = Client()
        join(client, room, nickname)
        game_round = student_round(room, nickname)
        for position in range(room.size):
            assert guess(client, game_round, position, choice).status_code == 200


def test_the_export_matches_the_board_and_the_class_is_compared_with_the_machine(game_data):
    teacher = teacher_client(make_teacher())
    room = create_room(teacher)
    teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"})
    play_room(room, {"Fay": "Fe", "Gus": "p", "Hal": "C"})
    teacher.post(f"/rooms/{room.pk}/control/", {"action": "close"})

    response = teacher.get(f"/rooms/{room.pk}/export.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment;" in response["Content-Disposition"]
    assert response.content.startswith("\ufeff".encode()), "Excel reads UTF-8 by its BOM"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    board_rows = selectors.room_board(room)
    assert [(r["nickname"], int(r["points"])) for r in rows] == [
        (row.nickname, row.points) for row in board_rows
    ]
    for row in rows:
        game_round = student_round(room, row["nickname"])
        assert (
            int(row["points"])
            == game_round.points
            == sum(g.points for g in Guess.objects.filter(card__round=game_round))
        )
        assert [row[f"card {i + 1}"] for i in range(room.size)] == list(
            Guess.objects.filter(card__round=game_round)
            .order_by("card__position")
            .values_list("choice", flat=True)
        )
        assert float(row["accuracy"]) == pytest.approx(game_round.correct / room.size, abs=1e-3)
    # The rooms' board of finished rounds agrees with the live one.
    assert {r.nickname: r.points for r in board("all", room_id=room.pk)} == {
        r.nickname: r.points for r in board_rows
    }

    # The leaderboard's per-room board lists exactly the room's students.
    page = Client().get(f"/leaderboard/?room={room.code.lower()}").content.decode()
    shown = dict(re.findall(r'data-player="([^"]+)" data-points="(-?\d+)"', page))
    assert shown == {row.nickname: str(row.points) for row in board_rows}
    assert f"room={room.code}" in page  # the period tabs stay on the room
    missing = Client().get("/leaderboard/?room=NOPE2345")
    assert missing.status_code == 404 and "No room has this code" in missing.content.decode()

    versus = selectors.class_vs_machine(room)
    guesses = Guess.objects.filter(card__round__room=room)
    assert versus["class"]["right"] == guesses.filter(is_correct=True).count()
    assert versus["class"]["total"] == guesses.count() == 3 * room.size
    from classify.selectors import predictions_for

    deck = list(room.deck.select_related("shower"))
    predictions = predictions_for([card.shower_id for card in deck])
    for forest in versus["forests"]:
        right = sum(
            predictions[c.shower_id][forest["key"]].predicted_group == c.shower.mass_group
            for c in deck
        )
        assert forest["right"] == right and forest["total"] == room.size
    assert sum(group["cards"] for group in versus["groups"]) == room.size
    page = teacher.get(f"/rooms/{room.pk}/screen/").content.decode()
    assert "data-podium" in page and "data-class-vs-machine" in page
    assert page.count("data-joined-player=") == 3


def test_a_timed_card_answered_too_late_is_recorded_without_points(game_data):
    teacher = teacher_client(make_teacher())
    room = create_room(teacher, seconds_per_card=20)
    teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"})
    student = Client()
    join(student, room, "Ida")
    game_round = student_round(room, "Ida")
    page = student.get(f"/play/r/{game_round.public_id}/card/0/").content.decode()
    assert 'data-timer data-remaining="20"' in page
    card = RoundCard.objects.get(round=game_round, position=0)
    assert card.shown_at is not None
    # Showing the card again does not restart its clock.
    student.get(f"/play/r/{game_round.public_id}/card/0/")
    assert RoundCard.objects.get(pk=card.pk).shown_at == card.shown_at
    RoundCard.objects.filter(pk=card.pk).update(shown_at=timezone.now() - timedelta(seconds=30))
    truth = card.shower.mass_group
    late = guess(student, game_round, 0, truth)
    assert late.status_code == 200 and "data-late" in late.content.decode()
    recorded = Guess.objects.get(card=card)
    assert recorded.late and recorded.is_correct and recorded.points == 0
    student.get(f"/play/r/{game_round.public_id}/card/1/")
    on_time = guess(
        student,
        game_round,
        1,
        RoundCard.objects.get(round=game_round, position=1).shower.mass_group,
    )
    assert (
        on_time.status_code == 200
        and Guess.objects.get(card__round=game_round, card__position=1).points > 0
    )


def test_a_room_guess_stays_within_the_query_budget(game_data):
    teacher = teacher_client(make_teacher())
    room = create_room(teacher, seconds_per_card=60)
    teacher.post(f"/rooms/{room.pk}/control/", {"action": "start"})
    student = Client()
    join(student, room, "Jo")
    game_round = student_round(room, "Jo")
    with CaptureQueriesContext(connection) as card_queries:
        student.get(f"/play/r/{game_round.public_id}/card/0/")
    with CaptureQueriesContext(connection) as guess_queries:
        guess(student, game_round, 0)
    assert len(card_queries) <= 10, [q["sql"] for q in card_queries]
    assert len(guess_queries) <= 10, [q["sql"] for q in guess_queries]


@pytest.mark.ratelimit
def test_failed_join_attempts_are_rate_limited(game_data, settings):
    settings.ROOM_JOIN_FAILURE_RATE = "3/m"
    room = create_room(teacher_client(make_teacher()))
    address = unused_address()
    fresh_ratelimit_window(address, 60)
    client = Client(REMOTE_ADDR=address)
    statuses = [join(client, room, "Kim", code=f"WRONG{i:03d}").status_code for i in range(3)]
    assert statuses == [404, 404, 404]
    blocked = join(client, room, "Kim")
    assert blocked.status_code == 429 and "Too many wrong codes" in blocked.content.decode()
    assert not Round.objects.filter(room=room).exists()
    # Another address (another class) is not affected.
    assert join(Client(REMOTE_ADDR=unused_address()), room, "Kim").status_code == 302


@pytest.mark.django_db(transaction=True)
def test_forty_students_answer_the_same_card_within_five_seconds():
    """Real PostgreSQL, 40 clients with their own sessions, all posting card 1 at once."""
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test runs on real PostgreSQL (the services pass)")
    from tests.factories import build_game_data

    build_game_data()
    teacher = make_teacher()
    room = services.create_room(teacher=teacher, name="Big class", size=5)
    services.control_room(room_id=room.pk, user=teacher, action="start")
    students = []
    for index in range(40):
        client = Client()
        assert join(client, room, f"Student {index:02d}").status_code == 302
        students.append((client, student_round(room, f"Student {index:02d}")))
    barrier = threading.Barrier(len(students))
    statuses, durations, errors = [], [], []

    def answer(client, game_round, index):
        try:
            barrier.wait(timeout=60)
            started = time.perf_counter()
            response = guess(client, game_round, 0, ("p", "He", "C", "Si", "Fe")[index % 5])
            durations.append(time.perf_counter() - started)
            statuses.append(response.status_code)
        except Exception as error:  # collected and reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=answer, args=(client, game_round, index))
        for index, (client, game_round) in enumerate(students)
    ]
    wall = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    wall = time.perf_counter() - wall
    assert errors == [] and statuses == [200] * 40
    print(
        f"40 simultaneous room guesses: wall {wall:.2f} s, "
        f"median {statistics.median(durations) * 1000:.0f} ms, "
        f"p95 {statistics.quantiles(durations, n=20)[-1] * 1000:.0f} ms"
    )
    rows = selectors.room_board(room)
    assert len(rows) == 40 and all(row.answered == 1 for row in rows)
    guesses = Guess.objects.filter(card__round__room=room)
    assert guesses.count() == 40
    assert sum(row.points for row in rows) == sum(g.points for g in guesses)
    for row in rows:
        game_round = Round.objects.get(room=room, player_id=row.player_id)
        assert row.points == game_round.points == guesses.get(card__round=game_round).points
    ranks = [row.rank for row in rows]
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert not ScoreEntry.objects.filter(round__room=room).exists()  # nobody finished yet
    assert Player.objects.filter(rounds__room=room).count() == 40
    assert re.fullmatch(r"[A-Z2-9]{8}", room.code)


def test_grant_teacher_gives_and_takes_back_teacher_access(game_data):
    from django.core.management import CommandError, call_command

    user = get_user_model().objects.create_user("mr-rutherford", password="alpha-beta-1911")
    TeacherRequest.objects.create(user=user, school="Manchester")
    call_command("grant_teacher", "mr-rutherford", stdout=io.StringIO())
    assert services.is_teacher(get_user_model().objects.get(pk=user.pk))
    assert TeacherRequest.objects.get(user=user).approved is not None
    call_command("grant_teacher", "mr-rutherford", "--revoke", stdout=io.StringIO())
    assert not services.is_teacher(get_user_model().objects.get(pk=user.pk))
    with pytest.raises(CommandError, match="no account is called"):
        call_command("grant_teacher", "nobody")
