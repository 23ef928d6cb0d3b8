"""The festival booth: kiosk rounds of five with a nickname, survival of a refresh,
forgetting the visitor, and today's top ten of booth rounds only."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kascade_game.models import Round
from leaderboard.models import Player
from tests.conftest import finish_round
from tests.factories import round_started_by

pytestmark = pytest.mark.django_db


def start_visit(client: Client, nickname: str) -> Round:
    response = client.post("/booth/start/", {"nickname": nickname})
    return round_started_by(response)


def play_all(client: Client, game_round: Round, choice: str = "Fe") -> None:
    for position in range(game_round.size):
        response = client.post(
            f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": choice}
        )
        assert response.status_code == 303


def test_a_visitor_plays_five_cards_in_kiosk_mode_and_a_refresh_keeps_the_round(game_data):
    kiosk = Client()
    start = kiosk.get("/booth/").content.decode()
    assert 'aria-label="Main"' not in start  # no site navigation in kiosk mode
    assert "data-osk" in start and "data-booth-input" in start
    with CaptureQueriesContext(connection) as queries:
        game_round = start_visit(kiosk, "Stella")
    assert game_round.kind == Round.Kind.BOOTH and game_round.size == 5
    guess_reads = [q for q in queries.captured_queries if '"kascade_game_guess"' in q["sql"]]
    assert guess_reads == [], "a new visitor has no answers: no level to look up"
    card = kiosk.get(f"/play/r/{game_round.public_id}/card/0/").content.decode()
    assert 'aria-label="Main"' not in card and 'data-idle-seconds="60"' in card
    assert card.count("data-guess=") == 5 and 'class="page booth"' in card
    kiosk.post(f"/play/r/{game_round.public_id}/card/0/guess/", {"choice": "p"})
    # A refresh of the booth page mid-round comes back to the same round.
    back = kiosk.get("/booth/")
    assert back.status_code == 302 and game_round.public_id in back["Location"]
    assert kiosk.get(back["Location"])["Location"].endswith("/card/1/")
    for position in range(1, 5):
        kiosk.post(f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": "He"})
    summary = kiosk.get(f"/play/r/{game_round.public_id}/summary/").content.decode()
    assert "data-booth-again" in summary and "data-booth-done" in summary
    again = kiosk.post("/booth/again/")
    assert again.status_code == 302
    assert Round.objects.filter(player=game_round.player, kind="booth").count() == 2


def test_idle_or_done_forgets_the_visitor_and_the_next_one_starts_fresh(game_data, settings):
    settings.BOOTH_IDLE_SECONDS = 7
    kiosk = Client()
    game_round = start_visit(kiosk, "Nova")
    page = kiosk.get(f"/play/r/{game_round.public_id}/card/0/").content.decode()
    assert 'data-idle-seconds="7"' in page and 'id="booth-reset-form"' in page
    reset = kiosk.post("/booth/reset/")
    assert reset.status_code == 302 and reset["Location"] == "/booth/attract/"
    # The next visitor cannot open the previous visitor's round.
    assert kiosk.get(f"/play/r/{game_round.public_id}/card/0/").status_code == 404
    start = kiosk.get("/booth/")
    assert start.status_code == 200 and "Nova" not in start.content.decode()


def test_booth_nicknames_are_filtered_like_every_nickname(game_data):
    kiosk = Client()
    for nickname, message in [
        ("", "This field is required"),
        ("admin", "official name"),
        ("<b>x</b>", "may contain only letters"),
        ("a" * 30, "at most"),
    ]:
        response = kiosk.post("/booth/start/", {"nickname": nickname})
        assert response.status_code == 400, nickname
        assert message in response.content.decode(), (nickname, response.content.decode()[:3000])
    assert not Round.objects.filter(kind="booth").exists()
    start_visit(kiosk, "Vega")
    taken = Client().post("/booth/start/", {"nickname": "vega"})
    assert taken.status_code == 400 and "taken" in taken.content.decode()


def test_the_attract_screen_and_big_screen_show_todays_top_ten_booth_rounds(game_data):
    for index in range(12):
        kiosk = Client()
        play_all(kiosk, start_visit(kiosk, f"Visitor {index:02d}"), ("p", "Fe")[index % 2])
    web = Client()
    web_round = finish_round(web)  # a web player's round is not on the booth's board
    web_player = Player.objects.get(pk=web_round.player_id)
    attract = Client().get("/booth/attract/").content.decode()
    assert attract.count("data-leaderboard-row") == 10
    assert f'data-player="{web_player.nickname}"' not in attract
    assert "shower-animation" in attract and "Touch to play" in attract
    booth_points = sorted(
        (r.points for r in Round.objects.filter(kind="booth", finished__isnull=False)),
        reverse=True,
    )[:10]
    import re

    shown = [int(p) for p in re.findall(r'data-points="(-?\d+)"', attract)]
    assert shown == booth_points
    screen = Client().get("/booth/screen/").content.decode()
    assert screen.count("data-leaderboard-row") == 10 and 'hx-trigger="every 5s"' in screen
    partial = Client().get("/booth/screen/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith("<ol") and partial.count("data-leaderboard-row") == 10


@pytest.mark.parametrize(
    "language, first_row, nickname",
    [
        ("en", "QWERTYUIOP", "Stella"),
        ("de", "QWERTZUIOPÜ", "Jürgen Strauß"),
        ("ru", "ЙЦУКЕНГШЩЗХ", "Аня"),
    ],
)
def test_the_kiosk_keyboard_has_the_letters_of_the_booths_language(
    game_data, language, first_row, nickname
):
    import re

    kiosk = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = kiosk.get("/booth/").content.decode()
    rows = re.findall(r'<div class="osk-row">(.*?)</div>', page)
    letters = ["".join(re.findall(r'data-osk-char="([^"])"', row)) for row in rows[:3]]
    assert letters[0] == first_row
    # A name typed with those keys is a name the booth takes.
    assert set(nickname.upper().replace(" ", "")) <= set("".join(letters))
    assert start_visit(kiosk, nickname).player.nickname == nickname
