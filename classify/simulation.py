"""Parametric, vectorised air-shower generator for KASCADE-like showers.

One call of :func:`simulate_showers` draws primaries from a power-law spectrum, lets each
shower develop with published air-shower parameterisations (model-dependent depth of
maximum and its fluctuations, a Gaisser-Hillas electron profile, Heitler-Matthews muon
scaling), passes it through a KASCADE-like detector response (resolutions, trigger and
reconstruction efficiency, the reconstruction's age clip) and returns exactly ``n``
*observed* showers with the KCDC columns.

Physics chain per shower (sources next to each parameter below and in docs/physics.md):

1. energy E ~ E^gamma (gamma = -2.7) between the bounds of ``lg_e_range``;
2. direction isotropic on the sky, seen by a flat array: dN ~ sin(theta) cos(theta)
   dtheta, azimuth uniform (from north);
3. core uniform over the array's fiducial disc (with a soft efficiency edge);
4. Xmax from the model's <Xmax>(E, A) and sigma(Xmax)(E, A) (superposition: a nucleus of
   energy E behaves like A protons of E/A, which the Auger parameterisation encodes
   through its ln A terms) with a Gaussian core plus an exponential deep tail that
   shrinks as 1/sqrt(A);
5. electron number at the slant depth X = 1022 g/cm^2 / cos(theta) from a Gaisser-Hillas
   profile with N_max proportional to the electromagnetic energy;
6. muon number N_mu = N_mu,p(E) A^(1-beta) (Heitler-Matthews) with the model's
   normalisation, attenuation with slant depth, superposition fluctuations and the
   energy-partition anticorrelation with the electromagnetic size;
7. the longitudinal age s = 3X/(X + 2 Xmax) (Greisen) mapped to the reconstructed lateral
   age, clipped to 0.1 ... 1.48 like the KASCADE reconstruction;
8. detector resolution on lgNe, lgNmu, core and direction, and an empirical trigger /
   reconstruction efficiency in energy and zenith angle (the real sample shows that the
   selection is not a cut on the fluctuating electron number, see docs/physics.md).

Randomness: ``numpy.random.default_rng`` seeded by ``SeedSequence([seed, model, group])``,
so a given (seed, model, group) always draws the same stream, and the showers of one group
never depend on how many showers of another group were requested.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .hadronic_models import HADRONIC_MODELS, HadronicModel, get_model
from .physics import (
    AGE_MAX,
    AGE_MIN,
    FEATURE_COLUMNS,
    KASCADE_FIDUCIAL_RADIUS_M,
    KASCADE_VERTICAL_DEPTH_G_CM2,
    LN_A,
    MASS_GROUPS,
    MASS_NUMBER,
    kcdc_precision,
)

#: Energy range reproducing the KCDC reference sample (lgE 13.4 ... 15.0, peak near 14.2).
DEFAULT_LG_E_RANGE: tuple[float, float] = (13.4, 15.0)
#: Wider range for the harder game levels: up to 10^17 eV (KASCADE-Grande territory).
WIDE_LG_E_RANGE: tuple[float, float] = (13.4, 17.0)
#: Largest zenith angle generated [deg]; the sample reaches ~59 deg, mostly below 40 deg.
DEFAULT_MAX_ZENITH_DEG: float = 60.0
#: Differential spectral index of the all-particle flux below the knee, dN/dE ~ E^-2.7
#: (e.g. T. Antoni et al. (KASCADE), Astropart. Phys. 24 (2005) 1: gamma_1 = -2.70 below
#: the knee; J. R. Hoerandel, Astropart. Phys. 19 (2003) 193, poly-gonato fit).
DEFAULT_SPECTRAL_INDEX: float = -2.7

OUTPUT_COLUMNS: tuple[str, ...] = (*FEATURE_COLUMNS, "mass_group", "hadronic_model", "seed")

_LN10 = math.log(10.0)


@dataclass(frozen=True, slots=True)
class ShowerPhysics:
    """Model-independent shower-physics constants (sources in each comment)."""

    #: Energy per particle at shower maximum, N_max = E_em / epsilon [eV].  Heitler-Matthews
    #: gives E/(g xi_c^e) = E/0.85 GeV with g = 10 and xi_c^e = 85 MeV (Matthews 2005);
    #: the usual rule of thumb for full simulations is E/1.4-1.6 GeV (T. K. Gaisser,
    #: "Cosmic Rays and Particle Physics", CUP 1990).  TUNED inside this range.
    energy_per_particle_at_max_ev: float = 0.95e9
    #: Gaisser-Hillas attenuation parameter lambda [g/cm^2]; fits to simulated and
    #: measured profiles give 60-80 g/cm^2 (T. K. Gaisser & A. M. Hillas, Proc. 15th ICRC
    #: 8 (1977) 353; Auger Collab., JCAP 03 (2019) 018 for the measured profile width).
    #: TUNED 70 -> 75 to keep the lgNe scatter from Xmax fluctuations near the sample's.
    gaisser_hillas_lambda_g_cm2: float = 75.0
    #: Gaisser-Hillas X0 (start of the profile) [g/cm^2]; 0 = top of the atmosphere.
    gaisser_hillas_x0_g_cm2: float = 0.0
    #: Heitler-Matthews multiplicity exponent used for the energy partition,
    #: beta = ln(N_ch,pi)/ln(N_pi) ~ 0.85 (Matthews 2005, with N_ch = 10 charged pions).
    heitler_matthews_beta: float = 0.85
    #: Pion critical energy xi_c^pi of the Heitler-Matthews model [eV] (Matthews 2005).
    pion_critical_energy_ev: float = 20e9
    #: Muon attenuation length in the atmosphere [g/cm^2]: N_mu(X) ~ exp(-(X-X_v)/Lambda).
    #: KASCADE-Grande measured ~1100-1300 g/cm^2 above 10^16 eV (W. D. Apel et al.,
    #: Astropart. Phys. 95 (2017) 25); for KASCADE's 230 MeV threshold at 10^14-10^15 eV
    #: simulations give shorter lengths (~800-1000 g/cm^2).  TUNED in that range.
    muon_attenuation_length_g_cm2: float = 950.0
    #: Weight of the exponential (deep) tail in the standardised proton Xmax distribution;
    #: the tail reflects the exponential depth of the first interaction (lambda_p-air
    #: ~ 80-90 g/cm^2 at 10^14-10^15 eV; R. Ulrich et al., PRD 83 (2011) 054026).  Chosen;
    #: shrinks as 1/sqrt(A) for nuclei (superposition), leaving iron nearly Gaussian.
    #: TUNED (0.65 -> 0.40).
    xmax_tail_weight_proton: float = 0.40
    #: Ratio d ln N_max / d ln N_mu of the energy-partition fluctuation: energy that stays
    #: in hadrons (more muons) is missing from the electromagnetic cascade (energy
    #: conservation of the Heitler-Matthews model; Cazon et al., PLB 784 (2018) 68, show
    #: N_mu fluctuations follow the hadronic energy fraction of the first interaction).
    #: -(f_had / f_em) / beta = -(0.2/0.8)/0.9 ~ -0.28.
    em_muon_partition_ratio: float = -0.28


@dataclass(frozen=True, slots=True)
class DetectorResponse:
    """KASCADE-like detector response.  Parameters marked EMPIRICAL are not physical
    constants: they describe the reconstruction / the KCDC sample selection and were
    tuned against ``shared/kcdc/dataset1.csv`` (see docs/physics.md)."""

    #: Radius of the disc in which true cores are generated [m] (beyond the fiducial 91 m
    #: so that resolution can move cores in and out).
    core_generation_radius_m: float = 100.0
    #: Fiducial radius of the reconstructed core [m] ("core within 91 m").
    fiducial_radius_m: float = KASCADE_FIDUCIAL_RADIUS_M
    #: EMPIRICAL soft edge of the efficiency near the array border: logistic in core
    #: radius with this half-efficiency radius and width [m] (sample: cores 80-90 m from
    #: the centre are ~15 % rarer than a uniform disc predicts).
    edge_half_radius_m: float = 95.0
    edge_width_m: float = 5.0
    #: Core resolution per coordinate [m]; a few metres near threshold (Antoni et al.,
    #: NIM A 513 (2003) 490 quote < 1-2 m for large showers; small showers are worse).
    core_resolution_m: float = 3.0
    #: Angular resolution per axis [deg]: ~0.5 deg for large showers, degrading to ~1-2 deg
    #: at threshold (Antoni et al. 2003).
    angular_resolution_deg: float = 1.0
    #: Resolution of lg N_e (~10-15 % at these sizes, Antoni et al. 2003) and of
    #: lg N_mu (~20-25 % at N_mu ~ 10^3, ibid.).
    lg_ne_resolution: float = 0.03
    lg_nmu_resolution: float = 0.10
    #: EMPIRICAL global scales of the reconstructed sizes: lg N_e,reco = lg N_e + offset.
    #: They absorb the electron energy threshold and lateral-fit conventions of the KASCADE
    #: reconstruction (and the muon threshold 230 MeV for N_mu).
    lg_ne_offset: float = 0.01
    #: lg N_mu of a vertical 10^15 eV proton shower for QGSJet-II.04 after the KASCADE muon
    #: threshold; Heitler-Matthews gives (10^15/20 GeV)^0.9 = 10^4.23 muons above ~1 GeV
    #: production energy, KASCADE counts muons above 230 MeV at ground.  TUNED.
    lg_nmu_proton_1pev: float = 3.84
    #: EMPIRICAL trigger + reconstruction efficiency: logistic in lg E whose 50 % point
    #: rises with slant depth, thr = thr_vertical + slope (sec(theta) - 1), width w.
    trigger_lg_e_vertical: float = 14.03
    trigger_sec_slope: float = 0.6
    trigger_width_lg_e: float = 0.08
    #: EMPIRICAL zenith acceptance of the sample: flat up to ~35 deg, 50 % at this angle,
    #: logistic width below.  The reference sample has only 12 of 2940 showers above
    #: 45 deg even at the highest energies, as if its CORSIKA showers were generated up to
    #: ~40-42 deg (a common range for KASCADE libraries) with a tail of mis-reconstructed
    #: directions.
    zenith_acceptance_half_deg: float = 40.0
    zenith_acceptance_width_deg: float = 2.0
    #: EMPIRICAL upper roll-off of the KCDC sample: its lgE distribution falls much faster
    #: than E^-1.7 per decade above ~10^14.55 eV at every zenith angle, which no spectrum
    #: near -2.7 does; we reproduce it with a logistic cut placed this far below the
    #: upper bound of the generated range, so a wider range moves it along.
    sample_rolloff_below_upper_lg_e: float = 0.44
    sample_rolloff_width_lg_e: float = 0.09
    #: EMPIRICAL mapping of the longitudinal age s (Greisen) to the reconstructed NKG
    #: lateral age: Age = age_ceiling - exp(y), y = y0 - k_s (s - 1.5) - k_ne (lgNe - 3.5)
    #: - k_sec (sec - 1) + sigma_y z.  The KASCADE lateral fit (modified NKG with a fixed
    #: Moliere radius, Antoni et al. 2001 Astropart. Phys. 14, 245) gives lateral ages
    #: below the longitudinal ones and a left-skewed distribution with a soft ceiling.
    age_ceiling: float = 1.52
    age_y0: float = -0.55
    age_k_s: float = 3.0
    age_k_ne: float = 0.60
    age_k_sec: float = 0.0
    age_sigma_y: float = 0.55
    #: EMPIRICAL size error correlated with the age-fit error [lg units per unit of the
    #: standard-normal fit error]; reproduces the positive Age-lgNe residual correlation of
    #: the reference sample (+0.31 at fixed lgE and zenith).
    lg_ne_age_fit_coupling: float = 0.05


DEFAULT_PHYSICS = ShowerPhysics()
DEFAULT_DETECTOR = DetectorResponse()


# --------------------------------------------------------------------------------------
# Physics building blocks (pure, vectorised)
# --------------------------------------------------------------------------------------


def mean_xmax(lg_e: np.ndarray, ln_a: float, model: HadronicModel) -> np.ndarray:
    """<Xmax> [g/cm^2] (Auger, JCAP 02 (2013) 026, eq. 2.1), linear in lg E everywhere."""
    lg_e0 = lg_e - 19.0
    return (
        model.xmax_x0
        + model.xmax_d * lg_e0
        + (model.xmax_xi - model.xmax_d / _LN10 + model.xmax_delta * lg_e0) * ln_a
    )


def sigma_xmax(lg_e: np.ndarray, ln_a: float, model: HadronicModel) -> np.ndarray:
    """sigma(Xmax) [g/cm^2] (Auger, JCAP 02 (2013) 026, eqs. 2.3-2.5).

    Below the fit range (10^17 eV) sigma_p^2 is continued linearly from its value and slope
    at the range edge; the mass factor uses a(E) at the clipped energy as well.
    """
    lg_ref = model.xmax_fit_min_lg_e - 19.0
    lg_e0 = lg_e - 19.0
    p0, p1, p2 = model.xmax_var_p0, model.xmax_var_p1, model.xmax_var_p2
    var_edge = p0 + p1 * lg_ref + p2 * lg_ref**2
    slope_edge = p1 + 2.0 * p2 * lg_ref
    var_inside = p0 + p1 * lg_e0 + p2 * lg_e0**2
    var_proton = np.where(lg_e0 < lg_ref, var_edge + slope_edge * (lg_e0 - lg_ref), var_inside)
    a = model.xmax_var_a0 + model.xmax_var_a1 * np.maximum(lg_e0, lg_ref)
    mass_factor = 1.0 + a * ln_a + model.xmax_var_b * ln_a**2
    return np.sqrt(np.maximum(var_proton * mass_factor, 1.0))


def gaisser_hillas_ln_ratio(
    depth: np.ndarray, xmax: np.ndarray, *, lambda_g_cm2: float, x0_g_cm2: float
) -> np.ndarray:
    """ln(N(X)/N_max) of the Gaisser-Hillas profile (Gaisser & Hillas, 15th ICRC, 1977)."""
    width = np.maximum(xmax - x0_g_cm2, 1.0)
    return (width / lambda_g_cm2) * np.log((depth - x0_g_cm2) / width) + (
        xmax - depth
    ) / lambda_g_cm2


def longitudinal_age(depth: np.ndarray, xmax: np.ndarray) -> np.ndarray:
    """Greisen's longitudinal age s = 3X/(X + 2 Xmax) (K. Greisen, Ann. Rev. Nucl. Sci.
    10 (1960) 63), with the EM-cascade t_max replaced by the hadronic shower's Xmax."""
    return 3.0 * depth / (depth + 2.0 * xmax)


