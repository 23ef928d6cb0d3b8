"""`{% plotly_locale_json %}`: the words and number format of plotly.js's own controls in
the visitor's language, for kascade_game/plotly-locale.js to register.

plotly.js writes its toolbar's tooltips ("Zoom", "Autoscale", …) and its numbers
(0.5, 1,000) in English. Its locale mechanism takes a dictionary of its English
words and the decimal and thousands separators; the words are in our own .po files,
so a German or Russian page's charts speak the page's language.
"""

from __future__ import annotations

from django import template
from django.utils.formats import get_format
from django.utils.html import json_script
from django.utils.translation import get_language, gettext, gettext_noop

register = template.Library()

# plotly.js's English texts of the controls the charts show (the keys of its locale
# dictionaries), as written in vendor/plotly-cartesian.min.js.
PLOTLY_WORDS = (
    gettext_noop("Download plot as a PNG"),
    gettext_noop("Download plot"),
    gettext_noop("Zoom"),
    gettext_noop("Pan"),
    gettext_noop("Box Select"),
    gettext_noop("Lasso Select"),
    gettext_noop("Zoom in"),
    gettext_noop("Zoom out"),
    gettext_noop("Autoscale"),
    gettext_noop("Reset axes"),
    gettext_noop("Toggle Spike Lines"),
    gettext_noop("Show closest data on hover"),
    gettext_noop("Compare data on hover"),
    gettext_noop("Double-click to zoom back out"),
    gettext_noop("Taking snapshot - this may take a few seconds"),
    gettext_noop("Snapshot succeeded"),
    gettext_noop("Sorry, there was a problem downloading your snapshot!"),
)


def plotly_locale() -> dict:
    language = get_language() or "en"
    return {
        "name": language,
        "dictionary": {word: gettext(word) for word in PLOTLY_WORDS},
        "format": {
            "decimal": get_format("DECIMAL_SEPARATOR"),
            "thousands": get_format("THOUSAND_SEPARATOR"),
        },
    }


@register.simple_tag
def plotly_locale_json():
    """Nothing for English, plotly.js's own language: a locale registered under "en"
    would replace its English number format (months, grouping) and break every chart."""
    if (get_language() or "en").startswith("en"):
        return ""
    return json_script(plotly_locale(), "plotly-locale")
