"""Dataset descriptions in the visitor's language.

A description is stored once, in English: the set-up writes those of
fixtures/datasets.json, an import writes one of the patterns below. They are
translated when shown: a stored description that is one of the known texts, or
that follows one of the patterns, comes back in the active language with its
values put back in; anything else (a description a curator typed in the admin,
or one given to `import_showers --description`) is shown as it was written.
"""

from __future__ import annotations

import re
from functools import cache

from django.utils.formats import number_format
from django.utils.translation import gettext, gettext_noop

# The descriptions of fixtures/datasets.json, word for word (a test keeps them equal).
FIXTURE_DESCRIPTIONS: tuple[str, ...] = (
    gettext_noop(
        "Simulated with the QGSJet-II.04 parameter set; 4,800 showers per mass group; "
        "training set of the QGSJet forest."
    ),
    gettext_noop(
        "Simulated with the EPOS-LHC parameter set; 4,800 showers per mass group; "
        "training set of the EPOS forest."
    ),
    gettext_noop(
        "Simulated with the Sibyll 2.3c parameter set; 4,800 showers per mass group; "
        "training set of the Sibyll forest."
    ),
    gettext_noop(
        "The game's cards: the three hadronic models mixed, 600 showers per mass group, "
        "never seen by the forests in training."
    ),
)

# What an import stores: `PATTERN % values` in English, read back with the same pattern.
UPLOADED = gettext_noop("Uploaded by %(user)s from %(file)s.")
IMPORTED = gettext_noop("Imported KCDC export (%(count)s showers).")
PATTERNS: tuple[str, ...] = (UPLOADED, IMPORTED)

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@cache
def _matcher(pattern: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(pattern)
    # split() alternates literal text and placeholder names: text, name, text, name, text.
    regex = "".join(
        re.escape(part) if index % 2 == 0 else f"(?P<{part}>.+?)"
        for index, part in enumerate(parts)
    )
    return re.compile(regex, re.S)


def _localised(name: str, value: str) -> str:
    if name == "count" and value.isdigit():
        return number_format(int(value), force_grouping=True)
    return value


def describe(description: str) -> str:
    """The stored (English) description of a dataset in the active language."""
    if description in FIXTURE_DESCRIPTIONS:
        return gettext(description)
    for pattern in PATTERNS:
        match = _matcher(pattern).fullmatch(description)
        if match:
            values = {name: _localised(name, value) for name, value in match.groupdict().items()}
            return gettext(pattern) % values
    return description
