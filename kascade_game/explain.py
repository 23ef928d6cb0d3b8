"""Plain-language descriptions of a shower: numbers with units, the hint, the physics sentence."""

from __future__ import annotations

import math

from classify.physics import GROUP_LABELS
from classify.reference import expected, muon_ratio

COMPASS = ("north", "north-east", "east", "south-east", "south", "south-west", "west", "north-west")


def energy_text(lg_e: float) -> str:
    energy_ev = 10**lg_e
    if energy_ev >= 1e15:
        return f"{energy_ev / 1e15:.2g} PeV" if energy_ev < 1e16 else f"{energy_ev / 1e15:.0f} PeV"
    return f"{energy_ev / 1e12:.0f} TeV"


def count_text(lg_n: float) -> str:
    value = 10**lg_n
    digits = max(0, int(math.floor(math.log10(value))) - 1) if value >= 100 else 0
    rounded = round(value, -digits) if digits else round(value)
    return f"{int(rounded):,}"


def compass_text(azimuth_deg: float) -> str:
    return COMPASS[int(((azimuth_deg % 360) + 22.5) // 45) % 8]


def describe(shower) -> list[dict]:
    """The card's facts: label, value with unit, and what it means."""
    return [
        {
            "label": "Energy",
            "value": energy_text(shower.lg_e),
            "detail": f"lg(E/eV) = {shower.lg_e:.2f}: the energy of the particle that hit the air",
        },
        {
            "label": "Zenith angle",
            "value": f"{shower.zenith_deg:.0f}°",
            "detail": "0° is straight down; inclined showers cross more air",
        },
        {
            "label": "Coming from",
            "value": f"{compass_text(shower.azimuth_deg)} ({shower.azimuth_deg:.0f}°)",
            "detail": "azimuth, measured from north",
        },
        {
            "label": "Electrons at ground",
            "value": count_text(shower.lg_n_e),
            "detail": f"lg Ne = {shower.lg_n_e:.2f}",
        },
        {
            "label": "Muons at ground",
            "value": count_text(shower.lg_n_mu),
            "detail": f"lg Nμ = {shower.lg_n_mu:.2f}",
        },
        {
            "label": "Shower age",
            "value": f"{shower.age:.2f}",
            "detail": "below 1: young and steep; above 1: old and flat",
        },
    ]


def muon_hint(shower) -> dict:
    ratio = muon_ratio(lg_n_mu=shower.lg_n_mu, lg_e=shower.lg_e, zenith_deg=shower.zenith_deg)
    if ratio >= 1.15:
        verdict = "muon-rich"
    elif ratio <= 0.87:
        verdict = "muon-poor"
    else:
        verdict = "about average in muons"
    return {
        "ratio": ratio,
        "verdict": verdict,
        "text": f"This shower has {ratio:.2f} × the muons of an average shower of its energy "
        f"and zenith angle: {verdict}.",
    }


def physics_sentence(shower, truth: str) -> str:
    """One sentence of physics from this shower's own numbers."""
    vs_proton = muon_ratio(
        lg_n_mu=shower.lg_n_mu, lg_e=shower.lg_e, zenith_deg=shower.zenith_deg, group="p"
    )
    electrons_vs_proton = 10 ** (
        shower.lg_n_e - expected("lgNe", lg_e=shower.lg_e, zenith_deg=shower.zenith_deg, group="p")
    )
    name = GROUP_LABELS[truth]
    if vs_proton >= 1.1:
        muons = (
            f"about {vs_proton:.1f} times as many muons as a typical proton shower of this energy"
        )
    elif vs_proton <= 0.9:
        muons = f"only {vs_proton:.1f} times the muons of a typical proton shower of this energy"
    else:
        muons = "about as many muons as a typical proton shower of this energy"
    electrons = (
        f"{electrons_vs_proton:.1f} times its electrons"
        if electrons_vs_proton < 0.9 or electrons_vs_proton > 1.1
        else "as many electrons"
    )
    if truth in ("Si", "Fe", "C"):
        why = (
            "a heavy nucleus splits its energy among many nucleons, so its shower peaks higher, "
            "arrives older and makes more muons"
        )
        if vs_proton < 1.1:
            why = "this one fluctuated towards a light-looking shower, which is why heavy nuclei are hard to spot"
    else:
        why = "a light primary pushes deep into the air, so its electron cascade is still strong at ground"
        if vs_proton >= 1.3:
            why = "this one fluctuated towards a heavy-looking shower — even physicists' forests get such showers wrong"
    return f"This {name} shower had {muons} and {electrons}: {why}."
