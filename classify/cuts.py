"""Quality cuts for training and for the composition estimate.

The published KASCADE classifiers cut on a core within 91 m, lgNmu ≥ 3.6,
lgNe ≥ 4.8, Ze < 18° and 0.2 < Age < 2.1 (see ../shared/kcdc/README.md); no
shower of the KCDC sample's energy range (lgE 13.4 … 15) passes them, so our
defaults are cuts suited to that range instead:

* the core inside the array, away from its edge, where the lateral fit is
  constrained on all sides (the stations span ±97.5 m; we keep 95 m);
* zenith below 60°, the largest zenith in the KCDC sample (≈ 59°) — beyond
  it the slant depth changes quickly and the reconstruction is unreliable;
* Age strictly inside KCDC's clip 0.1 … 1.48: a value at a clip means the
  lateral fit hit its limit (≈ 1.5 % of the sample).

They are data, configurable per training run and recorded in the model card.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

AGE_CLIP = (0.1, 1.48)


@dataclass(frozen=True)
class QualityCuts:
    max_core_distance_m: float = 95.0
    max_zenith_deg: float = 60.0
    min_lg_n_e: float = 0.0
    min_lg_n_mu: float = 0.0
    age_exclusive_min: float = AGE_CLIP[0]
    age_exclusive_max: float = AGE_CLIP[1]

    def mask(self, showers: pd.DataFrame) -> np.ndarray:
        """True for rows (KCDC column names) that pass every cut."""
        core_distance = np.hypot(showers["X"].to_numpy(), showers["Y"].to_numpy())
        age = showers["Age"].to_numpy()
        return (
            (core_distance <= self.max_core_distance_m)
            & (showers["Ze"].to_numpy() < self.max_zenith_deg)
            & (showers["lgNe"].to_numpy() >= self.min_lg_n_e)
            & (showers["lgNmu"].to_numpy() >= self.min_lg_n_mu)
            & (age > self.age_exclusive_min)
            & (age < self.age_exclusive_max)
        )

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_CUTS = QualityCuts()
