"""The quiz in headless Chromium: a full round with the mouse, another with the keyboard on a phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from classify.hadronic_models import HADRONIC_MODELS

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
PROJECTOR = {"width": 1920, "height": 1080}
# Against the layout viewport: with is_mobile, Chromium widens window.innerWidth to
# whatever the page overflows to (a phone zooms out), so innerWidth would always fit.
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"


def assert_clean(page) -> None:
    assert page.recorder.console_errors == []
    assert page.recorder.page_errors == []
    assert page.recorder.outside_requests == []


def assert_reveal_complete(page) -> None:
    reveal = page.locator("[data-reveal]")
    reveal.wait_for()
    assert re.fullmatch(r"p|He|C|Si|Fe", reveal.locator("[data-truth]").get_attribute("data-truth"))
    models = reveal.locator("[data-model]")
    assert models.count() == 3
    assert [models.nth(i).get_attribute("data-model") for i in range(3)] == list(HADRONIC_MODELS)
    for i in range(3):
        assert models.nth(i).get_attribute("data-prediction") in {"p", "He", "C", "Si", "Fe"}


def test_a_new_player_plays_a_full_round_with_the_mouse(
    page, live_server, live_game_data, artifacts_dir
):
    page.goto(live_server.url + "/play/")
    assert page.get_by_text("How to play").is_visible()
    page.fill("#id_nickname", "Lise Meitner")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    scores = []
    for position in range(10):
        page.locator("[data-guess]").first.wait_for()
        assert page.locator("[data-reveal]").count() == 0, "no reveal before the guess"
        assert page.locator(".footprint svg[role=img]").count() == 1
        page.locator(f'[data-guess="{["p", "He", "C", "Si", "Fe"][position % 5]}"]').click()
        assert_reveal_complete(page)
        # The reveal came alone; the round bar above the card was swapped out of band.
        assert page.locator("#round-bar progress").get_attribute("value") == str(position + 1)
        assert page.locator(".footprint svg[role=img]").count() == 1, "the card stays"
        scores.append(int(page.locator("[data-score]").first.get_attribute("data-score")))
        if position == 0:
            page.screenshot(path=str(artifacts_dir / "quiz-reveal-desktop.png"), full_page=True)
        page.locator("[data-next]").click()
    page.wait_for_url("**/summary/")
    final = int(page.locator("[data-score]").first.get_attribute("data-score"))
    assert final == scores[-1]
    assert scores == sorted(scores), "the running score never goes down"
    assert "QGSJet-II.04 forest" in page.locator("[data-summary]").inner_text()
    page.goto(live_server.url + "/leaderboard/")
    assert page.locator('[data-player="Lise Meitner"]').get_attribute("data-points") == str(final)
    assert_clean(page)


def test_a_keyboard_round_on_a_phone_without_horizontal_scroll(
    new_page, live_server, live_game_data, artifacts_dir
):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).focus()
    page.keyboard.press("Enter")
    for position in range(10):
        page.locator("[data-guess]").first.wait_for()
        page.wait_for_load_state("load")  # the first card comes by navigation, with its CSS
        assert page.evaluate(NO_SIDEWAYS_SCROLL), "horizontal scroll"
        if position == 0:
            page.screenshot(path=str(artifacts_dir / "quiz-card-phone.png"), full_page=True)
        page.keyboard.press(str(position % 5 + 1))
        assert_reveal_complete(page)
        # play.js moves the focus after htmx settles the swap (a few ms after the reveal
        # is in the page): wait for it rather than race it.
        expect(page.locator("[data-next]"), "focus moves to Next").to_be_focused()
        if position == 0:
            page.screenshot(path=str(artifacts_dir / "quiz-reveal-phone.png"), full_page=True)
        page.keyboard.press("Enter")
    page.wait_for_url("**/summary/")
    assert page.locator("[data-summary]").is_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL)
    assert_clean(page)


def test_the_card_is_readable_on_a_projector(new_page, live_server, live_game_data, artifacts_dir):
    page = new_page(viewport=PROJECTOR)
    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    page.locator("[data-guess]").first.wait_for()
    # The card arrived by navigation: measure once its stylesheet is applied (the load
    # event), not as soon as the element is in the DOM.
    page.wait_for_load_state("load")
    font_px = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.fact-value')).fontSize)"
    )
    assert font_px >= 24, "readable from the back of a room"
    page.screenshot(path=str(artifacts_dir / "quiz-card-projector.png"))
    page.keyboard.press("5")
    assert_reveal_complete(page)
    page.screenshot(path=str(artifacts_dir / "quiz-reveal-projector.png"))
    assert_clean(page)


@pytest.mark.parametrize("failure", ["network", "proxy"])
def test_a_guess_that_got_no_answer_is_pressed_again_and_counts_once(
    page, live_server, live_game_data, failure
):
    """Booth or school wifi drops a guess, or a proxy loses the server's answer (a
    worker restarting behind it): the card stays, the player is told and presses
    again, sees the reveal, and the card holds one guess: the first that arrived."""
    from kascade_game.models import Guess

    lost = []

    def first_guess_gets_no_answer(route):
        if lost:
            route.continue_()
            return
        lost.append(route.request.url)
        if failure == "network":
            route.abort("connectionreset")  # never reached the server
        else:
            route.fetch()  # reached the server, which recorded it; the answer is lost
            route.fulfill(status=502, body="Bad Gateway")

    page.route("**/guess/", first_guess_gets_no_answer)
    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    page.locator("[data-guess]").first.wait_for()
    page.wait_for_load_state("load")
    public_id = re.search(r"/play/r/([^/]+)/card/0/", page.url).group(1)

    page.locator('[data-guess="Fe"]').click()
    expect(page.locator("[data-guess-unanswered]")).to_have_text(
        re.compile("No answer from the server")
    )
    expect(page.locator('[data-guess="p"]')).to_be_enabled()
    expect(page.locator('[data-guess="p"]')).to_be_focused()
    assert page.locator("[data-reveal]").count() == 0

    page.locator('[data-guess="p"]').click()
    assert_reveal_complete(page)
    assert len(lost) == 1
    guesses = list(Guess.objects.filter(card__round__public_id=public_id))
    assert len(guesses) == 1
    # Only a guess that reached the server counts; a repeat is answered with it.
    assert guesses[0].choice == ("p" if failure == "network" else "Fe")
    assert page.recorder.page_errors == []
    # The console holds only the lost request, as Chromium and htmx report it.
    reported = ("Failed to load resource", "htmx:sendError", "htmx:afterRequest", "Response Status")
    assert page.recorder.console_errors
    assert all(error.startswith(reported) for error in page.recorder.console_errors), (
        page.recorder.console_errors
    )


def test_a_next_card_that_got_no_answer_is_pressed_again(page, live_server, live_game_data):
    """The reveal stays on screen, says so, and the same button brings the next card."""
    lost = []

    def next_card_gets_no_answer(route):
        if lost or route.request.method != "GET":
            route.continue_()
            return
        lost.append(route.request.url)
        route.abort("connectionreset")

    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    page.locator("[data-guess]").first.wait_for()
    page.wait_for_load_state("load")
    page.route("**/card/1/", next_card_gets_no_answer)
    page.locator('[data-guess="C"]').click()
    assert_reveal_complete(page)

    page.locator("[data-next]").click()
    expect(page.locator("[data-next-unanswered]")).to_have_text(
        re.compile("No answer from the server")
    )
    expect(page.locator("[data-next]")).to_be_focused()
    assert page.locator("[data-reveal]").count() == 1
    assert "/card/0/" in page.url

    page.keyboard.press("Enter")
    page.locator("[data-guess]").first.wait_for()
    expect(page.locator("#round-bar")).to_contain_text(re.compile(r"Shower\s*2\s*of\s*10"))
    assert page.locator("[data-reveal]").count() == 0
    assert "/card/1/" in page.url
    assert len(lost) == 1
    assert page.recorder.page_errors == []


SMALL_PHONE = {"width": 320, "height": 568}
# Each element's right edge against its box's: a name running over its button is
# no scrollbar (the page may still fit), so both are measured.
SPILLS = """() => {
  const spilled = [];
  for (const button of document.querySelectorAll('[data-guess]')) {
    const box = button.getBoundingClientRect();
    for (const part of button.querySelectorAll('span, kbd')) {
      const r = part.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5) spilled.push(part.textContent);
    }
  }
  return spilled;
}"""
# The pieces of a button's name between its break opportunities ("Kohlenstoff/",
# "Sauerstoff") that the browser had to break inside a word: one line box each, or more.
BROKEN_WORDS = """() => {
  const broken = [];
  for (const name of document.querySelectorAll('[data-guess] .guess-name')) {
    for (const text of name.childNodes) {
      if (text.nodeType !== Node.TEXT_NODE) continue;
      const range = document.createRange();
      range.selectNodeContents(text);
      if (range.getClientRects().length > 1) broken.push(text.textContent);
    }
  }
  return broken;
}"""


@pytest.mark.parametrize("locale", ["en-GB", "de-DE", "ru-RU"])
def test_a_320_px_phone_shows_the_card_the_reveal_and_the_booth_without_spilling(
    new_page, live_server, live_game_data, artifacts_dir, locale
):
    page = new_page(viewport=SMALL_PHONE, is_mobile=True, has_touch=True, locale=locale)
    page.goto(live_server.url + "/play/")
    page.locator("form[action$='/play/new/'] button[type=submit]").click()
    page.locator("[data-guess]").first.wait_for()
    page.wait_for_load_state("load")
    assert page.evaluate(SPILLS) == [], "a guess button's text runs over its border"
    assert page.evaluate(BROKEN_WORDS) == [], "a guess button's name is broken inside a word"
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the card scrolls sideways"
    page.locator('[data-guess="C"]').click()
    assert_reveal_complete(page)
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the reveal scrolls sideways"
    page.screenshot(path=str(artifacts_dir / f"quiz-reveal-320-{locale}.png"), full_page=True)
    page.goto(live_server.url + "/booth/")
    page.locator("[data-osk]").wait_for()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), "the booth's name form scrolls sideways"
    assert_clean(page)


# Clicks a guess button in the very microtask its card is put into the page: before a
# person could, as fast as a script driving the HTML hooks can.
CLICK_THE_NEW_CARD = """() => {
  window.pressedBeforeHtmx = null;
  const area = document.getElementById('play-area');
  new MutationObserver((records, observer) => {
    const button = area.querySelector('[data-guess="Fe"]');
    if (button) {
      observer.disconnect();
      window.pressedBeforeHtmx = !!button.closest('.htmx-added');
      button.click();
    }
  }).observe(area, {childList: true, subtree: true});
}"""


def test_a_guess_clicked_the_instant_its_card_appears_counts(page, live_server, live_game_data):
    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    page.locator("[data-guess]").first.wait_for()
    page.wait_for_load_state("load")
    page.locator('[data-guess="p"]').click()
    for answered in (2, 3, 4):
        expect(page.locator("[data-reveal]")).to_be_visible()
        page.evaluate(CLICK_THE_NEW_CARD)
        page.locator("[data-next]").click()
        # The next card's reveal comes without a press of ours: the instant click counted.
        expect(page.locator("#round-bar progress")).to_have_attribute("value", str(answered))
        expect(page.locator("[data-reveal]")).to_be_visible()
        assert page.evaluate("window.pressedBeforeHtmx") is False, "clicked before htmx took over"
    assert_clean(page)


def test_a_full_round_without_javascript_posts_redirects_and_a_reload_changes_nothing(
    new_page, live_server, live_game_data
):
    page = new_page(viewport={"width": 1280, "height": 900}, java_script_enabled=False)
    page.goto(live_server.url + "/play/")
    page.fill("#id_nickname", "Hedy Lamarr")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    scores = []
    for position in range(10):
        page.locator(f'[data-guess="{["Fe", "Si", "C", "He", "p"][position % 5]}"]').click()
        assert_reveal_complete(page)
        # Post/Redirect/Get: the address is the card's own page at its reveal, not the
        # guess URL a reload would post to again.
        assert page.url.endswith(f"/card/{position}/#guess-area"), page.url
        score = int(page.locator("[data-score]").first.get_attribute("data-score"))
        page.reload()
        assert_reveal_complete(page)
        assert page.locator("[data-guess]").count() == 0, "an answered card takes no guess"
        assert int(page.locator("[data-score]").first.get_attribute("data-score")) == score
        scores.append(score)
        page.locator("[data-next]").click()
    page.wait_for_url("**/summary/")
    assert int(page.locator("[data-score]").first.get_attribute("data-score")) == scores[-1]
    page.goto(live_server.url + "/leaderboard/")
    assert page.locator('[data-player="Hedy Lamarr"]').get_attribute("data-points") == str(
        scores[-1]
    )
    assert_clean(page)


def test_a_printed_page_is_black_on_white_without_the_screens_controls(
    page, live_server, live_game_data
):
    # Browsers print without backgrounds: the dark theme's light text would vanish.
    page.goto(live_server.url + "/play/")
    page.get_by_role("button", name=re.compile("Start a round")).click()
    page.locator("[data-guess]").first.wait_for()
    page.locator('[data-guess="Fe"]').click()
    expect(page.locator("[data-reveal]")).to_be_visible()
    page.emulate_media(media="print")
    colours = page.evaluate(
        "() => ['#card-title', '.fact-value', '.reveal-title', '[data-truth]']"
        ".map(s => getComputedStyle(document.querySelector(s)).color)"
    )
    assert colours == ["rgb(0, 0, 0)"] * 4
    hidden = page.evaluate(
        "() => ['.site-header nav', '.language-switcher', '[data-next]']"
        ".map(s => getComputedStyle(document.querySelector(s)).display)"
    )
    assert hidden == ["none"] * 3
    # The shower's picture keeps its own colours: its background is an SVG fill.
    assert (
        page.evaluate("getComputedStyle(document.querySelector('.footprint svg .bg')).fill")
        == "rgb(11, 20, 38)"
    )
    page.emulate_media(media="screen")
    assert page.evaluate("getComputedStyle(document.querySelector('#card-title')).color") != (
        "rgb(0, 0, 0)"
    )
