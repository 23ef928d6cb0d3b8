"""Accessibility (WCAG 2.2 AA) in headless Chromium: axe-core on the main pages in English and
German, the booth animation under reduced motion, and a keyboard-only round in German."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# axe-core from the npm registry, fetched by tools/fetch_vendor.py (tools/vendor.json).
AXE = ROOT / "vendor" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
LOCALES = {"en": "en-GB", "de": "de-DE"}

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 6).map((node) => node.target.join(" ")),
  }));
}"""


def axe_problems(page, where: str) -> list[str]:
    """Serious and critical axe violations of the page as it is now, one line each."""
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(RUN_AXE, AXE_TAGS)
    return [
        f"{where}: {v['id']} ({v['impact']}: {v['help']}) at {v['targets']}"
        for v in violations
        if v["impact"] in BLOCKING
    ]


@pytest.fixture
def axe_page(new_page):
    """A page for the axe checks. bypass_csp=True only here: our content security policy
    forbids injected scripts, and axe-core is injected with add_script_tag."""

    def make(language: str):
        if not AXE.exists():
            pytest.fail(f"{AXE} is missing: run tools/fetch_vendor.py")
        return new_page(
            bypass_csp=True,
            locale=LOCALES[language],
            extra_http_headers={"Accept-Language": LOCALES[language]},
            viewport={"width": 1280, "height": 900},
        )

    return make


def _profile_slug() -> str:
    from django.contrib.auth import get_user_model

    from leaderboard.models import Player

    user = get_user_model().objects.create_user("ada", password="analytical-engine-1843")
    return Player.objects.create(
        user=user, nickname="Ada Lovelace", nickname_key="adalovelace"
    ).slug


@pytest.mark.parametrize("language", ["en", "de"])
def test_the_main_pages_have_no_serious_accessibility_violations(
    axe_page, live_server, live_game_data, language
):
    page = axe_page(language)
    problems = []

    def check(path: str | None, where: str) -> None:
        if path is not None:
            page.goto(live_server.url + path)
        assert page.locator("html").get_attribute("lang") == language, where
        problems.extend(axe_problems(page, where))

    check("/", "intro")
    check("/play/", "play start")
    page.locator("form.start-form button[type=submit]").click()
    page.locator("[data-guess]").first.wait_for()
    check(None, "card")
    page.locator('[data-guess="Fe"]').click()
    page.locator("[data-reveal]").wait_for()
    check(None, "reveal")
    while page.locator("[data-next][hx-get]").count():
        page.locator("[data-next]").click()
        page.locator('[data-guess="Fe"]').click()
        page.locator("[data-reveal]").wait_for()
    page.locator("[data-next]").click()
    page.wait_for_url("**/summary/")
    check(None, "round summary")
    check("/explore/", "explore")
    check("/leaderboard/", "leaderboard")
    check("/rooms/", "rooms")
    check("/rooms/join/", "join a room")
    check("/booth/", "booth")
    check("/booth/attract/", "booth attract screen")
    check(f"/players/{_profile_slug()}/", "profile")
    check("/no-such-page/", "page not found")
    assert not problems, "\n".join(problems)


def test_the_booth_animation_stands_still_under_reduced_motion(new_page, live_server, db):
    page = new_page(viewport={"width": 1280, "height": 900})
    page.emulate_media(reduced_motion="reduce")
    page.goto(live_server.url + "/booth/attract/")
    particle = page.locator(".shower-animation .particle").first
    assert particle.evaluate("el => getComputedStyle(el).animationName") == "none"
    assert particle.evaluate("el => getComputedStyle(el).opacity") == "1"
    page.emulate_media(reduced_motion="no-preference")
    page.reload()
    particle = page.locator(".shower-animation .particle").first
    assert particle.evaluate("el => getComputedStyle(el).animationName") == "shower-fall"


def test_a_keyboard_only_round_in_german(new_page, live_server, live_game_data):
    page = new_page(locale="de-DE", viewport={"width": 1280, "height": 900})
    page.goto(live_server.url + "/play/")
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.get_by_role("heading", name="Errate die kosmische Strahlung").is_visible()
    # Tab through the page until the start button has the focus, then Enter.
    page.locator("body").evaluate("body => document.activeElement.blur()")
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused == "Eine Runde mit 10 Schauern starten":
            break
    else:
        pytest.fail("Tab never reached the start button")
    page.keyboard.press("Enter")
    page.locator("[data-guess]").first.wait_for()
    # The first card came by navigation: its keys work once play.js (deferred) has run,
    # which is before the load event. A key pressed earlier reaches no handler.
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", name="Welcher Kern hat diesen Schauer ausgelöst?").count()
    for position in range(10):
        page.locator(f'[data-guess][data-key="{position % 5 + 1}"]').first.wait_for()
        page.keyboard.press(str(position % 5 + 1))
        reveal = page.locator("[data-reveal]")
        reveal.wait_for()
        title = reveal.locator("#reveal-title").inner_text()
        assert re.search(r"Richtig!|Nicht ganz\.", title), title
        assert "Es war" in title
        assert "Dieser Schauer (Primärteilchen:" in reveal.locator(".sentence").inner_text()
        next_link = page.locator("[data-next]")
        next_link.wait_for()
        # Waited for by Playwright's own matcher: a string predicate would need eval,
        # which the page's Content-Security-Policy refuses.
        expect(next_link).to_be_focused()
        page.keyboard.press("Enter")
    page.wait_for_url("**/summary/")
    assert page.get_by_role("heading", name="Runde beendet").is_visible()
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.recorder.console_errors == [] and page.recorder.page_errors == []
