"""Physics behaviour of the parametric shower generator (pure: no database needed)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from classify.calibration import (
    KS_MAX,
    RELATIVE_TOLERANCE,
    calibration_report,
    default_sample_path,
    fit_slopes,
    load_kcdc_sample,
    simulate_calibration_sample,
)
from classify.hadronic_models import HADRONIC_MODELS, UnknownHadronicModel, get_model
from classify.physics import (
    AGE_MAX,
    AGE_MIN,
    FEATURE_COLUMNS,
    FEATURE_DECIMALS,
    LN_A,
    MASS_GROUPS,
)
from classify.simulation import (
    OUTPUT_COLUMNS,
    WIDE_LG_E_RANGE,
    simulate_mixture,
    simulate_showers,
)

MODEL_KEYS = ("qgsjet-ii-04", "epos-lhc", "sibyll-2.3c")
#: A narrow energy bin well above threshold, where "at fixed energy" comparisons are fair.
FIXED_ENERGY = (14.45, 14.55)


def _frame_digest(frame: pd.DataFrame) -> str:
    return hashlib.sha256(
        pd.util.hash_pandas_object(frame, index=True).values.tobytes()
    ).hexdigest()


@pytest.fixture(scope="module")
def fixed_energy_showers() -> dict[str, pd.DataFrame]:
    return {
        key: simulate_showers(10_000, hadronic_model=key, seed=5, lg_e_range=FIXED_ENERGY)
        for key in MODEL_KEYS
    }


def test_registry_has_the_three_models_in_order_with_labels():
    assert list(HADRONIC_MODELS) == list(MODEL_KEYS)
    assert [model.label for model in HADRONIC_MODELS.values()] == [
        "QGSJet-II.04",
        "EPOS-LHC",
        "Sibyll 2.3c",
    ]


def test_unknown_model_error_names_the_valid_keys():
    with pytest.raises(UnknownHadronicModel) as excinfo:
        get_model("qgsjet-01")
    assert isinstance(excinfo.value, ValueError)
    for key in MODEL_KEYS:
        assert key in str(excinfo.value)


def test_ln_a_matches_the_product_contract():
    assert LN_A == pytest.approx(
        {"p": 0.0, "He": np.log(4), "C": np.log(12), "Si": np.log(28), "Fe": np.log(56)}
    )


@pytest.mark.parametrize("key", MODEL_KEYS)
def test_heavier_primaries_give_more_muons_fewer_electrons_and_older_showers(
    fixed_energy_showers, key
):
    means = fixed_energy_showers[key].groupby("mass_group")[["lgNmu", "lgNe", "Age"]].mean()
    means = means.loc[list(MASS_GROUPS)]
    assert means["lgNmu"].is_monotonic_increasing
    assert means["lgNe"].is_monotonic_decreasing
    assert means.loc["Fe", "Age"] > means.loc["p", "Age"]
    # Heitler-Matthews: lg N_mu(Fe) - lg N_mu(p) = (1 - beta) lg 56 ~ 0.2-0.3.
    assert 0.15 < means.loc["Fe", "lgNmu"] - means.loc["p", "lgNmu"] < 0.4


def test_muon_numbers_order_like_the_literature(fixed_energy_showers):
    # QGSJet-II.04 < EPOS-LHC <= Sibyll 2.3c, by a few to ~15 % (Pierog et al. 2015,
    # Riehn et al. 2020).
    lg_nmu = {key: fixed_energy_showers[key]["lgNmu"].mean() for key in MODEL_KEYS}
    assert lg_nmu["qgsjet-ii-04"] < lg_nmu["epos-lhc"] <= lg_nmu["sibyll-2.3c"]
    for key in ("epos-lhc", "sibyll-2.3c"):
        excess = 10 ** (lg_nmu[key] - lg_nmu["qgsjet-ii-04"]) - 1.0
        assert 0.02 < excess < 0.20


def test_models_differ_in_depth_of_maximum_like_the_parameterisations():
    from classify.simulation import mean_xmax

    lg_e = np.array([15.0])
    xmax = {key: float(mean_xmax(lg_e, 0.0, get_model(key))[0]) for key in MODEL_KEYS}
    # Proton <Xmax> at 1 PeV: ~550-600 g/cm^2, Sibyll 2.3c deepest, QGSJet-II.04 shallowest.
    assert all(500 < value < 650 for value in xmax.values())
    assert xmax["qgsjet-ii-04"] < xmax["epos-lhc"] < xmax["sibyll-2.3c"]


def test_same_seed_gives_identical_bytes():
    first = simulate_showers(3_000, hadronic_model="epos-lhc", seed=42)
    second = simulate_showers(3_000, hadronic_model="epos-lhc", seed=42)
    assert _frame_digest(first) == _frame_digest(second)


def _one_ulp_off(function):
    """`function` as another CPU's routine might give it: one unit in the last place off."""

    def perturbed(*args, **kwargs):
        return np.nextafter(function(*args, **kwargs), np.inf)

    return perturbed


def test_last_bit_differences_of_the_maths_library_give_the_same_showers(monkeypatch):
    """Two CPUs' exp, log, sin... differ in the last bits; the stored showers must not."""
    reference = simulate_showers(3_000, hadronic_model="qgsjet-ii-04", seed=42)
    for name in ("exp", "log", "log10", "sin", "cos", "arccos", "hypot"):
        monkeypatch.setattr(np, name, _one_ulp_off(getattr(np, name)))
    perturbed = simulate_showers(3_000, hadronic_model="qgsjet-ii-04", seed=42)
    assert _frame_digest(perturbed) == _frame_digest(reference)