def _standardised_xmax_shape(
    rng: np.random.Generator, size: int, *, tail_weight: float
) -> np.ndarray:
    """Zero-mean, unit-variance variate: Gaussian core plus an exponential deep tail."""
    gauss = rng.standard_normal(size)
    tail = rng.exponential(1.0, size) - 1.0
    return math.sqrt(1.0 - tail_weight**2) * gauss + tail_weight * tail


def _logistic(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))


# --------------------------------------------------------------------------------------
# Generation of one (model, group) block
# --------------------------------------------------------------------------------------


def _draw_candidates(
    rng: np.random.Generator,
    size: int,
    *,
    model: HadronicModel,
    mass_group: str,
    lg_e_range: tuple[float, float],
    max_zenith_deg: float,
    spectral_index: float,
    physics: ShowerPhysics,
    detector: DetectorResponse,
) -> dict[str, np.ndarray]:
    """Draw ``size`` candidate showers; returns the observables of the triggered ones and
    the mask of those that also pass the fiducial cuts."""
    mass_number = MASS_NUMBER[mass_group]
    ln_a = LN_A[mass_group]

    # 1. Energy: inverse CDF of E^gamma between the bounds.
    lg_lo, lg_hi = lg_e_range
    g1 = spectral_index + 1.0  # integral index, < 0
    e_lo_pow, e_hi_pow = 10.0 ** (g1 * lg_lo), 10.0 ** (g1 * lg_hi)
    lg_e = np.log10(e_lo_pow + rng.random(size) * (e_hi_pow - e_lo_pow)) / g1

    # 2. Direction: flux through a flat detector ~ sin(t) cos(t) dt -> cos^2 t uniform.
    cos2_min = math.cos(math.radians(max_zenith_deg)) ** 2
    cos_zenith = np.sqrt(rng.uniform(cos2_min, 1.0, size))
    zenith_deg = np.degrees(np.arccos(cos_zenith))

    # 3. Core: uniform over a disc.
    core_r = detector.core_generation_radius_m * np.sqrt(rng.random(size))

    # Trigger / reconstruction efficiency (EMPIRICAL, see DetectorResponse).  It depends
    # only on energy, direction and core distance, so it is applied before the shower
    # physics is evaluated: rejected candidates cost almost nothing.
    sec_zenith = 1.0 / cos_zenith
    threshold = detector.trigger_lg_e_vertical + detector.trigger_sec_slope * (sec_zenith - 1.0)
    p_trigger = _logistic((lg_e - threshold) / detector.trigger_width_lg_e)
    rolloff_centre = lg_hi - detector.sample_rolloff_below_upper_lg_e
    p_sample = _logistic(-(lg_e - rolloff_centre) / detector.sample_rolloff_width_lg_e)
    p_edge = _logistic(-(core_r - detector.edge_half_radius_m) / detector.edge_width_m)
    p_zenith = _logistic(
        -(zenith_deg - detector.zenith_acceptance_half_deg) / detector.zenith_acceptance_width_deg
    )
    triggered = rng.random(size) < p_trigger * p_sample * p_edge * p_zenith
    lg_e, cos_zenith, zenith_deg, sec_zenith, core_r = (
        values[triggered] for values in (lg_e, cos_zenith, zenith_deg, sec_zenith, core_r)
    )
    size = int(triggered.sum())
    azimuth_deg = rng.uniform(0.0, 360.0, size)
    core_phi = rng.uniform(0.0, 2.0 * math.pi, size)
    core_x = core_r * np.cos(core_phi)
    core_y = core_r * np.sin(core_phi)

    # 4. Depth of maximum.
    xmax_mean = mean_xmax(lg_e, ln_a, model)
    xmax_sigma = sigma_xmax(lg_e, ln_a, model)
    tail_weight = physics.xmax_tail_weight_proton / math.sqrt(mass_number)
    xmax = xmax_mean + xmax_sigma * _standardised_xmax_shape(rng, size, tail_weight=tail_weight)
    slant_depth = KASCADE_VERTICAL_DEPTH_G_CM2 * sec_zenith
    xmax = np.minimum(xmax, slant_depth - 1.0)  # a maximum below ground is not observable

    # 6a. Energy-partition fluctuation shared by muons and electrons (superposition:
    # the relative fluctuation of A independent sub-showers falls as 1/sqrt(A)).
    partition = rng.standard_normal(size) * (model.muon_ln_sigma_proton / math.sqrt(mass_number))

    # 5. Electron number at ground from the Gaisser-Hillas profile.
    # Electromagnetic energy fraction of the Heitler-Matthews model,
    # f_em = 1 - (E / (A xi_c^pi))^(beta_HM - 1) (Matthews 2005): heavier primaries and
    # lower energies keep more energy in hadrons (and muons).
    em_fraction = 1.0 - (10.0**lg_e / (mass_number * physics.pion_critical_energy_ev)) ** (
        physics.heitler_matthews_beta - 1.0
    )
    ln_n_max = (
        np.log(em_fraction * 10.0**lg_e / physics.energy_per_particle_at_max_ev)
        + physics.em_muon_partition_ratio * partition
    )
    ln_ne = ln_n_max + gaisser_hillas_ln_ratio(
        slant_depth,
        xmax,
        lambda_g_cm2=physics.gaisser_hillas_lambda_g_cm2,
        x0_g_cm2=physics.gaisser_hillas_x0_g_cm2,
    )
    lg_ne_true = ln_ne / _LN10 + detector.lg_ne_offset

    # 6b. Muons: Heitler-Matthews N_mu = N_mu,p(E) A^(1-beta), model normalisation,
    # attenuation with the extra slant depth, partition + Poisson fluctuations.
    beta = model.muon_beta
    lg_nmu_mean = (
        detector.lg_nmu_proton_1pev
        + math.log10(model.muon_scale_vs_qgsjet)
        + beta * (lg_e - 15.0)
        + (1.0 - beta) * math.log10(mass_number)
        - (slant_depth - KASCADE_VERTICAL_DEPTH_G_CM2)
        / (physics.muon_attenuation_length_g_cm2 * _LN10)
    )
    poisson_ln_sigma = 1.0 / np.sqrt(10.0**lg_nmu_mean)
    lg_nmu_true = lg_nmu_mean + (partition + poisson_ln_sigma * rng.standard_normal(size)) / _LN10

    # 7. Age: Greisen's longitudinal age mapped to the reconstructed lateral age.
    s_long = longitudinal_age(slant_depth, xmax)
    # The lateral fit determines N_e and the age together; their errors are positively
    # correlated (a flatter fitted profile integrates to more particles), so the same
    # standard-normal fit error moves both.
    age_fit_error = rng.standard_normal(size)
    age_y = (
        detector.age_y0
        - detector.age_k_s * (s_long - 1.5)
        - detector.age_k_ne * (lg_ne_true - 3.5)
        - detector.age_k_sec * (sec_zenith - 1.0)
        - detector.age_sigma_y * age_fit_error
    )
    age = np.clip(detector.age_ceiling - np.exp(age_y), AGE_MIN, AGE_MAX)

    # 8. Detector resolution.
    lg_ne = (
        lg_ne_true
        + detector.lg_ne_resolution * rng.standard_normal(size)
        + detector.lg_ne_age_fit_coupling * age_fit_error
    )
    lg_nmu = lg_nmu_true + detector.lg_nmu_resolution * rng.standard_normal(size)
    x_reco = core_x + detector.core_resolution_m * rng.standard_normal(size)
    y_reco = core_y + detector.core_resolution_m * rng.standard_normal(size)
    zenith_reco = np.abs(zenith_deg + detector.angular_resolution_deg * rng.standard_normal(size))
    sin_zenith = np.maximum(np.sin(np.radians(zenith_reco)), 0.05)
    azimuth_reco = np.mod(
        azimuth_deg + detector.angular_resolution_deg * rng.standard_normal(size) / sin_zenith,
        360.0,
    )

    # Fiducial cuts on the reconstructed core and direction.
    accepted = np.hypot(x_reco, y_reco) <= detector.fiducial_radius_m
    accepted &= zenith_reco <= max_zenith_deg

    return {
        "lgE": lg_e,
        "X": x_reco,
        "Y": y_reco,
        "Ze": zenith_reco,
        "Az": azimuth_reco,
        "lgNe": lg_ne,
        "lgNmu": lg_nmu,
        "Age": age,
        "accepted": accepted,
    }


