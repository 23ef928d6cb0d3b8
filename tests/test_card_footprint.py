"""The footprint picture on the shower card: array geometry, LDFs and the SVG (pure, no DB)."""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from scipy.integrate import quad

from kascade_game.footprint import (
    electron_density,
    muon_density,
    render_footprint_svg,
    station_densities,
    station_has_muon_detector,
    station_positions,
)

SVG_NS = "{http://www.w3.org/2000/svg}"
EXAMPLE = dict(
    core_x_m=-20.0, core_y_m=35.0, zenith_deg=25.0, azimuth_deg=60.0,
    lg_n_e=3.6, lg_n_mu=3.25, age=1.1,
)  # fmt: skip


def _svg(**overrides) -> str:
    return render_footprint_svg(**{**EXAMPLE, **overrides})


def _path_points(d: str) -> list[tuple[float, float]]:
    """Start points of the subpaths of a path made of M/m moves (absolute + relative)."""
    points, x, y = [], 0.0, 0.0
    for cmd, a, b in re.findall(r"([Mm])\s*(-?[\d.]+)\s*(-?[\d.]+)", d):
        if cmd == "M":
            x, y = float(a), float(b)
        else:
            x, y = x + float(a), y + float(b)
        points.append((x, y))
    return points


def _arrow_vector(svg: str) -> tuple[float, float]:
    root = ET.fromstring(svg)
    shaft = next(p for p in root.iter(f"{SVG_NS}path") if p.get("data-arrow"))
    (x0, y0), (x1, y1) = (
        tuple(map(float, pair)) for pair in re.findall(r"[ML](-?[\d.]+) (-?[\d.]+)", shaft.get("d"))
    )
    return x1 - x0, y1 - y0


# ---------------------------------------------------------------------------- array


def test_there_are_exactly_252_stations_within_100_m():
    p = station_positions()
    assert p.shape == (252, 2)
    assert np.all(np.abs(p) <= 100.0)
    assert len({(x, y) for x, y in p}) == 252


def test_stations_sit_on_the_13_m_grid_except_two_displaced_beside_the_centre():
    p = station_positions()
    on_grid = np.all(np.isclose(((p + 97.5) / 13.0) % 1.0, 0.0), axis=1)
    assert on_grid.sum() == 250
    # The two off-grid stations are the ones next to the central building, a few metres
    # from their grid positions (+-6.5, 19.5).
    for x, y in p[~on_grid]:
        assert abs(x) == 6.5 and 19.5 < y <= 26.0


def test_the_four_central_grid_positions_are_empty():
    p = station_positions()
    for cx in (-6.5, 6.5):
        for cy in (-6.5, 6.5):
            assert not np.any(np.all(np.isclose(p, (cx, cy)), axis=1))


def test_sixteen_clusters_hold_15_or_16_stations_and_192_have_muon_detectors():
    p = station_positions()
    cluster = np.floor((p + 104.0) / 52.0).astype(int)
    counts = np.bincount(cluster[:, 0] * 4 + cluster[:, 1], minlength=16)
    assert sorted(counts) == [15] * 4 + [16] * 12
    assert station_has_muon_detector().sum() == 192


# ---------------------------------------------------------------------------- LDFs


def test_nkg_density_falls_with_distance():
    r = np.geomspace(1.0, 500.0, 50)
    rho = electron_density(r, n_e=1e4, age=1.1)
    assert np.all(np.diff(rho) < 0)


@pytest.mark.parametrize("age", [0.3, 1.0, 1.48, 2.0])
def test_nkg_density_integrates_to_the_electron_number(age):
    n_e = 10**4.2
    total, _ = quad(
        lambda r: 2 * math.pi * r * electron_density(r, n_e=n_e, age=age), 0, np.inf, limit=400
    )
    assert total == pytest.approx(n_e, rel=1e-3)


def test_age_is_clipped_where_the_nkg_normalisation_is_finite():
    rho = electron_density(50.0, n_e=1e4, age=3.0)
    assert math.isfinite(rho) and rho > 0
    assert rho == electron_density(50.0, n_e=1e4, age=2.2)


