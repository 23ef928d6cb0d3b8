"""Calibration of the parametric generator against the real KCDC reference sample.

Pure functions (no Django): the management command ``calibration_report`` and the tests
call them.  The reference file is read from ``<repo>/../shared/kcdc/dataset1.csv`` (never
copied into the repository); the environment variable ``KCDC_SAMPLE`` overrides the path.

Acceptance thresholds (the generator's calibration target):

* two-sample Kolmogorov-Smirnov statistic <= 0.08 for lgE, Ze, lgNe, lgNmu and Age;
* the slopes d lgNe / d lgE and d lgNmu / d lgE of a linear least-squares fit on
  (lgE, sec Ze), and the residual scatters of those fits, within 15 % of the real ones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from .hadronic_models import HADRONIC_MODELS
from .physics import AGE_MAX, AGE_MIN, FEATURE_COLUMNS, MASS_GROUPS
from .simulation import simulate_mixture

#: Composition of the KCDC reference sample (shared/kcdc/README.md): 2900 labelled
#: showers of the 2940 rows, CORSIKA with QGSJet-II.04, EPOS-LHC and Sibyll 2.3c mixed.
KCDC_SAMPLE_COMPOSITION: dict[str, int] = {"p": 900, "He": 250, "C": 500, "Si": 700, "Fe": 550}

#: Columns compared with the KS test.
KS_COLUMNS: tuple[str, ...] = ("lgE", "Ze", "lgNe", "lgNmu", "Age")

#: Calibration thresholds.
KS_MAX: float = 0.08
RELATIVE_TOLERANCE: float = 0.15

#: Default scale of the calibration sample relative to the README composition.  8 x 2900
#: = 23200 simulated showers keep the simulation's own KS noise (~0.01) well below the
#: reference sample's (~0.025 for 2940 rows).
DEFAULT_CALIBRATION_SCALE: float = 8.0

_REPO_ROOT = Path(__file__).resolve().parent.parent


def default_sample_path(repo_root: Path | None = None) -> Path:
    """``$KCDC_SAMPLE`` if set, else ``<repo_root>/../shared/kcdc/dataset1.csv``."""
    override = os.environ.get("KCDC_SAMPLE")
    if override:
        return Path(override)
    root = Path(repo_root) if repo_root is not None else _REPO_ROOT
    return root.parent / "shared" / "kcdc" / "dataset1.csv"


def load_kcdc_sample(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read the KCDC reference sample (or any KCDC CSV) with float64 feature columns."""
    sample_path = Path(path) if path is not None else default_sample_path()
    if not sample_path.exists():
        raise FileNotFoundError(
            f"KCDC reference sample not found at {sample_path}; set KCDC_SAMPLE to its path"
        )
    frame = pd.read_csv(sample_path)
    missing = [column for column in FEATURE_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"{sample_path} lacks KCDC columns {missing}")
    for column in FEATURE_COLUMNS:
        frame[column] = frame[column].astype(np.float64)
    return frame


