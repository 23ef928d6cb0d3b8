"""A visitor explores a dataset in Chromium: chooses, sorts, pages, redraws, reads the forests."""

from __future__ import annotations

import pytest

from classify.models import Shower

pytestmark = pytest.mark.browser


def test_choose_sort_page_redraw_and_see_the_three_forests(
    page, live_server, live_game_data, artifacts_dir
):
    dataset = live_game_data
    page.goto(live_server.url + "/explore/")
    page.select_option("#dataset-choice", str(dataset.id))
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(f"**/explore/?dataset={dataset.id}")
    page.locator(f'[data-dataset-name="{dataset.name}"]').wait_for()

    # Sort by the muon number, then reverse: rows come in the database's order.
    table = page.locator("#explore-table")
    page.locator('th[data-sort-key="lgNmu"] a').click()
    page.locator('th[data-sort-key="lgNmu"][aria-sort="ascending"]').wait_for()
    lowest = Shower.objects.filter(dataset=dataset).order_by("lg_n_mu", "row").first()
    assert table.locator("tbody tr").first.get_attribute("data-row") == str(lowest.row)
    page.locator('th[data-sort-key="lgNmu"] a').click()
    page.locator('th[data-sort-key="lgNmu"][aria-sort="descending"]').wait_for()
    highest = Shower.objects.filter(dataset=dataset).order_by("-lg_n_mu", "-row").first()
    assert table.locator("tbody tr").first.get_attribute("data-row") == str(highest.row)
    assert "sort=lgNmu" in page.url and "dir=desc" in page.url  # htmx pushed the address

    # Page: next, then the last page through the go-to form.
    page.locator('[data-page-link="next"]').click()
    page.locator('#explore-table[data-table-page="2"]').wait_for()
    pages = int(table.get_attribute("data-table-pages"))
    page.fill("#goto-page", str(pages))
    page.get_by_role("button", name="Go", exact=True).click()
    page.locator(f'#explore-table[data-table-page="{pages}"]').wait_for()
    lowest_last = Shower.objects.filter(dataset=dataset).order_by("lg_n_mu", "row").first()
    assert table.locator("tbody tr").last.get_attribute("data-row") == str(lowest_last.row)

    # Change the histogram's column and bins: a fresh binned chart and its table.
    chart = page.locator("[data-histogram-chart]")
    chart.locator(".main-svg").first.wait_for()
    page.select_option("#histogram-column", "lgNe")
    page.locator('[data-histogram-chart][data-histogram-column="lgNe"]').wait_for()
    page.locator("#histogram-bins").fill("20")
    page.locator('[data-histogram-chart][data-histogram-bins="20"]').wait_for()
    assert page.locator("#histogram-table tbody tr").count() == 20
    assert "lgNe" in chart.get_attribute("aria-label")

    # The two maps and the three forests (plus the truth) are drawn by plotly.js.
    page.locator("[data-map-chart].js-plotly-plot").nth(1).wait_for()
    assert page.locator("[data-map-chart].js-plotly-plot").count() == 2
    page.locator("[data-composition-chart].js-plotly-plot").nth(2).wait_for()
    assert page.locator("[data-composition-chart].js-plotly-plot").count() == 3
    page.locator("[data-truth-chart].js-plotly-plot").wait_for()
    assert page.locator("[data-truth-chart].js-plotly-plot").count() == 1
    assert page.locator(".js-plotly-plot .modebar").count() >= 1  # zoom and pan controls

    page.locator("#browser").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "explore.png"), full_page=True)

    # Back after an htmx swap: the page at the earlier address, its charts drawn again.
    page.go_back()
    page.wait_for_url("**sort=lgNmu&dir=desc&page=1")
    page.locator('#explore-table[data-table-page="1"][data-table-dir="desc"]').wait_for()
    page.locator("[data-map-chart].js-plotly-plot").nth(1).wait_for()
    assert page.recorder.console_errors == []
    assert page.recorder.page_errors == []
    assert page.recorder.outside_requests == []


def test_on_a_phone_the_page_does_not_scroll_sideways(
    new_page, live_server, live_game_data, artifacts_dir
):
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{live_server.url}/explore/?dataset={live_game_data.id}")
    phone.locator("[data-composition-chart].js-plotly-plot").nth(2).wait_for()
    widths = phone.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    table_scroll = phone.evaluate(
        "() => { const box = document.querySelector('#explore-table .table-scroll');"
        " return [box.scrollWidth, box.clientWidth]; }"
    )
    assert table_scroll[0] > table_scroll[1]  # the wide table scrolls inside its box
    phone.screenshot(path=str(artifacts_dir / "explore-phone.png"), full_page=True)
    for section in ("datasets", "columns", "browser", "histograms", "composition"):
        phone.locator(f"#{section}").screenshot(
            path=str(artifacts_dir / f"explore-phone-{section}.png")
        )
    assert phone.recorder.console_errors == []
    assert phone.recorder.outside_requests == []


@pytest.mark.parametrize(
    "locale, zoom, decimal",
    [("de-DE", "Zoomen", ","), ("ru-RU", "Масштаб", ","), ("en-GB", "Zoom", ".")],
)
def test_the_charts_own_controls_and_numbers_follow_the_pages_language(
    new_page, live_server, live_game_data, locale, zoom, decimal
):
    page = new_page(locale=locale, viewport={"width": 1280, "height": 900})
    page.goto(f"{live_server.url}/explore/?dataset={live_game_data.id}")
    page.locator("#histogram-chart .xtick text").first.wait_for()
    titles = page.eval_on_selector_all(".modebar-btn", "els => els.map(e => e.dataset.title)")
    assert zoom in titles
    ticks = page.eval_on_selector_all(
        "#histogram-chart .xtick text", "els => els.map(e => e.textContent)"
    )
    fractional = [tick for tick in ticks if "," in tick or "." in tick]
    assert fractional, ticks
    assert all(decimal in tick for tick in fractional), ticks
    assert page.recorder.console_errors == [] and page.recorder.page_errors == []
