"""A new player signs up, plays, finds themself on the board, logs out and in, reads their profile."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def test_sign_up_play_find_yourself_on_the_board_and_in_your_profile(
    page, live_server, live_game_data
):
    page.goto(live_server.url + "/accounts/signup/")
    page.fill("#id_username", "vera")
    page.fill("#id_nickname", "Vera Rubin")
    page.fill("#id_password1", "dark-matter-1928!")
    page.fill("#id_password2", "dark-matter-1928!")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/profile/")

    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    for position in range(10):
        page.locator(f'[data-guess="{["p", "He", "C", "Si", "Fe"][position % 5]}"]').click()
        page.locator("[data-reveal]").wait_for()
        page.locator("[data-next]").click()
    page.wait_for_url("**/summary/")
    points = page.locator("[data-score]").first.get_attribute("data-score")

    page.goto(live_server.url + "/leaderboard/")
    row = page.locator('[data-leaderboard-row][data-player="Vera Rubin"]')
    assert row.get_attribute("data-points") == points
    page.get_by_role("link", name="Today").click()
    page.locator('[data-board="today"] [data-player="Vera Rubin"]').wait_for()

    page.goto(live_server.url + "/accounts/profile/")
    page.get_by_role("button", name="Log out").click()
    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_username", "vera")
    page.fill("#id_password", "dark-matter-1928!")
    page.get_by_role("button", name="Log in").click()
    # The log-in's answer sets the session cookie: wait for it before the next navigation.
    page.wait_for_url(lambda url: "/accounts/login/" not in url)
    page.goto(live_server.url + "/accounts/profile/")
    assert page.locator(f'[data-round-points="{points}"]').count() == 1
    assert page.locator("[data-matrix]").count() == 4
    assert page.recorder.console_errors == []
    assert page.recorder.outside_requests == []