def test_older_showers_are_flatter():
    def far_over_near(age):
        return electron_density(100.0, n_e=1e4, age=age) / electron_density(10.0, n_e=1e4, age=age)

    assert far_over_near(0.6) < far_over_near(1.0) < far_over_near(1.4)


def test_muon_density_integrates_to_the_muon_number():
    n_mu = 10**3.25
    total, _ = quad(lambda r: 2 * math.pi * r * muon_density(r, n_mu=n_mu), 0, np.inf, limit=400)
    assert total == pytest.approx(n_mu, rel=2e-3)


def test_muons_are_spread_flatter_than_electrons():
    e = electron_density(np.array([10.0, 100.0]), n_e=1e4, age=1.1)
    m = muon_density(np.array([10.0, 100.0]), n_mu=1e4)
    assert m[1] / m[0] > 3 * (e[1] / e[0])


# ---------------------------------------------------------------------------- densities


@pytest.mark.parametrize(
    "core,zenith,azimuth", [((-20.0, 35.0), 25.0, 60.0), ((40.0, -70.0), 5.0, 200.0)]
)
def test_station_nearest_the_core_has_the_highest_electron_density(core, zenith, azimuth):
    dens = station_densities(
        core_x_m=core[0],
        core_y_m=core[1],
        zenith_deg=zenith,
        azimuth_deg=azimuth,
        lg_n_e=3.6,
        lg_n_mu=3.25,
        age=1.1,
    )
    nearest = int(np.argmin(np.hypot(*(dens.positions - np.array(core)).T)))
    assert int(np.argmax(dens.electron)) == nearest


def test_the_nearest_station_is_drawn_in_the_highest_electron_class_of_the_svg():
    root = ET.fromstring(_svg())
    classes = {}
    for path in root.iter(f"{SVG_NS}path"):
        names = path.get("class", "").split()
        if "st" not in names:
            continue
        level = int(next(n[1:] for n in names if re.fullmatch(r"e\d", n)))
        for x, y in _path_points(path.get("d")):
            centre = (round(x + 3.5, 1), round(-(y + 3.5), 1))  # 7 m squares, y flipped
            if abs(centre[0]) <= 100 and abs(centre[1]) <= 100:  # not the legend swatches
                classes[centre] = level
    assert len(classes) == 252
    p = station_positions()
    nearest = p[np.argmin(np.hypot(p[:, 0] + 20.0, p[:, 1] - 35.0))]
    assert classes[(nearest[0], nearest[1])] == max(classes.values())


# ---------------------------------------------------------------------------- SVG


def test_svg_is_accessible_xml_with_title_and_description():
    svg = render_footprint_svg(**EXAMPLE, id_prefix="card7")
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "card7-t card7-d"
    title = root.find(f"{SVG_NS}title")
    desc = root.find(f"{SVG_NS}desc")
    assert title.get("id") == "card7-t" and title.text
    assert desc.get("id") == "card7-d"
    assert "core" in desc.text and "stations" in desc.text and "east-north-east" in desc.text


def test_typical_svg_is_at_most_12_kb():
    assert len(_svg().encode()) <= 12 * 1024
    big = _svg(lg_n_e=5.3, lg_n_mu=4.4, age=0.5, zenith_deg=50.0, core_x_m=90, core_y_m=90)
    assert len(big.encode()) <= 12 * 1024


def test_svg_has_no_scripts_handlers_or_external_urls():
    svg = _svg()
    root = ET.fromstring(svg)
    for element in root.iter():
        assert element.tag not in (f"{SVG_NS}script", f"{SVG_NS}foreignObject")
        assert not [name for name in element.attrib if name.lower().startswith("on")]
        assert not [v for k, v in element.attrib.items() if k.endswith("href")]
    assert re.findall(r"https?://[^\s\"']+", svg) == ["http://www.w3.org/2000/svg"]


