"""Malformed requests across every form and endpoint (issue 10): each gets a 4xx with
a clear message — never a 500 — and nothing is written.

One test walks the whole table, so the game data is built once; a failing case
is reported by name with what came back.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client

from classify.models import Dataset, Prediction, Shower
from kascade_game.models import Guess, Round, RoundCard
from leaderboard.models import Player, ScoreEntry
from rooms import services as room_services
from rooms.models import TEACHERS_GROUP, Room, TeacherRequest

pytestmark = pytest.mark.django_db

WATCHED = (
    Round,
    RoundCard,
    Guess,
    Player,
    ScoreEntry,
    Room,
    TeacherRequest,
    Dataset,
    Shower,
    Prediction,
)


def snapshot() -> dict[str, int]:
    counts = {model.__name__: model.objects.count() for model in WATCHED}
    counts["User"] = get_user_model().objects.count()
    counts["round points"] = sum(Round.objects.values_list("points", flat=True))
    return counts


@dataclass
class Case:
    name: str
    method: str
    url: str
    data: dict | bytes | None = None
    who: str = "player"  # which client sends it
    status: tuple[int, ...] = (400,)
    message: str = ""
    extra: dict = field(default_factory=dict)


def csv_file(text: str, name: str = "showers.csv") -> io.BytesIO:
    handle = io.BytesIO(text.encode())
    handle.name = name
    return handle


HEADER = "lgE,X,Y,Ze,Az,lgNe,lgNmu,Age\n"


def build_cases(ctx) -> list[Case]:
    r, other = ctx["round"].public_id, ctx["other_round"].public_id
    guess = f"/play/r/{r}/card/0/guess/"
    room, closed = ctx["room"], ctx["closed_room"]
    ds = ctx["dataset"].pk
    long_text = "x" * 5000
    cases = [
        # ---- the quiz
        Case(
            "another player's round: guess",
            "POST",
            f"/play/r/{other}/card/0/guess/",
            {"choice": "Fe"},
            status=(404,),
            message="no such round",
        ),
        Case(
            "another player's round: card",
            "GET",
            f"/play/r/{other}/card/0/",
            status=(404,),
            message="no such round",
        ),
        Case(
            "another player's round: summary",
            "GET",
            f"/play/r/{other}/summary/",
            status=(404,),
            message="no such round",
        ),
        Case(
            "made-up round id",
            "POST",
            "/play/r/AAAAAAAAAAAAAAAAAAAAAA/card/0/guess/",
            {"choice": "p"},
            status=(404,),
            message="no such round",
        ),
        Case(
            "card beyond the round",
            "POST",
            f"/play/r/{r}/card/99/guess/",
            {"choice": "p"},
            status=(404,),
            message="no such card",
        ),
        Case("card position not a number", "GET", f"/play/r/{r}/card/x/", status=(404,)),
        Case("negative card position", "GET", f"/play/r/{r}/card/-1/", status=(404,)),
        Case(
            "guess outside the five groups",
            "POST",
            guess,
            {"choice": "Xe"},
            message="must be one of",
        ),
        Case("empty guess", "POST", guess, {"choice": ""}, message="must be one of"),
        Case("no guess field", "POST", guess, {}, message="must be one of"),
        Case("guess in the wrong case", "POST", guess, {"choice": "fe"}, message="must be one of"),
        Case(
            "SQL in the guess", "POST", guess, {"choice": "p' OR '1'='1"}, message="must be one of"
        ),
        Case(
            "HTML in the guess",
            "POST",
            guess,
            {"choice": "<script>alert(1)</script>"},
            message="must be one of",
        ),
        Case(
            "a 5,000-character guess",
            "POST",
            guess,
            {"choice": long_text},
            message="must be one of",
        ),
        Case(
            "two guesses in one POST",
            "POST",
            guess,
            {"choice": ["Xx", "Yy"]},
            message="must be one of",
        ),
        Case("GET on the guess URL", "GET", guess, status=(405,)),
        Case("PUT on the guess URL", "PUT", guess, status=(405,)),
        Case(
            "guess without a CSRF token",
            "POST",
            guess,
            {"choice": "p"},
            who="csrf",
            status=(403,),
            message="This form has expired",
        ),
        Case(
            "a stranger's guess (no session)",
            "POST",
            guess,
            {"choice": "p"},
            who="anon",
            status=(404,),
            message="no such round",
        ),
        Case(
            "unknown difficulty",
            "POST",
            "/play/new/",
            {"difficulty": "insane"},
            message="easy, medium or hard",
        ),
        Case(
            "nickname with markup",
            "POST",
            "/play/new/",
            {"nickname": "<b>Bo</b>"},
            who="anon",
            message="may contain only",
        ),
        Case(
            "nickname with SQL",
            "POST",
            "/play/new/",
            {"nickname": "x'; DROP TABLE--"},
            who="anon",
            message="may contain only",
        ),
        Case(
            "impersonating nickname",
            "POST",
            "/play/new/",
            {"nickname": "Administrator"},
            who="anon",
            message="official name",
        ),
        Case(
            "nickname with a zero-width space",
            "POST",
            "/play/new/",
            {"nickname": "Ad\u200bmin"},
            who="anon",
            message="invisible",
        ),
        Case(
            "nickname with a right-to-left override",
            "POST",
            "/play/new/",
            {"nickname": "abc\u202edef"},
            who="anon",
            message="invisible",
        ),
        Case(
            "nickname mixing Cyrillic and Latin",
            "POST",
            "/play/new/",
            {"nickname": "Аdmin"},
            who="anon",
            message="",
        ),
        Case(
            "over-long nickname",
            "POST",
            "/play/new/",
            {"nickname": "N" * 300},
            who="anon",
            message="at most",
        ),
        Case("GET on play/new", "GET", "/play/new/", status=(405,)),
        # ---- oversized and malformed bodies
        Case(
            "a 3 MB form body",
            "POST",
            guess,
            {"choice": "p", "pad": "y" * 3_000_000},
            status=(400, 413),
        ),
        Case(
            "10,000 form fields",
            "POST",
            guess,
            {f"f{i}": "1" for i in range(10_000)},
            status=(400,),
        ),
        Case(
            "broken multipart body",
            "POST",
            guess,
            b"--x\r\nnonsense",
            extra={"content_type": "multipart/form-data; boundary=x"},
            status=(400, 404),
        ),
        # ---- rooms: joining
        Case(
            "room code that does not exist",
            "POST",
            "/rooms/join/",
            {"code": "ZZZZZZZZ", "nickname": "Ann"},
            who="anon",
            status=(404,),
            message="No room has this code",
        ),
        Case(
            "room code too short",
            "POST",
            "/rooms/join/",
            {"code": "ABC", "nickname": "Ann"},
            who="anon",
            message="8 letters and digits",
        ),
        Case(
            "room code with SQL",
            "POST",
            "/rooms/join/",
            {"code": "' OR 1=1 --", "nickname": "Ann"},
            who="anon",
            message="8 letters",
        ),
        Case(
            "room join without a nickname",
            "POST",
            "/rooms/join/",
            {"code": room.code},
            who="anon",
            message="required",
        ),
        Case(
            "room join with markup nickname",
            "POST",
            "/rooms/join/",
            {"code": room.code, "nickname": "<img src=x onerror=alert(1)>"},
            who="anon",
            message="may contain only",
        ),
        Case(
            "room join as 'teacher'",
            "POST",
            "/rooms/join/",
            {"code": room.code, "nickname": "Teacher"},
            who="anon",
            message="official name",
        ),
        Case(
            "room join with a taken nickname",
            "POST",
            "/rooms/join/",
            {"code": room.code, "nickname": "ANNA"},
            who="anon",
            status=(409,),
            message="already plays",
        ),
        Case(
            "joining a closed room",
            "POST",
            "/rooms/join/",
            {"code": closed.code, "nickname": "Zed"},
            who="anon",
            status=(409,),
            message="closed",
        ),
        Case(
            "room join without CSRF",
            "POST",
            "/rooms/join/",
            {"code": room.code, "nickname": "Quinn"},
            who="csrf",
            status=(403,),
        ),
        Case(
            "answering in a room that has not started",
            "POST",
            f"/play/r/{ctx['room_round'].public_id}/card/0/guess/",
            {"choice": "p"},
            who="student",
            status=(409,),
            message="not started",
        ),
        Case(
            "answering in a closed room",
            "POST",
            f"/play/r/{ctx['closed_round'].public_id}/card/0/guess/",
            {"choice": "p"},
            who="student",
            status=(409,),
            message="closed",
        ),
        Case(
            "a student's lobby of a room never joined",
            "GET",
            f"/rooms/play/{closed.code}x/",
            who="anon",
            status=(302,),
        ),
        # ---- rooms: the teacher's side
        Case(
            "creating a room as a player",
            "POST",
            "/rooms/new/",
            {"name": "Mine", "size": 5, "difficulty": "easy"},
            who="user",
            status=(403,),
            message="Only teachers",
        ),
        Case(
            "room with a one-letter name",
            "POST",
            "/rooms/new/",
            {"name": "x", "size": 5, "difficulty": "easy"},
            who="teacher",
            message="at least 2",
        ),
        Case(
            "room name of 500 characters",
            "POST",
            "/rooms/new/",
            {"name": "n" * 500, "size": 5, "difficulty": "easy"},
            who="teacher",
            message="at most",
        ),
        Case(
            "room name with control characters",
            "POST",
            "/rooms/new/",
            {"name": "Class\x00\x07", "size": 5, "difficulty": "easy"},
            who="teacher",
            message="",
        ),
        Case(
            "room size not offered",
            "POST",
            "/rooms/new/",
            {"name": "Class", "size": 1000, "difficulty": "easy"},
            who="teacher",
            message="valid choice",
        ),
        Case(
            "room size not a number",
            "POST",
            "/rooms/new/",
            {"name": "Class", "size": "ten", "difficulty": "easy"},
            who="teacher",
            message="valid choice",
        ),
        Case(
            "negative seconds per card",
            "POST",
            "/rooms/new/",
            {"name": "Class", "size": 5, "difficulty": "easy", "seconds_per_card": -5},
            who="teacher",
            message="greater than or equal",
        ),
        Case(
            "unknown room action",
            "POST",
            f"/rooms/{room.pk}/control/",
            {"action": "explode"},
            who="teacher",
            message="Unknown action",
        ),
        Case(
            "pausing a room that is not running",
            "POST",
            f"/rooms/{room.pk}/control/",
            {"action": "pause"},
            who="teacher",
            status=(409,),
            message="cannot pause",
        ),
        Case(
            "another teacher starts the room",
            "POST",
            f"/rooms/{room.pk}/control/",
            {"action": "start"},
            who="teacher2",
            status=(404,),
            message="no such room",
        ),
        Case(
            "another teacher's export",
            "GET",
            f"/rooms/{room.pk}/export.csv",
            who="teacher2",
            status=(404,),
        ),
        Case(
            "a student opens the projector",
            "GET",
            f"/rooms/{room.pk}/screen/",
            who="student",
            status=(404,),
        ),
        Case(
            "a room id that does not exist", "GET", "/rooms/999999/", who="teacher", status=(404,)
        ),
        Case(
            "teacher request with a 5,000-character note",
            "POST",
            "/rooms/teacher-request/",
            {"school": "S", "message": long_text},
            who="user",
            message="shorten",
        ),
        # ---- the booth
        Case(
            "booth nickname empty",
            "POST",
            "/booth/start/",
            {"nickname": ""},
            who="anon",
            message="required",
        ),
        Case(
            "booth nickname offensive",
            "POST",
            "/booth/start/",
            {"nickname": "Moderator"},
            who="anon",
            message="official name",
        ),
        Case(
            "booth nickname with emoji",
            "POST",
            "/booth/start/",
            {"nickname": "Rocket 🚀"},
            who="anon",
            message="may contain only",
        ),
        Case("GET on booth reset", "GET", "/booth/reset/", who="anon", status=(405,)),
        # ---- boards and accounts
        Case(
            "board of an unknown room",
            "GET",
            "/leaderboard/?room=QQQQQQQQ",
            status=(404,),
            message="No room has this code",
        ),
        Case(
            "a guest's public page",
            "GET",
            f"/players/{ctx['guest'].slug}/",
            who="anon",
            status=(404,),
        ),
        Case(
            "sign-up with mismatched passwords",
            "POST",
            "/accounts/signup/",
            {
                "username": "newbie",
                "nickname": "Newbie",
                "password1": "cosmic-ray-2026!",
                "password2": "cosmic-ray-2027!",
            },
            who="anon",
            message="didn",
        ),
        Case(
            "sign-up with a markup username",
            "POST",
            "/accounts/signup/",
            {
                "username": "<b>x</b>",
                "nickname": "Newbie",
                "password1": "cosmic-ray-2026!",
                "password2": "cosmic-ray-2026!",
            },
            who="anon",
            message="valid username",
        ),
        Case(
            "sign-up taking a nickname in use",
            "POST",
            "/accounts/signup/",
            {
                "username": "newbie2",
                "nickname": "anna",
                "password1": "cosmic-ray-2026!",
                "password2": "cosmic-ray-2026!",
            },
            who="anon",
            message="taken",
        ),
        Case(
            "log-in with a wrong password",
            "POST",
            "/accounts/login/",
            {"username": "ms-curie", "password": "wrong"},
            who="anon",
            message="correct username and password",
        ),
        # ---- explore
        Case("explore: unknown dataset", "GET", "/explore/999999/table/", status=(404, 400)),
        Case(
            "explore: unknown sort column",
            "GET",
            f"/explore/{ds}/table/?sort=password",
            message="",
            extra={"HTTP_HX_REQUEST": "true"},
        ),
        Case("explore: page not a number", "GET", f"/explore/{ds}/table/?page=abc", message=""),
        Case(
            "explore: histogram of an unknown column",
            "GET",
            f"/explore/{ds}/histogram.json?column=__class__",
            message="",
        ),
        Case(
            "explore: histogram bins not a number",
            "GET",
            f"/explore/{ds}/histogram.json?bins=many",
            message="",
        ),
        Case(
            "explore: sort direction sideways",
            "GET",
            f"/explore/{ds}/table/?dir=sideways",
            message="asc or desc",
            extra={"HTTP_HX_REQUEST": "true"},
        ),
        Case(
            "explore: unknown 2-D map",
            "GET",
            f"/explore/{ds}/histogram2d/secret.json",
            status=(400, 404),
        ),
        # ---- staff upload
        Case(
            "upload as a player",
            "POST",
            "/explore/upload/",
            {"name": "x"},
            who="user",
            status=(302, 403),
        ),
        Case(
            "upload without a file",
            "POST",
            "/explore/upload/",
            {"name": "no-file"},
            who="staff",
            message="required",
        ),
        Case(
            "upload of a CSV with missing columns",
            "POST",
            "/explore/upload/",
            {"name": "bad-columns", "file": csv_file("a,b\n1,2\n")},
            who="staff",
            message="",
        ),
        Case(
            "upload of a CSV with text in numbers",
            "POST",
            "/explore/upload/",
            {"name": "bad-values", "file": csv_file(HEADER + "6.1,1,2,20,30,5,4,x\n")},
            who="staff",
            message="line",
        ),
        Case(
            "upload of a CSV with a formula",
            "POST",
            "/explore/upload/",
            {"name": "formula", "file": csv_file(HEADER + "=cmd|' /C calc'!A0,1,2,3,4,5,6,1\n")},
            who="staff",
            message="",
        ),
        Case(
            "upload of a binary file",
            "POST",
            "/explore/upload/",
            {"name": "binary", "file": csv_file("\x00\x01\x02PK\x03\x04" * 100, "x.csv")},
            who="staff",
            message="",
        ),
        Case(
            "upload of a CSV bomb (one 3 MB line)",
            "POST",
            "/explore/upload/",
            {"name": "bomb", "file": csv_file(HEADER + "1," * 1_500_000 + "\n")},
            who="staff",
            message="",
        ),
        Case(
            "upload of an empty file",
            "POST",
            "/explore/upload/",
            {"name": "empty", "file": csv_file("")},
            who="staff",
            message="",
        ),
        Case(
            "upload with a 500-character name",
            "POST",
            "/explore/upload/",
            {"name": "n" * 500, "file": csv_file(HEADER)},
            who="staff",
            message="at most",
        ),
    ]
    return cases


@pytest.fixture
def context(game_data):
    from kascade_game import services

    user_model = get_user_model()
    teachers = Group.objects.get_or_create(name=TEACHERS_GROUP)[0]
    teacher = user_model.objects.create_user("ms-curie", password="radium-1898-polonium")
    teacher.groups.add(teachers)
    teacher2 = user_model.objects.create_user("mr-bohr", password="quantum-leap-1913")
    teacher2.groups.add(teachers)
    user = user_model.objects.create_user("plain-user", password="muon-rich-7-shower")
    staff = user_model.objects.create_user("staffer", password="x-ray-burst-99", is_staff=True)

    clients = {
        "anon": Client(),
        "csrf": Client(enforce_csrf_checks=True),
        "player": Client(),
        "student": Client(),
    }
    for name, account in (
        ("teacher", teacher),
        ("teacher2", teacher2),
        ("user", user),
        ("staff", staff),
    ):
        clients[name] = Client()
        clients[name].force_login(account)

    clients["player"].post("/play/new/", {"difficulty": "easy", "nickname": "Anna"})
    own = Round.objects.get(player__nickname="Anna")
    stranger = Player.objects.create(nickname="Stranger", nickname_key="stranger")
    other_round = services.start_round(player=stranger)
    guest = Player.objects.create(nickname="Guesty", nickname_key="guesty")
    # The CSRF client holds the player's session, so only the token is missing.
    clients["csrf"].cookies = clients["player"].cookies

    room = room_services.create_room(teacher=teacher, name="Open room", size=5)
    closed = room_services.create_room(teacher=teacher, name="Closed room", size=5)
    clients["student"].post("/rooms/join/", {"code": room.code, "nickname": "Anna"})
    clients["student"].post("/rooms/join/", {"code": closed.code, "nickname": "Bert"})
    room_services.control_room(room_id=closed.pk, user=teacher, action="close")
    return {
        "clients": clients,
        "round": own,
        "other_round": other_round,
        "guest": guest,
        "room": room,
        "closed_room": closed,
        "room_round": Round.objects.get(room=room),
        "closed_round": Round.objects.get(room=closed),
        "dataset": game_data,
    }


def send(client: Client, case: Case):
    if isinstance(case.data, bytes):
        return client.generic(case.method, case.url, case.data, **case.extra)
    if case.method == "GET":
        return client.get(case.url, **case.extra)
    if case.method == "POST":
        return client.post(case.url, case.data or {}, **case.extra)
    return client.generic(case.method, case.url, "")


def test_sixty_and_more_malformed_requests_get_a_clear_4xx_and_write_nothing(context):
    cases = build_cases(context)
    assert len(cases) >= 60
    assert len({case.name for case in cases}) == len(cases)
    failures = []
    for case in cases:
        before = snapshot()
        try:
            response = send(context["clients"][case.who], case)
        except Exception as error:  # a traceback is a failure like a 500
            failures.append(f"{case.name}: raised {error!r}")
            continue
        after = snapshot()
        body = response.content.decode(errors="replace")
        if response.status_code not in case.status:
            failures.append(f"{case.name}: {response.status_code} (wanted {case.status})")
        elif case.message and case.message.lower() not in body.lower():
            failures.append(f"{case.name}: message {case.message!r} missing")
        if response.status_code >= 400 and response.status_code != 405 and not case.message:
            # Even without a specific phrase, a refusal says something readable.
            if "Traceback" in body or len(body.strip()) < 10:
                failures.append(f"{case.name}: no readable message")
        if after != before:
            changed = {
                key: (before[key], after[key]) for key in before if before[key] != after[key]
            }
            failures.append(f"{case.name}: wrote {changed}")
    assert failures == [], "\n".join(failures)
