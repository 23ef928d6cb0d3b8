"""Mass groups, site constants and KCDC column conventions.

Everything here is a plain immutable constant: other modules (the generator, the
calibration, the Django views, the forests) import these names so that they all agree
on the mass-group keys, their ln A values and the KCDC column order.

Sources
-------
* KASCADE site and array: T. Antoni et al., "The cosmic-ray experiment KASCADE",
  Nucl. Instrum. Meth. A 513 (2003) 490 -- 110 m a.s.l., ~1022 g/cm^2 vertical
  atmospheric depth, 49.1 deg N 8.4 deg E, 252 stations on a 200 m x 200 m grid.
* KCDC columns and the reconstruction's age clip (0.1 ... 1.48): KCDC, A. Haungs et al.,
  Eur. Phys. J. C 78 (2018) 741, and the reference sample ``shared/kcdc/dataset1.csv``.
* lnA of the groups: the product contract (MISSION.md) defines lnA of p, He, C, Si, Fe as
  0, ln 4, ln 12, ln 28, ln 56 (C stands for the C/N/O group, Si for Ne-Si, Fe for the
  iron group).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

#: The five primary mass groups, lightest first.  Keys are used in URLs, HTML hooks
#: (``data-guess``), JSON outputs and the ``mass_group`` column.
MASS_GROUPS: tuple[str, ...] = ("p", "He", "C", "Si", "Fe")

#: Representative mass number of each group (p, He-4, C-12 for CNO, Si-28, Fe-56).
MASS_NUMBER: dict[str, int] = {"p": 1, "He": 4, "C": 12, "Si": 28, "Fe": 56}

#: ln A per group, as defined by the product contract (mean_lnA in predict_composition).
LN_A: dict[str, float] = {group: math.log(mass) for group, mass in MASS_NUMBER.items()}

#: Human-readable names for cards, legends and the field guide.
GROUP_LABELS: dict[str, str] = {
    "p": "proton",
    "He": "helium",
    "C": "carbon/oxygen",
    "Si": "silicon",
    "Fe": "iron",
}

# --- KASCADE site (Antoni et al., NIM A 513 (2003) 490) -----------------------------------
#: Vertical atmospheric depth of the KASCADE observation level [g/cm^2].
KASCADE_VERTICAL_DEPTH_G_CM2: float = 1022.0
#: Altitude of the array above sea level [m].
KASCADE_ALTITUDE_M: float = 110.0
#: Geographic latitude [deg north] and longitude [deg east] of Karlsruhe (KIT Campus North).
KASCADE_LATITUDE_DEG: float = 49.1
KASCADE_LONGITUDE_DEG: float = 8.4
#: Side of the square KASCADE array [m] and number of detector stations.
KASCADE_ARRAY_SIDE_M: float = 200.0
KASCADE_STATION_COUNT: int = 252
#: Station grid spacing [m] (16 x 16 grid, 4 corner-less positions at the centre).
KASCADE_STATION_SPACING_M: float = 13.0
#: Fiducial core radius used by KASCADE analyses ("core within 91 m", KCDC README and
#: T. Antoni et al., Astropart. Phys. 24 (2005) 1).
KASCADE_FIDUCIAL_RADIUS_M: float = 91.0

# --- KCDC columns --------------------------------------------------------------------------
#: Columns of a KCDC export / of ``shared/kcdc/dataset1.csv``, in file order.
FEATURE_COLUMNS: tuple[str, ...] = ("lgE", "X", "Y", "Ze", "Az", "lgNe", "lgNmu", "Age")

#: Decimals kept of each KCDC column. ``shared/kcdc/dataset1.csv`` prints six significant
#: digits (``13.8003``, ``-47.631``, ``2.86301``, ``0.570595``); these fixed decimals keep
#: at least that much for the values the columns take. Simulated showers are rounded to
#: them, as a KCDC export is, and the forests' training-data hash is taken over them: the
#: last bits of ``exp``/``log``/``sin`` differ between CPUs (glibc and numpy pick their
#: routines by the CPU's instruction set), and rounding to a fixed decimal is exact IEEE
#: arithmetic, so the same seed gives the same showers and model versions on every machine.
FEATURE_DECIMALS: dict[str, int] = {
    "lgE": 4,
    "X": 4,
    "Y": 4,
    "Ze": 4,
    "Az": 4,
    "lgNe": 5,
    "lgNmu": 5,
    "Age": 6,
}

#: The KASCADE reconstruction limits the fitted lateral age to this interval; values
#: outside are set to the limit (KCDC README: ~1 % of the sample sits at the clips).
AGE_CLIP: tuple[float, float] = (0.1, 1.48)
AGE_MIN, AGE_MAX = AGE_CLIP


def mean_ln_a(fractions: dict[str, float]) -> float:
    """Mean ln A of a composition given as fractions (or counts) per mass group."""
    total = float(sum(fractions.get(group, 0.0) for group in MASS_GROUPS))
    if total <= 0.0:
        raise ValueError("composition has no positive weight")
    return sum(fractions.get(group, 0.0) * LN_A[group] for group in MASS_GROUPS) / total


def kcdc_precision(columns: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The feature columns rounded to :data:`FEATURE_DECIMALS` (float64), as KCDC exports them.

    An azimuth that rounds up to 360 deg becomes 0 deg, so it stays in [0, 360).
    """
    rounded = {
        name: np.round(np.asarray(columns[name], dtype=np.float64), FEATURE_DECIMALS[name])
        for name in FEATURE_COLUMNS
    }
    rounded["Az"] = np.where(rounded["Az"] >= 360.0, rounded["Az"] - 360.0, rounded["Az"])
    return rounded