def _simulate_block(
    n: int,
    *,
    rng: np.random.Generator,
    model: HadronicModel,
    mass_group: str,
    lg_e_range: tuple[float, float],
    max_zenith_deg: float,
    spectral_index: float,
    physics: ShowerPhysics,
    detector: DetectorResponse,
) -> dict[str, np.ndarray]:
    """Exactly ``n`` accepted showers of one group, by rejection in vectorised batches."""
    columns: dict[str, list[np.ndarray]] = {name: [] for name in FEATURE_COLUMNS}
    have = 0
    acceptance = 0.1  # first guess; refined from the running tally
    drawn = accepted_total = 0
    for _attempt in range(200):
        if have >= n:
            break
        batch = int(min(max((n - have) / max(acceptance, 1e-3) * 1.15 + 256, 1024), 2_000_000))
        block = _draw_candidates(
            rng,
            batch,
            model=model,
            mass_group=mass_group,
            lg_e_range=lg_e_range,
            max_zenith_deg=max_zenith_deg,
            spectral_index=spectral_index,
            physics=physics,
            detector=detector,
        )
        mask = block["accepted"]
        count = int(mask.sum())  # candidates that triggered and passed the fiducial cuts
        drawn += batch
        accepted_total += count
        acceptance = max(accepted_total / drawn, 1e-4)
        take = min(count, n - have)
        if take:
            for name in FEATURE_COLUMNS:
                columns[name].append(block[name][mask][:take])
            have += take
    if have < n:
        raise RuntimeError(
            f"trigger acceptance too low to simulate {n} {mass_group} showers in "
            f"lg_e_range={lg_e_range}, max_zenith_deg={max_zenith_deg}"
        )
    return {
        name: (np.concatenate(parts) if parts else np.empty(0)) for name, parts in columns.items()
    }


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def group_counts(n: int, composition: Mapping[str, float] | None = None) -> dict[str, int]:
    """Deterministic integer counts per mass group summing to ``n``.

    ``None`` means balanced (n // 5 each, the remainder to the lightest groups); otherwise
    the fractions are normalised and rounded by the largest-remainder method.
    """
    if n < 0:
        raise ValueError("n must be non-negative")
    if composition is None:
        base, extra = divmod(n, len(MASS_GROUPS))
        return {group: base + (1 if i < extra else 0) for i, group in enumerate(MASS_GROUPS)}
    unknown = set(composition) - set(MASS_GROUPS)
    if unknown:
        raise ValueError(f"unknown mass groups {sorted(unknown)}; valid: {MASS_GROUPS}")
    weights = np.array([float(composition.get(group, 0.0)) for group in MASS_GROUPS])
    if np.any(weights < 0) or not np.isfinite(weights).all() or weights.sum() <= 0:
        raise ValueError("composition fractions must be finite, non-negative, not all zero")
    exact = n * weights / weights.sum()
    counts = np.floor(exact).astype(int)
    remainder = n - int(counts.sum())
    order = sorted(range(len(MASS_GROUPS)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[:remainder]:
        counts[i] += 1
    return {group: int(count) for group, count in zip(MASS_GROUPS, counts, strict=True)}


def _model_index(key: str) -> int:
    return list(HADRONIC_MODELS).index(key)


def simulate_showers(
    n: int,
    *,
    hadronic_model: str,
    seed: int,
    composition: Mapping[str, float] | None = None,
    lg_e_range: tuple[float, float] = DEFAULT_LG_E_RANGE,
    max_zenith_deg: float = DEFAULT_MAX_ZENITH_DEG,
    spectral_index: float = DEFAULT_SPECTRAL_INDEX,
    physics: ShowerPhysics = DEFAULT_PHYSICS,
    detector: DetectorResponse = DEFAULT_DETECTOR,
) -> pd.DataFrame:
    """Simulate exactly ``n`` triggered showers with one hadronic model.

    Returns a DataFrame with columns lgE, X, Y, Ze, Az, lgNe, lgNmu, Age (float64),
    mass_group (str), hadronic_model (str, the model key) and seed (int64, the argument),
    rows shuffled.  Same arguments give byte-identical output.
    """
    model = get_model(hadronic_model)
    n = int(n)
    lo, hi = (float(v) for v in lg_e_range)
    if not hi > lo:
        raise ValueError("lg_e_range must be (low, high) with high > low")
    if not 0.0 < max_zenith_deg < 90.0:
        raise ValueError("max_zenith_deg must be in (0, 90)")
    if not spectral_index < -1.0:
        raise ValueError("spectral_index must be a differential index below -1 (e.g. -2.7)")
    seed = int(seed)
    if seed < 0:
        raise ValueError("seed must be non-negative")

    counts = group_counts(n, composition)
    model_index = _model_index(model.key)
    frames = []
    for group_index, group in enumerate(MASS_GROUPS):
        count = counts[group]
        if count == 0:
            continue
        rng = np.random.default_rng(np.random.SeedSequence([seed, model_index, group_index]))
        block = _simulate_block(
            count,
            rng=rng,
            model=model,
            mass_group=group,
            lg_e_range=(lo, hi),
            max_zenith_deg=float(max_zenith_deg),
            spectral_index=float(spectral_index),
            physics=physics,
            detector=detector,
        )
        # Rounded as KCDC exports its columns: the same seed then gives the same
        # showers on every CPU (physics.FEATURE_DECIMALS says why).
        frame = pd.DataFrame(kcdc_precision(block))
        frame["mass_group"] = group
        frames.append(frame)

    if frames:
        showers = pd.concat(frames, ignore_index=True)
    else:
        showers = pd.DataFrame({name: np.empty(0, dtype=np.float64) for name in FEATURE_COLUMNS})
        showers["mass_group"] = pd.Series([], dtype=object)
    shuffle_rng = np.random.default_rng(np.random.SeedSequence([seed, model_index, 1_000]))
    showers = showers.iloc[shuffle_rng.permutation(len(showers))].reset_index(drop=True)
    showers["mass_group"] = showers["mass_group"].astype(str)
    showers["hadronic_model"] = model.key
    showers["seed"] = np.full(len(showers), seed, dtype=np.int64)
    return showers[list(OUTPUT_COLUMNS)]


def simulate_mixture(
    counts: Mapping[str, int],
    *,
    hadronic_models: Sequence[str] = tuple(HADRONIC_MODELS),
    seed: int,
    lg_e_range: tuple[float, float] = DEFAULT_LG_E_RANGE,
    max_zenith_deg: float = DEFAULT_MAX_ZENITH_DEG,
    spectral_index: float = DEFAULT_SPECTRAL_INDEX,
    physics: ShowerPhysics = DEFAULT_PHYSICS,
    detector: DetectorResponse = DEFAULT_DETECTOR,
) -> pd.DataFrame:
    """Showers with exact per-group ``counts``, each group split evenly across models.

    Used for calibration: the KCDC sample mixes CORSIKA runs of all three models.  The
    remainder of an uneven split goes to the models in the order given.  Rows are shuffled
    deterministically.
    """
    models = [get_model(key).key for key in hadronic_models]
    if not models:
        raise ValueError("at least one hadronic model is required")
    unknown = set(counts) - set(MASS_GROUPS)
    if unknown:
        raise ValueError(f"unknown mass groups {sorted(unknown)}; valid: {MASS_GROUPS}")
    frames = []
    for index, key in enumerate(models):
        per_model = {}
        for group in MASS_GROUPS:
            total = int(counts.get(group, 0))
            base, extra = divmod(total, len(models))
            per_model[group] = base + (1 if index < extra else 0)
        n_model = sum(per_model.values())
        if n_model == 0:
            continue
        frames.append(
            simulate_showers(
                n_model,
                hadronic_model=key,
                seed=seed,
                composition=per_model,
                lg_e_range=lg_e_range,
                max_zenith_deg=max_zenith_deg,
                spectral_index=spectral_index,
                physics=physics,
                detector=detector,
            )
        )
    showers = pd.concat(frames, ignore_index=True)
    mix_rng = np.random.default_rng(np.random.SeedSequence([seed, 2_000]))
    return showers.iloc[mix_rng.permutation(len(showers))].reset_index(drop=True)
