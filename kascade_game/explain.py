"""Plain-language descriptions of a shower: numbers with units, the hint, the physics sentence."""

from __future__ import annotations

import math

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy

from classify.reference import expected, muon_ratio

COMPASS = (
    pgettext_lazy("direction", "north"),
    pgettext_lazy("direction", "north-east"),
    pgettext_lazy("direction", "east"),
    pgettext_lazy("direction", "south-east"),
    pgettext_lazy("direction", "south"),
    pgettext_lazy("direction", "south-west"),
    pgettext_lazy("direction", "west"),
    pgettext_lazy("direction", "north-west"),
)

# The mass groups' names in the visitor's language; the symbols p He C Si Fe stay as they are.
GROUP_NAMES = {
    "p": gettext_lazy("proton"),
    "He": gettext_lazy("helium"),
    "C": gettext_lazy("carbon/oxygen"),
    "Si": gettext_lazy("silicon"),
    "Fe": gettext_lazy("iron"),
}


def group_name(group: str) -> str:
    return str(GROUP_NAMES[group]) if group in GROUP_NAMES else ""


def decimal(value: float, places: int) -> str:
    """A number in the visitor's locale: 1.5 in English, 1,5 in German and Russian."""
    return number_format(round(value, places), decimal_pos=places, use_l10n=True)


def energy_text(lg_e: float) -> str:
    energy_ev = 10**lg_e
    peta, tera = pgettext("energy unit", "PeV"), pgettext("energy unit", "TeV")
    if energy_ev >= 1e15:
        if energy_ev < 1e16:
            # two significant figures: 1.2 PeV, 3.4 PeV
            return f"{decimal(energy_ev / 1e15, 1)} {peta}"
        return f"{decimal(energy_ev / 1e15, 0)} {peta}"
    return f"{decimal(energy_ev / 1e12, 0)} {tera}"


def count_text(lg_n: float) -> str:
    value = 10**lg_n
    digits = max(0, int(math.floor(math.log10(value))) - 1) if value >= 100 else 0
    rounded = round(value, -digits) if digits else round(value)
    return number_format(int(rounded), use_l10n=True, force_grouping=True)


def compass_text(azimuth_deg: float) -> str:
    return str(COMPASS[int(((azimuth_deg % 360) + 22.5) // 45) % 8])


def describe(shower) -> list[dict]:
    """The card's facts: label, value with unit, and what it means."""
    return [
        {
            "label": _("Energy"),
            "value": energy_text(shower.lg_e),
            "detail": _("lg(E/eV) = %(lg_e)s: the energy of the particle that hit the air")
            % {"lg_e": decimal(shower.lg_e, 2)},
        },
        {
            "label": _("Zenith angle"),
            "value": f"{decimal(shower.zenith_deg, 0)}°",
            "detail": _("0° is straight down; inclined showers cross more air"),
        },
        {
            "label": _("Coming from"),
            "value": f"{compass_text(shower.azimuth_deg)} ({decimal(shower.azimuth_deg, 0)}°)",
            "detail": _("azimuth, measured from north"),
        },
        {
            "label": _("Electrons at ground"),
            "value": count_text(shower.lg_n_e),
            "detail": f"lg Ne = {decimal(shower.lg_n_e, 2)}",
        },
        {
            "label": _("Muons at ground"),
            "value": count_text(shower.lg_n_mu),
            "detail": f"lg Nμ = {decimal(shower.lg_n_mu, 2)}",
        },
        {
            "label": _("Shower age"),
            "value": decimal(shower.age, 2),
            "detail": _("below 1: young and steep; above 1: old and flat"),
        },
    ]


def muon_hint(shower) -> dict:
    ratio = muon_ratio(lg_n_mu=shower.lg_n_mu, lg_e=shower.lg_e, zenith_deg=shower.zenith_deg)
    if ratio >= 1.15:
        verdict = _("muon-rich")
    elif ratio <= 0.87:
        verdict = _("muon-poor")
    else:
        verdict = _("about average in muons")
    return {
        "ratio": ratio,
        "verdict": verdict,
        "text": _(
            "This shower has %(ratio)s × the muons of an average shower of its energy "
            "and zenith angle: %(verdict)s."
        )
        % {"ratio": decimal(ratio, 2), "verdict": verdict},
    }


def physics_sentence(shower, truth: str) -> str:
    """One sentence of physics from this shower's own numbers."""
    vs_proton = muon_ratio(
        lg_n_mu=shower.lg_n_mu, lg_e=shower.lg_e, zenith_deg=shower.zenith_deg, group="p"
    )
    electrons_vs_proton = 10 ** (
        shower.lg_n_e - expected("lgNe", lg_e=shower.lg_e, zenith_deg=shower.zenith_deg, group="p")
    )
    name = group_name(truth)
    if vs_proton >= 1.1:
        muons = _(
            "about %(ratio)s times as many muons as a typical proton shower of this energy"
        ) % {"ratio": decimal(vs_proton, 1)}
    elif vs_proton <= 0.9:
        muons = _("only %(ratio)s times the muons of a typical proton shower of this energy") % {
            "ratio": decimal(vs_proton, 1)
        }
    else:
        muons = _("about as many muons as a typical proton shower of this energy")
    electrons = (
        _("%(ratio)s times its electrons") % {"ratio": decimal(electrons_vs_proton, 1)}
        if electrons_vs_proton < 0.9 or electrons_vs_proton > 1.1
        else _("as many electrons")
    )
    if truth in ("Si", "Fe", "C"):
        why = _(
            "a heavy nucleus splits its energy among many nucleons, so its shower peaks higher, "
            "arrives older and makes more muons"
        )
        if vs_proton < 1.1:
            why = _(
                "this one fluctuated towards a light-looking shower, "
                "which is why heavy nuclei are hard to spot"
            )
    else:
        why = _(
            "a light primary pushes deep into the air, "
            "so its electron cascade is still strong at ground"
        )
        if vs_proton >= 1.3:
            why = _(
                "this one fluctuated towards a heavy-looking shower — "
                "even physicists' forests get such showers wrong"
            )
    return _("This %(name)s shower had %(muons)s and %(electrons)s: %(why)s.") % {
        "name": name,
        "muons": muons,
        "electrons": electrons,
        "why": why,
    }
