"""The picture on the shower card: a shower's footprint on the KASCADE array.

Pure Python + NumPy (no Django, no SciPy at run time), so it is cheap to call
on every card request and easy to test.

Geometry
--------
The KASCADE array: 252 scintillator stations on a square grid with 13 m
spacing, 16 clusters of 4 x 4 stations (cluster pitch 52 m), the outermost
stations at +-97.5 m, i.e. a 195 m x 195 m grid inside the 200 m x 200 m
field. The four grid positions at the centre are empty (the central hadron
calorimeter building stood there). The four inner clusters have 15 stations
each with e/gamma detectors only; the twelve outer clusters have 16 stations
each, with e/gamma detectors on a lead/iron absorber and a muon scintillator
(threshold about 230 MeV) underneath: 4 x 15 + 12 x 16 = 252 stations, 192 of
them with muon detectors.

Sources: T. Antoni et al. (KASCADE), "The cosmic-ray experiment KASCADE",
Nucl. Instrum. Meth. A 513 (2003) 490, as summarised in D. Fokkema, PhD thesis
(Univ. of Amsterdam, 2012), ch. "HiSPARC at KASCADE" (252 stations, 13 m,
195 m side, the 15/16-station clusters, which clusters carry muon detectors)
and its schematic map `figures/kascade-map.tex` (github.com/davidfokkema/
phdthesis), which also places the two stations next to the central building,
at (+-6.5, 19.5) on the grid, 4 m further north at (+-6.5, 23.5). That map is
schematic; the displacement is what it draws, not a surveyed position.

Coordinates: metres in the array frame centred on the array. We take x = east
and y = north, and azimuth measured from north towards east (KCDC convention,
A. Haungs et al., Eur. Phys. J. C 78 (2018) 741). Note: Fokkema's map shows the
real KASCADE grid rotated by about 15 degrees against geographic north; the
card ignores that rotation and treats the array's +y axis as north.

Lateral distribution functions
------------------------------
Electrons: the Nishimura-Kamata-Greisen function (K. Greisen, Ann. Rev. Nucl.
Sci. 10 (1960) 63)

    rho_e(r) = N_e C(s) / r_M^2 (r/r_M)^(s-2) (1 + r/r_M)^(s-4.5),
    C(s) = Gamma(4.5 - s) / (2 pi Gamma(s) Gamma(4.5 - 2s)),

normalised so that the integral of 2 pi r rho_e dr over the plane is N_e. We use
the scale ("Moliere") radius r_M = 30 m: KASCADE found that NKG functions with
a scale radius of about 30 m describe its measured electron lateral
distributions best (T. Antoni et al., "Electron, muon, and hadron lateral
distributions measured in air showers by the KASCADE experiment", Astropart.
Phys. 14 (2001) 245, astro-ph/0004233, abstract), rather than the 89 m Moliere
radius of the air at the site. KCDC's Age column comes from KASCADE's own fit
function; putting it into this NKG form gives the right qualitative shape
(older = flatter), not a re-fit of the event.

Muons: the Lagutin-type function used by KASCADE-Grande to reconstruct the
muon number from the KASCADE muon detectors (W. D. Apel et al., "The
KASCADE-Grande experiment", Nucl. Instrum. Meth. A 620 (2010) 202):

    rho_mu(r) = N_mu f(r),
    f(r) = 0.28 / r0^2 (r/r0)^p1 (1 + r/r0)^p2 (1 + (r/(10 r0))^2)^p3,
    r0 = 320 m, p1 = -0.69, p2 = -2.39, p3 = -1.

These values are quoted from that paper's muon lateral function; the paper's
text was not reachable from our reference search, so they are from the
published formula as we know it. The quoted 0.28 integrates to 1.07 rather than
1, so we normalise f numerically to exactly 1 (see `_muon_norm`).

Densities are evaluated in the shower plane: the distance of a station from
the shower axis, r^2 = d^2 - (d . u)^2 sin^2(zenith) with d the ground vector
from the core and u the horizontal unit vector of the arrival azimuth (as
KASCADE quoted densities "on the shower front", Fokkema 2012, ch. 5).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

import numpy as np
from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import get_language, pgettext, pgettext_lazy
from django.utils.translation import gettext as _

__all__ = [
    "GRID_SPACING_M",
    "MOLIERE_RADIUS_M",
    "MUON_LDF_R0_M",
    "StationDensities",
    "compass_name",
    "electron_density",
    "muon_density",
    "render_footprint_svg",
    "station_has_muon_detector",
    "station_positions",
    "station_densities",
]

GRID_SPACING_M = 13.0
CLUSTER_PITCH_M = 52.0
#: Positions (east, north) of the two stations moved away from the central building,
#: from Fokkema (2012), figures/kascade-map.tex: grid (+-6.5, 19.5) -> (+-6.5, 23.5).
DISPLACED_STATIONS = {(-6.5, 19.5): (-6.5, 23.5), (6.5, 19.5): (6.5, 23.5)}

#: NKG scale radius for electrons (Antoni et al., Astropart. Phys. 14 (2001) 245).
MOLIERE_RADIUS_M = 30.0
#: Lateral age range in which the NKG normalisation C(s) is finite: Gamma(s) needs
#: s > 0 and Gamma(4.5 - 2s) needs s < 2.25; KCDC itself clips Age to 0.1 ... 1.48.
AGE_MIN, AGE_MAX = 0.1, 2.2

#: Lagutin-type muon LDF of KASCADE-Grande (Apel et al., NIM A 620 (2010) 202).
MUON_LDF_R0_M = 320.0
MUON_LDF_P1, MUON_LDF_P2, MUON_LDF_P3 = -0.69, -2.39, -1.0

#: Smallest distance from the axis at which a station's density is evaluated: the
#: functions diverge at r = 0 and a station's detectors cover a couple of metres.
MIN_STATION_DISTANCE_M = 1.0


# --------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _positions() -> np.ndarray:
    half = np.arange(-7.5, 8.0, 1.0) * GRID_SPACING_M  # -97.5 ... 97.5
    rows = []
    for y in half:
        for x in half:
            if abs(x) < GRID_SPACING_M and abs(y) < GRID_SPACING_M:
                continue  # the four centre positions: the central detector building
            rows.append(DISPLACED_STATIONS.get((float(x), float(y)), (float(x), float(y))))
    positions = np.array(rows, dtype=float)
    positions.setflags(write=False)
    return positions


def station_positions() -> np.ndarray:
    """The 252 KASCADE stations as an array of shape (252, 2): (x east, y north) in metres.

    16 clusters of 4 x 4 stations on a 13 m grid (outermost at +-97.5 m), without the
    four centre positions; two stations beside the central building sit 4 m north of
    their grid positions. Source: T. Antoni et al., Nucl. Instrum. Meth. A 513 (2003)
    490, via D. Fokkema's KASCADE map (PhD thesis, Amsterdam 2012); see module docstring.
    """
    return _positions().copy()


def station_has_muon_detector() -> np.ndarray:
    """Boolean mask (252,): True for the 192 stations of the 12 outer clusters.

    The four inner clusters (|x|, |y| < 52 m) carry e/gamma detectors only (Antoni et
    al. 2003, as summarised by Fokkema 2012).
    """
    p = _positions()
    inner = (np.abs(p[:, 0]) < CLUSTER_PITCH_M) & (np.abs(p[:, 1]) < CLUSTER_PITCH_M)
    return ~inner


# --------------------------------------------------------------------------------------
# Lateral distribution functions
# --------------------------------------------------------------------------------------


def _clip_age(age: float) -> float:
    return float(min(max(age, AGE_MIN), AGE_MAX))


def nkg_c(age: float) -> float:
    """C(s) = Gamma(4.5 - s) / (2 pi Gamma(s) Gamma(4.5 - 2s)), with s clipped to 0.1 ... 2.2."""
    s = _clip_age(age)
    return math.gamma(4.5 - s) / (2.0 * math.pi * math.gamma(s) * math.gamma(4.5 - 2.0 * s))


def electron_density(r_m, *, n_e: float, age: float, r_moliere_m: float = MOLIERE_RADIUS_M):
    """NKG electron density [1/m^2] at distance r_m [m] (> 0) from the shower axis.

    Integrates (2 pi r dr over the plane) to n_e. `age` is the lateral age s, clipped to
    0.1 ... 2.2 so that C(s) stays finite. Accepts scalars or arrays.
    """
    s = _clip_age(age)
    x = np.asarray(r_m, dtype=float) / r_moliere_m
    rho = n_e * nkg_c(s) / r_moliere_m**2 * x ** (s - 2.0) * (1.0 + x) ** (s - 4.5)
    return rho if rho.ndim else float(rho)


def _lagutin_shape(x):
    return x**MUON_LDF_P1 * (1.0 + x) ** MUON_LDF_P2 * (1.0 + (x / 10.0) ** 2) ** MUON_LDF_P3


@lru_cache(maxsize=1)
def _muon_norm() -> float:
    """1 / integral of 2 pi x shape(x) dx over the plane (x = r / r0), by quadrature.

    Trapezoidal rule in ln x from 1e-7 to 1e5 (the integrand falls as x^-3.1 at large x
    and as x^1.31 at small x, so the tails beyond are below 1e-6).
    """
    lnx = np.linspace(math.log(1e-7), math.log(1e5), 20001)
    x = np.exp(lnx)
    integrand = 2.0 * math.pi * x * _lagutin_shape(x) * x  # extra x: d x = x d ln x
    total = float(np.sum((integrand[1:] + integrand[:-1]) * np.diff(lnx)) / 2.0)
    return 1.0 / total


def warm() -> None:
    """Build the array's geometry and the muon profile's norm now (kascade_game/warm.py)."""
    _positions()
    _muon_norm()


def muon_density(r_m, *, n_mu: float, r0_m: float = MUON_LDF_R0_M):
    """Muon density [1/m^2] at distance r_m [m] (> 0) from the axis; integrates to n_mu.

    Lagutin-type function of KASCADE-Grande (r0 = 320 m, exponents -0.69, -2.39, -1),
    normalised numerically. Much flatter than the electron NKG function.
    """
    x = np.asarray(r_m, dtype=float) / r0_m
    rho = n_mu * _muon_norm() / r0_m**2 * _lagutin_shape(x)
    return rho if rho.ndim else float(rho)


# --------------------------------------------------------------------------------------
# Per-station densities
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StationDensities:
    """Per-station values, index-aligned with `station_positions()`."""

    positions: np.ndarray  # (252, 2) m, x east / y north
    distance_m: np.ndarray  # (252,) distance from the shower axis in the shower plane
    electron: np.ndarray  # (252,) electrons per m^2
    muon: np.ndarray  # (252,) muons per m^2 (model value, also where no muon detector)
    has_muon_detector: np.ndarray  # (252,) bool

    def rows(self):
        """Plain rows for a text table: (x, y, distance, electrons/m^2, muons/m^2 or None)."""
        for (x, y), r, e, m, has_mu in zip(
            self.positions,
            self.distance_m,
            self.electron,
            self.muon,
            self.has_muon_detector,
            strict=True,
        ):
            yield float(x), float(y), float(r), float(e), (float(m) if has_mu else None)


def _axis_unit(azimuth_deg: float) -> tuple[float, float]:
    """Horizontal unit vector towards the arrival azimuth (from north, towards east)."""
    a = math.radians(azimuth_deg)
    return math.sin(a), math.cos(a)


def station_densities(
    *,
    core_x_m: float,
    core_y_m: float,
    zenith_deg: float,
    azimuth_deg: float,
    lg_n_e: float,
    lg_n_mu: float,
    age: float,
) -> StationDensities:
    """Electron and muon densities at every station for one shower (shower-plane distances)."""
    p = _positions()
    dx = p[:, 0] - core_x_m
    dy = p[:, 1] - core_y_m
    ux, uy = _axis_unit(azimuth_deg)
    along = dx * ux + dy * uy
    sin_ze = math.sin(math.radians(zenith_deg))
    r = np.sqrt(np.maximum(dx * dx + dy * dy - (along * sin_ze) ** 2, 0.0))
    r_eval = np.maximum(r, MIN_STATION_DISTANCE_M)
    return StationDensities(
        positions=p.copy(),
        distance_m=r,
        electron=electron_density(r_eval, n_e=10.0**lg_n_e, age=age),
        muon=muon_density(r_eval, n_mu=10.0**lg_n_mu),
        has_muon_detector=station_has_muon_detector(),
    )


# --------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------

#: Electron density classes: lower edges in lg(rho_e / m^-2); below the first: "e0".
ELECTRON_EDGES = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0)
#: Viridis-like ramp, from dim blue to bright yellow, readable on #0b1426 (class e0, below
#: the first edge, is an empty outlined square).
ELECTRON_COLOURS = (
    "#2b3a7a", "#2b5c9e", "#23839f", "#1fa48f", "#3fbf6f", "#8ad24a", "#d4e33a", "#fff48f",
)  # fmt: skip
#: Muon classes: lower edges in lg(rho_mu / m^-2) and dot diameters [m]; the largest
#: leaves a ring of the 7 m square's electron colour visible around the dot.
MUON_EDGES = (-3.0, -2.5, -2.0, -1.5, -1.0)
MUON_DIAMETERS = (1.0, 1.7, 2.4, 3.1, 3.9)

SQUARE_M = 7.0
VIEW_X0, VIEW_Y0, VIEW_W, VIEW_H = -112, -118, 224, 272
ARROW_MAX_M = 80.0  # arrow length at zenith 90 deg: length = ARROW_MAX_M sin(zenith)

_COMPASS = (
    pgettext_lazy("direction", "north"), pgettext_lazy("direction", "north-north-east"),
    pgettext_lazy("direction", "north-east"), pgettext_lazy("direction", "east-north-east"),
    pgettext_lazy("direction", "east"), pgettext_lazy("direction", "east-south-east"),
    pgettext_lazy("direction", "south-east"), pgettext_lazy("direction", "south-south-east"),
    pgettext_lazy("direction", "south"), pgettext_lazy("direction", "south-south-west"),
    pgettext_lazy("direction", "south-west"), pgettext_lazy("direction", "west-south-west"),
    pgettext_lazy("direction", "west"), pgettext_lazy("direction", "west-north-west"),
    pgettext_lazy("direction", "north-west"), pgettext_lazy("direction", "north-north-west"),
)  # fmt: skip


def compass_name(azimuth_deg: float) -> str:
    """16-point compass name of an azimuth measured from north towards east."""
    return str(_COMPASS[int(((azimuth_deg % 360.0) + 11.25) // 22.5) % 16])


def _f(value: float) -> str:
    """Round to 0.1 and print compactly: 12.0 -> '12', -0.5 -> '-.5'."""
    v = round(float(value), 1)
    if v == 0:
        return "0"
    text = f"{v:.1f}".rstrip("0").rstrip(".")
    if text.startswith("0."):
        text = text[1:]
    elif text.startswith("-0."):
        text = "-" + text[2:]
    return text


def _classify(values: np.ndarray, edges) -> np.ndarray:
    """Index of the class: 0 below the first edge, k for edges[k-1] <= lg v < edges[k]."""
    with np.errstate(divide="ignore"):
        lg = np.log10(np.maximum(values, 1e-300))
    return np.searchsorted(np.asarray(edges), lg, side="right")


def _moves(points) -> list[str]:
    """'M x y' for the first point, then relative 'm dx dy' (SVG y flipped: north up).

    Station coordinates are multiples of 0.5 m, so relative steps add up exactly.
    Worked in integer tenths of a metre: rounding each number with Python's round()
    on NumPy floats cost most of a picture's rendering time.
    """
    tenths = np.rint(np.asarray(points, dtype=float).reshape(-1, 2) * (10.0, -10.0))
    tenths = tenths.astype(np.int64)
    if not len(tenths):
        return []
    steps = np.diff(tenths, axis=0).tolist()
    x0, y0 = tenths[0].tolist()
    return [f"M{_tenths(x0)} {_tenths(y0)}"] + [f"m{_tenths(dx)} {_tenths(dy)}" for dx, dy in steps]


@lru_cache(maxsize=8192)
def _tenths(value: int) -> str:
    """A whole number of tenths printed as `_f` prints it: 120 -> '12', -5 -> '-.5'."""
    if value == 0:
        return "0"
    whole, tenth = divmod(abs(value), 10)
    return (
        ("-" if value < 0 else "") + (str(whole) if whole else "") + (f".{tenth}" if tenth else "")
    )


def _squares_path(points) -> str:
    h = SQUARE_M / 2.0
    w = _f(SQUARE_M)
    corners = [(x - h, y + h) for x, y in points]  # top-left corner in SVG terms
    return "".join(f"{m}h{w}v{w}h-{w}z" for m in _moves(corners))


def _dots_path(points) -> str:
    # Zero-length segments with round caps draw dots of diameter = stroke-width.
    return "".join(f"{m}h0" for m in _moves(points))


def _style() -> str:
    e_rules = "".join(f".e{i + 1}{{fill:{c}}}" for i, c in enumerate(ELECTRON_COLOURS))
    m_rules = "".join(f".m{i + 1}{{stroke-width:{_f(d)}}}" for i, d in enumerate(MUON_DIAMETERS))
    return (
        "<style>"
        "text{font:7px system-ui,sans-serif;fill:#dfe7f5}"
        ".bg{fill:#0b1426}"
        ".st{stroke:#3a4d72;stroke-width:.6}"
        ".e0{fill:#0b1426}"
        f"{e_rules}"
        ".mu{fill:none;stroke:#ff5fae;stroke-linecap:round}"
        f"{m_rules}"
        ".cl{fill:none;stroke:#1c2a47;stroke-width:.8}"
        ".co{fill:none;stroke:#fff;stroke-width:1.8;stroke-linecap:round}"
        ".ha{fill:none;stroke:#0b1426;stroke-width:4;stroke-linecap:round;stroke-linejoin:round}"
        ".ar{fill:none;stroke:#ffb347;stroke-width:2.4;stroke-linecap:round;stroke-linejoin:round}"
        ".ah{fill:#ffb347}"
        ".lb{paint-order:stroke;stroke:#0b1426;stroke-width:2.5;stroke-linejoin:round}"
        ".sm{font-size:6px;fill:#b6c2d9}"
        ".nh{fill:#b6c2d9}"
        ".gr{stroke:#b6c2d9;stroke-width:.8;fill:none}"
        "</style>"
    )


def _describe(
    *, core_x_m, core_y_m, zenith_deg, azimuth_deg, lg_n_e, lg_n_mu, dens, show_muons
) -> str:
    # The text alternative is read in the visitor's language, numbers in its format.
    def num(value, places=0):
        return number_format(round(float(value), places), decimal_pos=places, use_l10n=True)

    east = _("%(metres)s m east") % {"metres": num(abs(core_x_m))}
    west = _("%(metres)s m west") % {"metres": num(abs(core_x_m))}
    north = _("%(metres)s m north") % {"metres": num(abs(core_y_m))}
    south = _("%(metres)s m south") % {"metres": num(abs(core_y_m))}
    parts = []
    if abs(core_x_m) >= 0.5:
        parts.append(east if core_x_m > 0 else west)
    if abs(core_y_m) >= 0.5:
        parts.append(north if core_y_m > 0 else south)
    inside = abs(core_x_m) <= 100 and abs(core_y_m) <= 100
    if not parts:
        text = [_("The shower core landed at the array centre.")]
    else:
        where = _(" and ").join(parts)
        if inside:
            text = [_("The shower core landed %(where)s of the array centre.") % {"where": where}]
        else:
            text = [
                _("The shower core landed %(where)s of the array centre, outside the array.")
                % {"where": where}
            ]
    hit = int(np.sum(dens.electron >= 1.0))
    best = int(np.argmax(dens.electron))
    text.append(
        _(
            "%(hit)s of %(stations)s stations measured at least 1 electron per square metre; "
            "the most, about %(most)s per square metre, at the station %(distance)s m from "
            "the shower axis."
        )
        % {
            "hit": hit,
            "stations": len(dens.electron),
            "most": num(dens.electron[best]),
            "distance": num(dens.distance_m[best]),
        }
    )
    if show_muons:
        mu = dens.muon[dens.has_muon_detector]
        text.append(
            _(
                "The %(detectors)s muon detectors of the outer clusters saw between "
                "%(low)s and %(high)s muons per square metre."
            )
            % {"detectors": len(mu), "low": num(mu.min(), 3), "high": num(mu.max(), 2)}
        )
    if zenith_deg < 3.0:
        text.append(
            _("The shower came almost straight down (zenith angle %(zenith)s degrees).")
            % {"zenith": num(zenith_deg)}
        )
    else:
        text.append(
            _(
                "The shower came from the %(compass)s (azimuth %(azimuth)s degrees from "
                "north), %(zenith)s degrees from vertical."
            )
            % {
                "compass": compass_name(azimuth_deg),
                "azimuth": num(azimuth_deg % 360),
                "zenith": num(zenith_deg),
            }
        )
    text.append(
        _(
            "Electron number 10^%(lg_n_e)s (about %(n_e)s), "
            "muon number 10^%(lg_n_mu)s (about %(n_mu)s)."
        )
        % {
            "lg_n_e": num(lg_n_e, 2),
            "n_e": number_format(round(10**lg_n_e), use_l10n=True, force_grouping=True),
            "lg_n_mu": num(lg_n_mu, 2),
            "n_mu": number_format(round(10**lg_n_mu), use_l10n=True, force_grouping=True),
        }
    )
    return " ".join(text)


def _legend(show_muons: bool) -> str:
    """Legend rows under the array (SVG coordinates, y down): text carries the meaning.

    The same for every shower: built once per process and language (0.3 ms a picture)."""
    return _legend_in(show_muons, get_language() or "")


@lru_cache(maxsize=16)
def _legend_in(show_muons: bool, language: str) -> str:
    # Translated outside the f-strings, where xgettext finds them.
    electrons_label = escape(_("electrons per m²"))
    muons_label = escape(_("muons per m²"))
    detectors_label = escape(_("muon detectors:"))
    clusters_label = escape(_("outer 12 clusters"))
    core_label = escape(_("shower core"))
    arrow_label = escape(_("came from (longer = more tilted)"))
    out = []
    y = 109.0
    out.append(f'<text x="-108" y="{_f(y + 5.5)}">{electrons_label}</text>')
    x0, w = -44.0, 11.0
    for i in range(len(ELECTRON_COLOURS) + 1):
        out.append(f'<path class="st e{i}" d="M{_f(x0 + i * w)} {_f(y)}h{_f(w)}v7h-{_f(w)}z"/>')
    for i, label in ((1, ".03"), (2, ".1"), (4, "1"), (6, "10"), (8, "100")):
        out.append(
            f'<text class="sm" x="{_f(x0 + i * w)}" y="{_f(y + 14)}" '
            f'text-anchor="middle">{label}</text>'
        )
    y2 = y + 23.0
    if show_muons:
        out.append(f'<text x="-108" y="{_f(y2 + 2.5)}">{muons_label}</text>')
        mx0 = -38.5
        for i in range(len(MUON_DIAMETERS)):
            cx = mx0 + i * 11.0
            out.append(f'<path class="st e0" d="M{_f(cx - 3)} {_f(y2 - 3)}h6v6h-6z"/>')
        for i in range(len(MUON_DIAMETERS)):
            out.append(f'<path class="mu m{i + 1}" d="M{_f(mx0 + i * 11.0)} {_f(y2)}h0"/>')
        for i, label in ((0, ".001"), (2, ".01"), (4, ".1")):
            out.append(
                f'<text class="sm" x="{_f(mx0 + i * 11.0)}" y="{_f(y2 + 10)}" '
                f'text-anchor="middle">{label}</text>'
            )
        out.append(
            f'<text class="sm" x="22" y="{_f(y2 + 2)}">{detectors_label}</text>'
            f'<text class="sm" x="22" y="{_f(y2 + 9)}">{clusters_label}</text>'
        )
        y3 = y2 + 18.0
    else:
        y3 = y2 + 2.0
    out.append(f'<path class="co" d="M-107 {_f(y3 - 3)}l6 6m0-6l-6 6"/>')
    out.append(f'<text x="-97" y="{_f(y3 + 2.5)}">{core_label}</text>')
    out.append(f'<path class="ar" d="M-44 {_f(y3)}h11"/>')
    out.append(f'<path class="ah" d="M-28 {_f(y3)}l-6-3.5v7z"/>')
    out.append(f'<text x="-24" y="{_f(y3 + 2.5)}">{arrow_label}</text>')
    return "".join(out)


def _compass_and_scale() -> str:
    """North arrow (top right) and a 52 m bar = one cluster (top left), above the array."""
    scale_label = escape(_("52 m = one cluster"))
    return (
        '<path class="gr" d="M104-103v-10"/><path class="nh" d="M104-117l-3 5h6z"/>'
        '<text x="98" y="-105" text-anchor="end">N</text>'
        '<path class="gr" d="M-97.5-108h52m-52-2v4m52-4v4"/>'
        f'<text class="sm" x="-40" y="-106">{scale_label}</text>'
    )


def render_footprint_svg(
    *,
    core_x_m: float,
    core_y_m: float,
    zenith_deg: float,
    azimuth_deg: float,
    lg_n_e: float,
    lg_n_mu: float,
    age: float,
    show_muons: bool = True,
    title: str | None = None,
    description: str | None = None,
    id_prefix: str = "fp",
) -> str:
    """A compact inline SVG of the shower's footprint on the 252-station array.

    Each station is a square filled by its electron density (log classes, legend with
    numbers); with `show_muons`, the 192 stations with muon detectors get a pink dot whose
    size grows with the muon density. A white cross marks the core; an orange arrow from
    the core points towards where the shower came from (length proportional to
    sin(zenith)); "N" marks north (up). `title` and `description` default to generated
    plain-language text; `id_prefix` makes the ids of <title>/<desc> unique on a page.
    No scripts, no external resources.
    """
    dens = station_densities(
        core_x_m=core_x_m,
        core_y_m=core_y_m,
        zenith_deg=zenith_deg,
        azimuth_deg=azimuth_deg,
        lg_n_e=lg_n_e,
        lg_n_mu=lg_n_mu,
        age=age,
    )
    if title is None:
        title = _("Shower footprint on the KASCADE array")
    if description is None:
        description = _describe(
            core_x_m=core_x_m,
            core_y_m=core_y_m,
            zenith_deg=zenith_deg,
            azimuth_deg=azimuth_deg,
            lg_n_e=lg_n_e,
            lg_n_mu=lg_n_mu,
            dens=dens,
            show_muons=show_muons,
        )
    pid = escape(id_prefix, quote=True)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="{VIEW_X0} {VIEW_Y0} {VIEW_W} {VIEW_H}"'
        f' role="img" aria-labelledby="{pid}-t {pid}-d" class="footprint">',
        f'<title id="{pid}-t">{escape(title)}</title>',
        f'<desc id="{pid}-d">{escape(description)}</desc>',
        _style(),
        f'<rect class="bg" x="{VIEW_X0}" y="{VIEW_Y0}" width="{VIEW_W}" height="{VIEW_H}" rx="4"/>',
    ]
    # Cluster outlines (16 clusters of 52 m) as a faint guide.
    out.append(
        '<path class="cl" d="'
        + "".join(f"M-104 {_f(v)}h208M{_f(v)}-104v208" for v in (-104, -52, 0, 52, 104))
        + '"/>'
    )
    # Stations, grouped by electron class.
    e_cls = _classify(dens.electron, ELECTRON_EDGES)
    for k in range(len(ELECTRON_EDGES) + 1):
        pts = dens.positions[e_cls == k]
        if len(pts):
            out.append(f'<path class="st e{k}" d="{_squares_path(pts)}"/>')
    # Muon dots, grouped by muon class, only where a muon detector exists.
    if show_muons:
        m_cls = _classify(dens.muon, MUON_EDGES)
        for k in range(1, len(MUON_EDGES) + 1):
            pts = dens.positions[(m_cls == k) & dens.has_muon_detector]
            if len(pts):
                out.append(f'<path class="mu m{k}" d="{_dots_path(pts)}"/>')
    # Arrival direction: from the core towards the source azimuth, length ~ sin(zenith).
    ux, uy = _axis_unit(azimuth_deg)
    cx = min(max(core_x_m, -106.0), 106.0)
    cy = min(max(core_y_m, -106.0), 106.0)
    length = ARROW_MAX_M * math.sin(math.radians(min(max(zenith_deg, 0.0), 90.0)))
    # Keep the tip inside the drawing area.
    for u, c in ((ux, cx), (uy, cy)):
        if abs(u) > 1e-9:
            length = min(length, max(((108.0 if u > 0 else -108.0) - c) / u, 0.0))
    if length >= 8.0:  # no arrow below ~5 deg of zenith: the shower came (almost) straight down
        tx, ty = cx + ux * length, cy + uy * length
        head = 6.0
        bx, by = tx - ux * head, ty - uy * head  # base of the head
        px, py = -uy * 3.2, ux * 3.2  # perpendicular, half-width of the head
        shaft = f"M{_f(cx)} {_f(-cy)}L{_f(bx)} {_f(-by)}"
        out.append(f'<path class="ha" d="{shaft}"/><path class="ar" data-arrow="1" d="{shaft}"/>')
        out.append(
            f'<path class="ah" d="M{_f(tx)} {_f(-ty)}L{_f(bx + px)} {_f(-(by + py))}'
            f'L{_f(bx - px)} {_f(-(by - py))}z"/>'
        )
    # Core marker: a white cross with a dark halo, and a label.
    cross = f"M{_f(cx - 4)} {_f(-cy - 4)}l8 8m0-8l-8 8"
    out.append(f'<path class="ha" d="{cross}"/><path class="co" data-core="1" d="{cross}"/>')
    # Label on the side away from the arrow (below the cross for vertical showers).
    lx, ly = (-ux, -uy) if length >= 8.0 else (0.0, -1.0)
    inside = abs(core_x_m) <= 106 and abs(core_y_m) <= 106
    # The cached picture is per language (`_cached_footprint`), so the label is translated.
    label = escape(
        pgettext("footprint label", "core")
        if inside
        else pgettext("footprint label", "core (off the array)")
    )
    half_width = 1.9 * len(label)  # rough text half-width at 7px
    label_x, label_y = cx + 9.0 * lx, cy + 9.0 * ly - 2.5  # -2.5: text baseline
    if lx < -0.35:
        anchor = "end"
        if label_x - 2 * half_width < -110:  # would leave the picture: put it on the right
            anchor, label_x = "start", cx + 6.0
    elif lx > 0.35:
        anchor = "start"
        if label_x + 2 * half_width > 110:
            anchor, label_x = "end", cx - 6.0
    else:
        anchor = "middle"
        label_x = min(max(label_x, -110 + half_width), 110 - half_width)
    if not -100 <= label_y <= 106:
        label_y = cy - 11.5 if label_y > 0 else cy + 6.5
    out.append(
        f'<text class="lb" x="{_f(label_x)}" y="{_f(-label_y)}" text-anchor="{anchor}">'
        f"{label}</text>"
    )
    out.append(_compass_and_scale())
    out.append(_legend(show_muons))
    out.append("</svg>")
    return "".join(out)


# --- the card's picture, cached ------------------------------------------------

logger = logging.getLogger(__name__)

# Rendering costs ~5 ms and a card's picture is drawn twice (the card, then the
# reveal that repeats it), so it is kept per process and in the shared cache
# (Redis when configured). The key holds this module's own hash: a change to the
# drawing never serves an old picture.
_DRAWING_VERSION = hashlib.sha1(Path(__file__).read_bytes()).hexdigest()[:12]
FOOTPRINT_CACHE_SECONDS = 24 * 3600
SHOWER_FIELDS = ("core_x_m", "core_y_m", "zenith_deg", "azimuth_deg", "lg_n_e", "lg_n_mu", "age")


# The picture is kept with this in place of its id prefix, which is put in when it is
# used: a shower's picture is drawn once, whatever position of a round it is dealt to.
_PREFIX_SLOT = "fp-slot"


def shower_footprint_svg(shower, *, id_prefix: str, show_muons: bool = True) -> str:
    """`render_footprint_svg` of a shower (any object with the shower's fields), cached."""
    params = tuple(float(getattr(shower, name)) for name in SHOWER_FIELDS)
    # The picture's text alternative is in the visitor's language: one picture per language.
    svg = _cached_footprint(params, show_muons, get_language() or "")
    return svg.replace(_PREFIX_SLOT, escape(id_prefix, quote=True))


@lru_cache(maxsize=512)
def _cached_footprint(params: tuple[float, ...], show_muons: bool, language: str) -> str:
    from django.core.cache import cache

    digest = hashlib.sha1(repr((params, show_muons, language)).encode()).hexdigest()
    key = f"footprint:{_DRAWING_VERSION}:{digest}"
    try:
        svg = cache.get(key)
    except Exception:  # a cache that is down costs a re-render, never an error
        svg = None
    if svg is None:
        with translation.override(language or None):
            svg = render_footprint_svg(
                **dict(zip(SHOWER_FIELDS, params, strict=True)),
                show_muons=show_muons,
                id_prefix=_PREFIX_SLOT,
            )
        try:
            cache.set(key, svg, FOOTPRINT_CACHE_SECONDS)
        except Exception:
            logger.warning("footprint cache unavailable", exc_info=False)
    return svg