def test_custom_title_and_description_are_escaped():
    root = ET.fromstring(_svg(title="A & B", description="<b>hi</b>"))
    assert root.find(f"{SVG_NS}title").text == "A & B"
    assert root.find(f"{SVG_NS}desc").text == "<b>hi</b>"


def test_arrow_points_north_for_azimuth_0():
    dx, dy = _arrow_vector(_svg(azimuth_deg=0.0, core_x_m=0.0, core_y_m=-30.0))
    assert abs(dx) < 0.2 and dy < -10  # towards +y in the array = up (smaller y) in SVG


def test_arrow_points_east_for_azimuth_90():
    dx, dy = _arrow_vector(_svg(azimuth_deg=90.0, core_x_m=-30.0, core_y_m=0.0))
    assert dx > 10 and abs(dy) < 0.2


def test_arrow_grows_with_zenith_and_vanishes_for_vertical_showers():
    def length(zenith):
        return math.hypot(*_arrow_vector(_svg(zenith_deg=zenith, core_x_m=0.0, core_y_m=0.0)))

    assert length(15.0) < length(30.0) < length(50.0)
    assert "data-arrow" not in _svg(zenith_deg=1.0)


def test_show_muons_false_draws_no_muon_markers():
    with_mu = ET.fromstring(_svg())
    without = ET.fromstring(_svg(show_muons=False))

    def muon_paths(root):
        return [p for p in root.iter(f"{SVG_NS}path") if "mu" in p.get("class", "").split()]

    assert muon_paths(with_mu)
    assert muon_paths(without) == []


def test_muon_markers_only_on_stations_with_muon_detectors():
    root = ET.fromstring(_svg(lg_n_mu=4.5))
    drawn = set()
    for path in root.iter(f"{SVG_NS}path"):
        if "mu" in path.get("class", "").split() and path.get("d", "").count("h0") > 5:
            drawn |= {(round(x, 1), round(-y, 1)) for x, y in _path_points(path.get("d"))}
    p = station_positions()[station_has_muon_detector()]
    assert drawn == {(float(x), float(y)) for x, y in p}


def test_core_outside_the_array_is_labelled_and_kept_in_view():
    root = ET.fromstring(_svg(core_x_m=-140.0, core_y_m=0.0))
    labels = [t.text for t in root.iter(f"{SVG_NS}text")]
    assert "core (off the array)" in labels


@pytest.mark.parametrize(
    "language, inside, outside",
    [
        ("en", "core", "core (off the array)"),
        ("de", "Kern", "Kern (außerhalb des Felds)"),
        ("ru", "ось", "ось (вне установки)"),
    ],
)
def test_the_core_label_on_the_picture_is_in_the_visitors_language(language, inside, outside):
    from django.utils import translation

    with translation.override(language):
        labels_in = [t.text for t in ET.fromstring(_svg()).iter(f"{SVG_NS}text")]
        labels_out = [t.text for t in ET.fromstring(_svg(core_x_m=-140.0)).iter(f"{SVG_NS}text")]
    assert inside in labels_in
    assert outside in labels_out


def test_the_legend_is_kept_per_language_and_written_in_the_active_one():
    from django.utils import translation

    for language, label in (
        ("en", "electrons per m²"),
        ("de", "Elektronen pro m²"),
        ("ru", "электронов на м²"),
        ("en", "electrons per m²"),
    ):
        with translation.override(language):
            svg = _svg()
        assert f">{label}</text>" in svg, language


def test_one_drawing_serves_a_shower_at_every_position_with_its_own_ids():
    from types import SimpleNamespace

    from django.utils import translation

    from kascade_game.footprint import _cached_footprint, shower_footprint_svg

    shower = SimpleNamespace(**EXAMPLE)
    _cached_footprint.cache_clear()
    with translation.override("de"):
        for prefix in ("fp0", "fp7", "fp0"):
            svg = shower_footprint_svg(shower, id_prefix=prefix)
            assert svg == _svg(id_prefix=prefix)
            assert f'aria-labelledby="{prefix}-t {prefix}-d"' in svg
    info = _cached_footprint.cache_info()
    assert (info.misses, info.hits) == (1, 2)
