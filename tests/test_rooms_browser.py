"""Rooms and the booth in headless Chromium: a teacher runs a class of two, the
projector follows, the CSV export matches the board; the booth goes back to its
attract screen when left alone."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from rooms.models import TEACHERS_GROUP
from tests.test_quiz_browser import PHONE, PROJECTOR, assert_clean, assert_reveal_complete

pytestmark = pytest.mark.browser

PASSWORD = "radium-1898-polonium"


def play_room_round(page, choices: list[str]) -> int:
    """Answer every card of the room with the mouse; returns the final score."""
    page.locator("[data-room-play]").click()
    position = 0
    while True:
        page.locator("[data-guess]").first.wait_for()
        assert page.locator("[data-reveal]").count() == 0
        page.locator(f'[data-guess="{choices[position % len(choices)]}"]').click()
        assert_reveal_complete(page)
        position += 1
        nxt = page.locator("[data-next]")
        if "See your result" in nxt.inner_text():
            nxt.click()
            break
        nxt.click()
    page.wait_for_url("**/summary/")
    return int(page.locator("[data-score]").first.get_attribute("data-score"))


def test_a_teacher_runs_a_room_for_two_students_and_exports_the_results(
    page, new_page, live_server, live_game_data, artifacts_dir
):
    teacher = get_user_model().objects.create_user("ms-noether", password=PASSWORD)
    teacher.groups.add(Group.objects.get_or_create(name=TEACHERS_GROUP)[0])

    page.set_viewport_size(PROJECTOR)
    page.goto(live_server.url + "/accounts/login/?next=/rooms/")
    page.fill("#id_username", "ms-noether")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name=re.compile("Log in", re.I)).click()
    page.wait_for_url("**/rooms/")
    page.fill("#id_name", "Class 10a")
    page.select_option("#id_size", "5")
    page.get_by_role("button", name="Create the room").click()
    code = page.locator("[data-room-code]").get_attribute("data-room-code")
    assert re.fullmatch(r"[A-Z2-9]{8}", code)
    page.locator("[data-room-screen]").click()
    page.wait_for_url("**/screen/")

    students = {}
    for nickname, options in (
        ("Ada", {"viewport": PHONE, "is_mobile": True, "has_touch": True}),
        ("Max", {"viewport": {"width": 1280, "height": 900}}),
    ):
        student = new_page(**options)
        student.goto(live_server.url + "/rooms/join/")
        student.fill("#id_code", code.lower())
        student.fill("#id_nickname", nickname)
        student.get_by_role("button", name="Join").click()
        student.wait_for_url(f"**/rooms/play/{code}/")
        student.get_by_text("Waiting for the teacher").wait_for()
        students[nickname] = student
    # The projector lists both within a refresh or two.
    page.locator('[data-joined-player="Ada"]').wait_for(timeout=10_000)
    page.locator('[data-joined-player="Max"]').wait_for(timeout=10_000)
    page.screenshot(path=str(artifacts_dir / "room-projector-lobby.png"), full_page=True)
    page.locator('[data-room-action="start"]').click()
    page.locator('[data-room-status="running"]').first.wait_for()

    finals = {}
    for index, (nickname, student) in enumerate(students.items()):
        student.locator("[data-room-play]").wait_for(timeout=10_000)
        finals[nickname] = play_room_round(student, ["p", "He"] if index else ["Fe", "Si"])
        assert "Back to Class 10a" in student.locator("[data-room-back]").inner_text()
        if nickname == "Ada":
            student.wait_for_load_state("load")
            student.screenshot(path=str(artifacts_dir / "room-summary-phone.png"), full_page=True)
            assert student.evaluate(
                "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
            )

    # The live board on the projector shows both final scores.
    for nickname, points in finals.items():
        row = page.locator(f'#screen-live [data-leaderboard-row][data-player="{nickname}"]')
        row.wait_for()
        for _ in range(20):
            if row.get_attribute("data-points") == str(points):
                break
            page.wait_for_timeout(500)
        assert row.get_attribute("data-points") == str(points)
    page.locator('[data-room-action="close"]').click()
    page.locator("[data-podium]").wait_for()
    page.locator("[data-class-vs-machine]").wait_for()
    page.screenshot(path=str(artifacts_dir / "room-projector-podium.png"), full_page=True)
    board = {
        row.get_attribute("data-player"): int(row.get_attribute("data-points"))
        for row in page.locator("#screen-live [data-leaderboard-row]").all()
    }
    assert board == finals

    room_id = re.search(r"/rooms/(\d+)/screen/", page.url).group(1)
    export = page.request.get(f"{live_server.url}/rooms/{room_id}/export.csv")
    assert export.status == 200
    rows = list(csv.DictReader(io.StringIO(export.body().decode("utf-8-sig"))))
    assert {row["nickname"]: int(row["points"]) for row in rows} == finals
    assert all(int(row["answered"]) == 5 for row in rows)
    # A student cannot fetch the export.
    denied = students["Max"].request.get(f"{live_server.url}/rooms/{room_id}/export.csv")
    assert denied.status == 404
    assert_clean(page)
    for student in students.values():
        assert_clean(student)


def test_the_booth_plays_with_the_on_screen_keyboard_and_returns_to_attract_when_idle(
    new_page, live_server, live_game_data, settings, artifacts_dir
):
    settings.BOOTH_IDLE_SECONDS = 3
    kiosk = new_page(viewport={"width": 1280, "height": 800}, has_touch=True)
    kiosk.goto(live_server.url + "/booth/")
    assert kiosk.locator('nav[aria-label="Main"]').count() == 0
    for key in "ROSA":
        kiosk.locator(f'[data-osk-char="{key}"]').click()
    assert kiosk.input_value("[data-booth-input]") == "Rosa"
    kiosk.get_by_role("button", name="Play 5 showers").click()
    kiosk.locator("[data-guess]").first.wait_for()
    kiosk.locator('[data-guess="He"]').click()
    assert_reveal_complete(kiosk)
    kiosk.screenshot(path=str(artifacts_dir / "booth-reveal.png"), full_page=True)
    # A refresh mid-round comes back to the round.
    kiosk.goto(live_server.url + "/booth/")
    kiosk.wait_for_url(re.compile(r".*/card/1/$"))
    # Left alone, the kiosk forgets the visitor and shows the attract screen.
    kiosk.wait_for_url("**/booth/attract/", timeout=15_000)
    kiosk.get_by_text("Touch to play!").wait_for()
    kiosk.screenshot(path=str(artifacts_dir / "booth-attract.png"), full_page=True)
    kiosk.mouse.click(300, 300)
    kiosk.wait_for_url(re.compile(r".*/booth/$"))
    assert kiosk.input_value("[data-booth-input]") == ""
    assert_clean(kiosk)