def fit_slopes(df: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Least-squares fit of lgNe and lgNmu on (1, lgE, sec Ze).

    Returns ``{"lgNe": {"slope_lgE", "slope_sec", "intercept", "scatter"}, "lgNmu": {...}}``
    where ``slope_lgE`` is the change per decade of energy and ``scatter`` the standard
    deviation of the residuals.
    """
    sec_zenith = 1.0 / np.cos(np.radians(df["Ze"].to_numpy(dtype=np.float64)))
    design = np.column_stack([np.ones(len(df)), df["lgE"].to_numpy(dtype=np.float64), sec_zenith])
    result: dict[str, dict[str, float]] = {}
    for column in ("lgNe", "lgNmu"):
        values = df[column].to_numpy(dtype=np.float64)
        coefficients, *_ = np.linalg.lstsq(design, values, rcond=None)
        residuals = values - design @ coefficients
        result[column] = {
            "intercept": float(coefficients[0]),
            "slope_lgE": float(coefficients[1]),
            "slope_sec": float(coefficients[2]),
            "scatter": float(residuals.std()),
        }
    return result


def age_clip_fraction(df: pd.DataFrame, *, tolerance: float = 1e-3) -> dict[str, float]:
    """Fractions of rows whose Age sits at the lower clip, the upper clip, and either."""
    age = df["Age"].to_numpy(dtype=np.float64)
    low = float(np.mean(age <= AGE_MIN + tolerance)) if len(age) else 0.0
    high = float(np.mean(age >= AGE_MAX - tolerance)) if len(age) else 0.0
    return {"low": low, "high": high, "total": low + high}


def _relative_difference(simulated: float, reference: float) -> float:
    return abs(simulated - reference) / abs(reference) if reference else math.inf


def calibration_report(simulated: pd.DataFrame, reference: pd.DataFrame) -> dict:
    """Compare a simulated sample with the reference; ``passed`` applies the thresholds."""
    ks = {
        column: float(ks_2samp(simulated[column], reference[column]).statistic)
        for column in KS_COLUMNS
    }
    sim_fit, ref_fit = fit_slopes(simulated), fit_slopes(reference)
    slopes = {
        column: {
            "simulated": sim_fit[column]["slope_lgE"],
            "reference": ref_fit[column]["slope_lgE"],
            "relative_difference": _relative_difference(
                sim_fit[column]["slope_lgE"], ref_fit[column]["slope_lgE"]
            ),
        }
        for column in ("lgNe", "lgNmu")
    }
    scatters = {
        column: {
            "simulated": sim_fit[column]["scatter"],
            "reference": ref_fit[column]["scatter"],
            "relative_difference": _relative_difference(
                sim_fit[column]["scatter"], ref_fit[column]["scatter"]
            ),
        }
        for column in ("lgNe", "lgNmu")
    }
    passed = (
        all(value <= KS_MAX for value in ks.values())
        and all(entry["relative_difference"] <= RELATIVE_TOLERANCE for entry in slopes.values())
        and all(entry["relative_difference"] <= RELATIVE_TOLERANCE for entry in scatters.values())
    )
    return {
        "ks": ks,
        "slopes": slopes,
        "scatters": scatters,
        "zenith_slopes": {
            column: {
                "simulated": sim_fit[column]["slope_sec"],
                "reference": ref_fit[column]["slope_sec"],
            }
            for column in ("lgNe", "lgNmu")
        },
        "age_clip_fraction": {
            "simulated": age_clip_fraction(simulated),
            "reference": age_clip_fraction(reference),
        },
        "n_simulated": int(len(simulated)),
        "n_reference": int(len(reference)),
        "thresholds": {"ks_max": KS_MAX, "relative_tolerance": RELATIVE_TOLERANCE},
        "passed": bool(passed),
    }


def simulate_calibration_sample(
    seed: int,
    scale: float = DEFAULT_CALIBRATION_SCALE,
    *,
    hadronic_models: Sequence[str] = tuple(HADRONIC_MODELS),
    composition: Mapping[str, int] = KCDC_SAMPLE_COMPOSITION,
) -> pd.DataFrame:
    """The README composition (times ``scale``) with the three models mixed."""
    if scale <= 0:
        raise ValueError("scale must be positive")
    counts = {group: int(round(composition.get(group, 0) * scale)) for group in MASS_GROUPS}
    return simulate_mixture(counts, hadronic_models=hadronic_models, seed=seed)


def write_comparison_plot(
    simulated: pd.DataFrame, reference: pd.DataFrame, path: str | os.PathLike[str]
) -> Path:
    """Write a self-contained HTML page with the five distributions, simulated vs real.

    Both histograms are normalised to unit area; the KS statistic is in each title.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    titles = [
        f"{column} (KS = {ks_2samp(simulated[column], reference[column]).statistic:.3f})"
        for column in KS_COLUMNS
    ]
    figure = make_subplots(rows=2, cols=3, subplot_titles=titles)
    for index, column in enumerate(KS_COLUMNS):
        row, col = divmod(index, 3)
        lo = float(min(simulated[column].min(), reference[column].min()))
        hi = float(max(simulated[column].max(), reference[column].max()))
        bins = {"start": lo, "end": hi, "size": (hi - lo) / 40 if hi > lo else 1.0}
        for frame, name, colour in (
            (reference, "KCDC dataset1 (real)", "#1f77b4"),
            (simulated, "parametric simulation", "#d62728"),
        ):
            figure.add_trace(
                go.Histogram(
                    x=frame[column],
                    xbins=bins,
                    histnorm="probability density",
                    name=name,
                    legendgroup=name,
                    showlegend=index == 0,
                    marker_color=colour,
                    opacity=0.55,
                ),
                row=row + 1,
                col=col + 1,
            )
    figure.update_layout(
        barmode="overlay",
        title="KASCADE Cosmic Quiz: parametric generator vs KCDC reference sample",
        height=750,
    )
    output = Path(path)
    output.parent.mkdir(parents=True, exist_ok=True)
    figure.write_html(str(output), include_plotlyjs=True, full_html=True)
    return output
