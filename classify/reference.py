"""Average showers: what a typical shower of a given energy and zenith looks like.

Fits of lgNmu and lgNe on lgE and sec(Ze) (the same linear form as the
calibration's, see classify/calibration.py), over all groups and per group,
from the simulated training sets. The card's hint ("how muon-rich is this
shower?") and the reveal's physics sentence compare a shower with them.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from django.conf import settings

from .physics import MASS_GROUPS
from .simulation import simulate_showers

REFERENCE_FILE = "shower_reference.json"
REFERENCE_SEED = 424242
SHOWERS_PER_MODEL = 15000


def _fit(showers: pd.DataFrame, column: str) -> list[float]:
    design = np.column_stack(
        [np.ones(len(showers)), showers["lgE"], 1.0 / np.cos(np.radians(showers["Ze"]))]
    )
    coefficients, *_ = np.linalg.lstsq(design, showers[column].to_numpy(), rcond=None)
    return [round(float(value), 6) for value in coefficients]


def build_reference() -> dict:
    from .hadronic_models import HADRONIC_MODELS

    showers = pd.concat(
        [
            simulate_showers(SHOWERS_PER_MODEL, hadronic_model=key, seed=REFERENCE_SEED + index)
            for index, key in enumerate(HADRONIC_MODELS)
        ],
        ignore_index=True,
    )
    reference = {"all": {"lgNmu": _fit(showers, "lgNmu"), "lgNe": _fit(showers, "lgNe")}}
    for group in MASS_GROUPS:
        members = showers[showers["mass_group"] == group]
        reference[group] = {"lgNmu": _fit(members, "lgNmu"), "lgNe": _fit(members, "lgNe")}
    return reference


def reference_path() -> Path:
    return Path(settings.MODELS_DIR) / REFERENCE_FILE


def ensure_reference(*, stdout=None) -> dict:
    path = reference_path()
    if path.exists():
        return json.loads(path.read_text())
    reference = build_reference()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(reference, indent=2) + "\n")
    if stdout:
        stdout.write(f"wrote {path}")
    return reference


@lru_cache(maxsize=1)
def shower_reference() -> dict:
    return ensure_reference()


def expected(column: str, *, lg_e: float, zenith_deg: float, group: str = "all") -> float:
    a, b, c = shower_reference()[group][column]
    return a + b * lg_e + c / np.cos(np.radians(zenith_deg))


def muon_ratio(*, lg_n_mu: float, lg_e: float, zenith_deg: float, group: str = "all") -> float:
    """This shower's muon number over that of an average shower (of `group`) like it."""
    return float(10 ** (lg_n_mu - expected("lgNmu", lg_e=lg_e, zenith_deg=zenith_deg, group=group)))
