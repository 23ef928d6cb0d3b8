"""The KCDC columns: their database fields, units and plain-language meaning.

One table used by the import, the dataset browser and the forests, so a
column's name, unit and description are written once. Units and meanings
follow the KCDC documentation (A. Haungs et al., Eur. Phys. J. C 78 (2018) 741)
and the README of the KCDC sample in ../shared/kcdc/.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop


@dataclass(frozen=True)
class Column:
    kcdc: str
    field: str
    unit: str
    description: str
    minimum: float
    maximum: float


KCDC_COLUMNS: tuple[Column, ...] = (
    Column(
        "lgE", "lg_e", "log10(E/eV)", gettext_noop("energy of the primary particle"), 10.0, 22.0
    ),
    Column(
        "X",
        "core_x_m",
        "m",
        gettext_noop("shower core position, east–west, in the array frame"),
        -1000.0,
        1000.0,
    ),
    Column(
        "Y",
        "core_y_m",
        "m",
        gettext_noop("shower core position, north–south, in the array frame"),
        -1000.0,
        1000.0,
    ),
    Column(
        "Ze",
        "zenith_deg",
        "°",
        gettext_noop("zenith angle of the arrival direction (0° = straight down)"),
        0.0,
        90.0,
    ),
    Column(
        "Az",
        "azimuth_deg",
        "°",
        gettext_noop("azimuth of the arrival direction, from north"),
        0.0,
        360.0,
    ),
    Column(
        "lgNe",
        "lg_n_e",
        "log10(N)",
        gettext_noop("number of electrons at ground (reconstructed)"),
        0.0,
        12.0,
    ),
    Column(
        "lgNmu",
        "lg_n_mu",
        "log10(N)",
        gettext_noop("number of muons at ground (reconstructed)"),
        0.0,
        12.0,
    ),
    Column(
        "Age",
        "age",
        "—",
        gettext_noop("lateral shower age s (KCDC clips it to 0.1 … 1.48)"),
        0.0,
        3.0,
    ),
)
KCDC_NAMES: tuple[str, ...] = tuple(column.kcdc for column in KCDC_COLUMNS)
FIELD_BY_KCDC: dict[str, str] = {column.kcdc: column.field for column in KCDC_COLUMNS}
COLUMN_BY_KCDC: dict[str, Column] = {column.kcdc: column for column in KCDC_COLUMNS}