def test_features_are_held_at_kcdc_precision():
    showers = simulate_showers(2_000, hadronic_model="sibyll-2.3c", seed=5)
    for column, decimals in FEATURE_DECIMALS.items():
        values = showers[column].to_numpy()
        assert np.array_equal(np.round(values, decimals), values), column
        # ...and no coarser: the last kept decimal is used.
        assert not np.array_equal(np.round(values, decimals - 1), values), column


def test_different_seeds_give_different_showers():
    first = simulate_showers(1_000, hadronic_model="epos-lhc", seed=1)
    second = simulate_showers(1_000, hadronic_model="epos-lhc", seed=2)
    assert not np.allclose(first["lgE"].to_numpy(), second["lgE"].to_numpy())
    assert _frame_digest(first) != _frame_digest(second)


@pytest.mark.parametrize("n", [0, 1, 7, 1_003])
def test_exactly_n_rows_balanced_by_group(n):
    showers = simulate_showers(n, hadronic_model="qgsjet-ii-04", seed=3)
    assert len(showers) == n
    counts = showers["mass_group"].value_counts()
    counts = counts.reindex(list(MASS_GROUPS), fill_value=0)
    assert counts.max() - counts.min() <= 1
    assert counts.sum() == n


def test_composition_fractions_are_normalised():
    showers = simulate_showers(
        1_000, hadronic_model="sibyll-2.3c", seed=3, composition={"p": 3, "Fe": 1}
    )
    counts = showers["mass_group"].value_counts()
    assert counts["p"] == 750 and counts["Fe"] == 250 and len(counts) == 2


def test_mixture_has_exact_counts_and_all_models():
    counts = {"p": 90, "He": 25, "C": 50, "Si": 70, "Fe": 55}
    showers = simulate_mixture(counts, hadronic_models=MODEL_KEYS, seed=9)
    assert showers["mass_group"].value_counts().to_dict() == counts
    assert set(showers["hadronic_model"]) == set(MODEL_KEYS)


def test_columns_and_dtypes():
    showers = simulate_showers(500, hadronic_model="epos-lhc", seed=11)
    assert tuple(showers.columns) == OUTPUT_COLUMNS
    for column in FEATURE_COLUMNS:
        assert showers[column].dtype == np.float64, column
        assert np.isfinite(showers[column]).all(), column
    assert all(isinstance(value, str) for value in showers["mass_group"])
    assert set(showers["hadronic_model"]) == {"epos-lhc"}
    assert (showers["seed"] == 11).all()


def test_age_is_clipped_with_pile_up_at_the_clips():
    showers = simulate_showers(20_000, hadronic_model="qgsjet-ii-04", seed=13)
    age = showers["Age"]
    assert age.min() >= AGE_MIN and age.max() <= AGE_MAX
    at_clips = ((age == AGE_MIN) | (age == AGE_MAX)).mean()
    # The reference sample has ~1 % of its rows at the clips (README: ~1.5 %).
    assert 0.003 < at_clips < 0.03


@pytest.mark.parametrize("max_zenith_deg", [18.0, 40.0, 60.0])
def test_zenith_never_exceeds_the_maximum(max_zenith_deg):
    showers = simulate_showers(
        2_000, hadronic_model="epos-lhc", seed=17, max_zenith_deg=max_zenith_deg
    )
    assert showers["Ze"].max() <= max_zenith_deg
    assert showers["Ze"].min() >= 0.0
    assert ((showers["Az"] >= 0.0) & (showers["Az"] < 360.0)).all()


def test_cores_lie_inside_the_fiducial_area():
    showers = simulate_showers(5_000, hadronic_model="sibyll-2.3c", seed=19)
    assert np.hypot(showers["X"], showers["Y"]).max() <= 91.0
    assert abs(showers["X"].mean()) < 3.0 and abs(showers["Y"].mean()) < 3.0


def test_wide_energy_range_reaches_1e17_ev_and_stays_sane():
    showers = simulate_showers(
        5_000, hadronic_model="epos-lhc", seed=23, lg_e_range=WIDE_LG_E_RANGE
    )
    assert WIDE_LG_E_RANGE[1] >= 17.0
    assert showers["lgE"].max() > 15.5
    slopes = fit_slopes(showers)
    assert 1.1 < slopes["lgNe"]["slope_lgE"] < 1.7
    assert 0.75 < slopes["lgNmu"]["slope_lgE"] < 0.95


def test_default_energy_distribution_peaks_near_14_2():
    showers = simulate_showers(10_000, hadronic_model="qgsjet-ii-04", seed=29)
    counts, edges = np.histogram(showers["lgE"], bins=np.arange(13.4, 15.01, 0.1))
    peak = edges[np.argmax(counts)] + 0.05
    assert 14.0 <= peak <= 14.35


@pytest.mark.skipif(
    not default_sample_path().exists(), reason="KCDC reference sample not available"
)
def test_calibration_thresholds_hold_on_a_simulated_sample():
    reference = load_kcdc_sample()
    simulated = simulate_calibration_sample(seed=2024, scale=3.0)
    report = calibration_report(simulated, reference)
    for column, statistic in report["ks"].items():
        assert statistic <= KS_MAX, (column, statistic)
    for kind in ("slopes", "scatters"):
        for column, entry in report[kind].items():
            assert entry["relative_difference"] <= RELATIVE_TOLERANCE, (kind, column, entry)
    assert report["passed"]
