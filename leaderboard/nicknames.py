"""Nickname rules: Unicode normalisation, a uniqueness key, and the filters.

Pure Python (no Django imports), used by every place that takes a nickname:
sign-up, the guest nickname form, school rooms and the festival booth.

* ``normalise_nickname(raw)`` -- NFKC, whitespace collapsed, and refusal of
  invisible/control characters, unassigned and private-use code points,
  "Zalgo" mark stacks, characters outside letters, digits, space and
  ``- _ . '``, names outside ``MIN_LENGTH``..``MAX_LENGTH``, and words that mix
  Latin with Cyrillic or Greek letters (look-alike spoofing such as "аdmin").
* ``nickname_key(nickname)`` -- the comparison key for "is this name taken?".
* ``check_nickname(raw)`` -- normalise, then refuse offensive words
  (``data/blocked_words.txt``) and impersonation (``data/reserved_names.txt``);
  returns the normalised nickname.

Every refusal raises ``NicknameRejected`` (a ``ValueError``) whose ``str()`` is
a plain-language message saying what to change, and whose ``code`` names the
rule for callers and tests.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = [
    "ALLOWED_PUNCTUATION",
    "KEY_MAX_LENGTH",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "NicknameRejected",
    "check_nickname",
    "nickname_key",
    "normalise_nickname",
    "skeleton",
]

MIN_LENGTH = 2
MAX_LENGTH = 20
#: Longest key ``nickname_key`` returns (``Player.nickname_key`` is 24 characters).
KEY_MAX_LENGTH = 24
#: Punctuation allowed besides letters, digits and single spaces.
ALLOWED_PUNCTUATION = "-_.'"
#: Consecutive combining marks allowed on one letter (more is "Zalgo" text).
MAX_COMBINING_MARKS = 2
#: Blocked/reserved entries this short (skeleton letters) only match whole words.
SHORT_WORD_LENGTH = 3
#: Raw input longer than this is refused before any Unicode work is done.
RAW_LENGTH_LIMIT = 200

DATA_DIR = Path(__file__).resolve().parent / "data"
BLOCKED_WORDS_FILE = DATA_DIR / "blocked_words.txt"
RESERVED_NAMES_FILE = DATA_DIR / "reserved_names.txt"

ALLOWED_DESCRIPTION = gettext_lazy("letters, digits, spaces and the characters - _ . '")
SCRIPT_NAMES = {
    "LATIN": gettext_lazy("Latin"),
    "CYRILLIC": gettext_lazy("Cyrillic"),
    "GREEK": gettext_lazy("Greek"),
}


class NicknameRejected(ValueError):
    """A nickname was refused; ``str(error)`` is the message to show the player."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------
# Character classes

# Typographic apostrophes and dashes that phones and word processors insert
# are mapped to the ASCII ones before anything else ("O’Neil" -> "O'Neil").
_TYPOGRAPHIC = str.maketrans(
    {
        "\u2018": "'",  # left single quotation mark
        "\u2019": "'",  # right single quotation mark
        "\u02bc": "'",  # modifier letter apostrophe
        "\u00b4": "'",  # acute accent, the German keyboard's "apostrophe"
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\u2212": "-",  # minus sign
    }
)

# Default-ignorable characters that are not in category Cc/Cf but render as
# nothing: Hangul fillers (category Lo), variation selectors and the combining
# grapheme joiner (category Mn), Khmer inherent vowels, Mongolian selectors.
_INVISIBLE = frozenset(
    [0x034F, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180B, 0x180C, 0x180D, 0x180F, 0x3164, 0xFFA0]
    + list(range(0xFE00, 0xFE10))
    + list(range(0xE0100, 0xE01F0))
)

_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
_UNDISPLAYABLE_CATEGORIES = frozenset({"Co", "Cn", "Cs"})
_MARK_CATEGORIES = frozenset({"Mn", "Mc"})  # Me (enclosing marks) is never allowed
_SEPARATOR_CHARS = " " + ALLOWED_PUNCTUATION
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")

# Cyrillic and Greek letters (casefolded) that look like Latin letters, mostly
# in their capital form ("КОТ" / "KOT").  Used by the uniqueness key and the
# filter skeleton, so visually identical names compare equal.
_LOOKALIKES = str.maketrans(
    {
        # Cyrillic
        "а": "a",
        "в": "b",
        "е": "e",
        "к": "k",
        "м": "m",
        "н": "h",
        "о": "o",
        "р": "p",
        "с": "c",
        "т": "t",
        "у": "y",
        "х": "x",
        "ѕ": "s",
        "і": "i",
        "ј": "j",
        "ԁ": "d",
        "ԛ": "q",
        "ԝ": "w",
        "һ": "h",
        "ӏ": "l",
        "ү": "y",
        # Greek
        "α": "a",
        "β": "b",
        "ε": "e",
        "ζ": "z",
        "η": "h",
        "ι": "i",
        "κ": "k",
        "μ": "m",
        "ν": "n",
        "ο": "o",
        "ρ": "p",
        "τ": "t",
        "υ": "y",
        "χ": "x",
        "ϲ": "c",
        "ϳ": "j",
        # Latin look-alikes of Latin letters
        "ı": "i",
        "ɑ": "a",
        "ɡ": "g",
    }
)

# Only for the filter skeleton: l/I confusion (sans-serif "ADMlN").
_SKELETON_EXTRA = str.maketrans({"l": "i"})

# Leetspeak, read as Latin ("5h1t") or as Cyrillic ("пи3да": 3 is з).
_LEET_LATIN = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "i",
        "¢": "c",
        "€": "e",
    }
)
_LEET_CYRILLIC = str.maketrans({"0": "о", "3": "з", "4": "ч", "6": "б", "@": "а", "$": "s"})


# --------------------------------------------------------------------------
# Normalisation


def _describe(chars: Iterable[str]) -> str:
    shown = []
    for ch in chars:
        if ch not in shown:
            shown.append(ch)
    names = ", ".join(f"“{ch}”" for ch in shown[:6])
    return names + (" …" if len(shown) > 6 else "")


def normalise_nickname(raw: str) -> str:
    """Return the canonical form of ``raw`` or raise ``NicknameRejected``.

    NFKC (full-width and styled letters become plain ones, ligatures are
    split), typographic apostrophes/dashes become ASCII, spaces are trimmed
    and collapsed.  Refused: control and invisible characters (zero-width
    joiners, bidi overrides, tabs, newlines), private-use and unassigned code
    points, more than two stacked combining marks, anything but letters,
    digits, space and ``- _ . '`` (so emoji, ``< > ( ) ; " =`` ... are
    refused), fewer than ``MIN_LENGTH`` or more than ``MAX_LENGTH``
    characters, no letter or digit at all, and words mixing Latin with
    Cyrillic or Greek letters.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise NicknameRejected(_("Please enter a nickname."), code="empty")
    if len(raw) > RAW_LENGTH_LIMIT:
        raise NicknameRejected(
            _("Nicknames can have at most %(max)d characters; please choose a shorter one.")
            % {"max": MAX_LENGTH},
            code="too_long",
        )

    text = unicodedata.normalize("NFKC", raw.translate(_TYPOGRAPHIC))
    # Every space separator (no-break, ideographic, ...) is a plain space.
    text = "".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text)
    text = re.sub(" {2,}", " ", text).strip(" ")
    if not text:
        raise NicknameRejected(_("Please enter a nickname."), code="empty")

    categories = [unicodedata.category(ch) for ch in text]

    if any(
        cat in _CONTROL_CATEGORIES or ord(ch) in _INVISIBLE
        for ch, cat in zip(text, categories, strict=True)
    ):
        raise NicknameRejected(
            _(
                "Your nickname contains invisible or control characters (such as zero-width "
                "spaces, text-direction marks, tabs or line breaks). Please type it again "
                "without them."
            ),
            code="control",
        )
    if any(cat in _UNDISPLAYABLE_CATEGORIES for cat in categories):
        raise NicknameRejected(
            _(
                "Your nickname contains characters that cannot be displayed reliably "
                "(private-use or unassigned code points). Please use ordinary letters and digits."
            ),
            code="undisplayable",
        )

    run = 0
    for index, cat in enumerate(categories):
        if cat in _MARK_CATEGORIES:
            previous = categories[index - 1] if index else ""
            if not (previous.startswith("L") or previous in _MARK_CATEGORIES):
                raise NicknameRejected(
                    _(
                        "Your nickname contains an accent or mark that is not attached to a "
                        "letter. Please remove it."
                    ),
                    code="combining",
                )
            run += 1
            if run > MAX_COMBINING_MARKS:
                raise NicknameRejected(
                    _(
                        "Your nickname stacks too many accents or marks on one letter. Please "
                        "use at most %(max)d per letter."
                    )
                    % {"max": MAX_COMBINING_MARKS},
                    code="combining",
                )
        else:
            run = 0

    refused = [
        ch
        for ch, cat in zip(text, categories, strict=True)
        if not (cat.startswith("L") or cat == "Nd" or cat in _MARK_CATEGORIES)
        and ch not in _SEPARATOR_CHARS
    ]
    if refused:
        raise NicknameRejected(
            _("Nicknames may contain only %(allowed)s. Please remove %(refused)s.")
            % {"allowed": ALLOWED_DESCRIPTION, "refused": _describe(refused)},
            code="characters",
        )

    if len(text) < MIN_LENGTH:
        raise NicknameRejected(
            _("Nicknames need at least %(min)d characters; please choose a longer one.")
            % {"min": MIN_LENGTH},
            code="too_short",
        )
    if len(text) > MAX_LENGTH:
        raise NicknameRejected(
            _(
                "Nicknames can have at most %(max)d characters (yours has %(length)d); "
                "please shorten it."
            )
            % {"max": MAX_LENGTH, "length": len(text)},
            code="too_long",
        )
    if not any(cat.startswith("L") or cat == "Nd" for cat in categories):
        raise NicknameRejected(
            _("Your nickname needs at least one letter or digit."), code="no_letters"
        )

    for word in text.split(" "):
        scripts = {_script(ch) for ch in word if ch.isalpha()} & set(_CONFUSABLE_SCRIPTS)
        if len(scripts) > 1:
            names = _(" and ").join(
                str(SCRIPT_NAMES[s]) for s in _CONFUSABLE_SCRIPTS if s in scripts
            )
            raise NicknameRejected(
                _(
                    "The word “%(word)s” mixes %(scripts)s letters, which can make it look like "
                    "another name. Please write each word in one alphabet."
                )
                % {"word": word, "scripts": names},
                code="mixed_script",
            )
    return text


def _script(ch: str) -> str:
    """The script of a letter, from its Unicode name ("LATIN SMALL LETTER A" -> LATIN)."""
    return unicodedata.name(ch, "UNKNOWN").split(" ", 1)[0]


# --------------------------------------------------------------------------
# Uniqueness key


def nickname_key(nickname: str) -> str:
    """The key two nicknames share when they would be confused on a board.

    Casefolded NFKC form without spaces and ``- _ . '`` ("Anna K", "anna_k" and
    "ANNA-K" share "annak"; "Strauß" and "STRAUSS" share "strauss"), with
    Cyrillic and Greek letters that look like Latin ones folded to Latin, so a
    pure-Cyrillic "Сосо" collides with "Coco".  Accents are kept ("Jürgen" and
    "Jurgen" differ).  Never raises: invisible and control characters are
    dropped, so stored legacy names get a key too.  At most ``KEY_MAX_LENGTH``
    characters (a longer casefolded form, e.g. many "ß", is shortened with a
    hash suffix so it stays unique).
    """
    text = unicodedata.normalize("NFKC", str(nickname).translate(_TYPOGRAPHIC)).casefold()
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        ch
        for ch in text
        if unicodedata.category(ch) not in _CONTROL_CATEGORIES
        and ord(ch) not in _INVISIBLE
        and not ch.isspace()
        and ch not in ALLOWED_PUNCTUATION
    )
    key = text.translate(_LOOKALIKES)
    if len(key) > KEY_MAX_LENGTH:
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        key = f"{key[: KEY_MAX_LENGTH - 9]}~{digest}"
    return key


# --------------------------------------------------------------------------
# Filter skeletons


def skeleton(text: str, *, leet: dict[int, str] = _LEET_LATIN) -> str:
    """The form the word filters compare: casefolded, accents stripped, leetspeak
    and look-alikes folded to Latin, ``l`` read as ``i``, only letters and digits
    kept.  ``skeleton("F.u.ç.K") == skeleton("fuck") == "fuck"``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("M"))
    text = text.translate(leet).translate(_LOOKALIKES).translate(_SKELETON_EXTRA)
    return "".join(ch for ch in text if ch.isalnum())


def _squeeze(text: str) -> set[str]:
    """Repeated letters: as written, runs of 3+ cut to 2 and to 1, and every run to 1."""
    return {
        text,
        re.sub(r"(.)\1{2,}", r"\1\1", text),
        re.sub(r"(.)\1{2,}", r"\1", text),
        re.sub(r"(.)\1+", r"\1", text),
    }


def _squeeze_gently(text: str) -> set[str]:
    """For whole-word matches: only runs of 3+ are cut ("Mood" must not become "mod")."""
    return {text, re.sub(r"(.)\1{2,}", r"\1\1", text), re.sub(r"(.)\1{2,}", r"\1", text)}


def _skeletons(text: str, squeeze=_squeeze) -> set[str]:
    found: set[str] = set()
    for leet in (_LEET_LATIN, _LEET_CYRILLIC):
        form = skeleton(text, leet=leet)
        if form:
            found |= squeeze(form)
    return found


class _WordList:
    """A parsed list file: long entries (matched inside a word), short entries
    (whole words only), phrases (entries with a space, matched in the whole name
    without spaces) and allowed words (masked out before matching)."""

    def __init__(self, path: Path) -> None:
        self.long: set[str] = set()
        self.short: set[str] = set()
        self.phrases: set[str] = set()
        allowed: set[str] = set()
        for line in path.read_text(encoding="utf-8").splitlines():
            entry = line.split("#", 1)[0].strip()
            if not entry:
                continue
            if entry.startswith("!"):
                form = skeleton(entry[1:])
                if form:
                    allowed |= _squeeze(form)
                continue
            form = skeleton(entry)
            if " " in entry:
                self.phrases.add(form)
            elif len(form) <= SHORT_WORD_LENGTH:
                self.short.add(form)
            elif form:
                self.long.add(form)
        # Longest first, so "shuttlecock" is masked before "cock" could be.
        self.allowed = tuple(sorted(allowed, key=len, reverse=True))

    def mask(self, form: str) -> str:
        for word in self.allowed:
            form = form.replace(word, "~")
        return form


@functools.lru_cache(maxsize=1)
def _blocked_words() -> _WordList:
    return _WordList(BLOCKED_WORDS_FILE)


@functools.lru_cache(maxsize=1)
def _reserved_names() -> _WordList:
    return _WordList(RESERVED_NAMES_FILE)


def warm() -> None:
    """Read the word lists now (kascade_game/warm.py)."""
    _blocked_words()
    _reserved_names()


_TOKEN_SPLIT = re.compile(r"[ \-_.']+")


def _split_camel(word: str) -> list[str]:
    """ "BigFag" -> ["Big", "Fag"], "KITadmin" -> ["KIT", "admin"], "ab12" -> ["ab12"]."""
    parts: list[str] = []
    start = 0
    for i in range(1, len(word)):
        prev, ch = word[i - 1], word[i]
        nxt = word[i + 1] if i + 1 < len(word) else ""
        if (prev.islower() and ch.isupper()) or (prev.isupper() and ch.isupper() and nxt.islower()):
            parts.append(word[start:i])
            start = i
    parts.append(word[start:])
    return [p for p in parts if p]


def _pieces(name: str) -> tuple[set[str], set[str], set[str], set[str]]:
    """Skeleton forms of a normalised name, at three scales.

    * words: each space-separated word (``- _ . '`` glue: "f.u.c.k" is one word),
      plus runs of spelled-out words of at most 2 letters joined ("f u c k").
    * tokens: words split at ``- _ . '``, camelCase and letter/digit boundaries;
      tokens without a letter ("455", "1999") are never read as leetspeak.
    * whole: the whole name without spaces, squeezed fully and gently.
    """
    words = name.split(" ")
    word_forms: set[str] = set()
    token_forms: set[str] = set()

    texts = list(words)
    run: list[str] = []
    for word in [*words, ""]:
        if word and len(skeleton(word)) <= 2:
            run.append(word)
            continue
        if len(run) > 1:
            texts.append("".join(run))
        run = []

    for text in texts:
        word_forms |= _skeletons(text)
        if any(ch.isalpha() for ch in text):
            token_forms |= _skeletons(text, squeeze=_squeeze_gently)
        for part in _TOKEN_SPLIT.split(text):
            for camel in _split_camel(part):
                candidates = {camel, *re.findall(r"[^\W\d_]+", camel)}
                for token in candidates:
                    if any(ch.isalpha() for ch in token):
                        token_forms |= _skeletons(token, squeeze=_squeeze_gently)
    whole = name.replace(" ", "")
    return word_forms, token_forms, _skeletons(whole), _skeletons(whole, _squeeze_gently)


def _is_offensive(name: str) -> bool:
    blocked = _blocked_words()
    word_forms, token_forms, whole, _gentle = _pieces(name)
    if token_forms & blocked.short:
        return True
    for form in word_forms:
        masked = blocked.mask(form)
        if any(word in masked for word in blocked.long):
            return True
    return any(phrase in blocked.mask(form) for form in whole for phrase in blocked.phrases)


def _is_impersonation(name: str) -> bool:
    reserved = _reserved_names()
    word_forms, token_forms, whole, whole_gentle = _pieces(name)
    if (token_forms | whole_gentle) & reserved.short:
        return True
    for form in word_forms | whole:
        masked = reserved.mask(form)
        if any(masked.startswith(r) or masked.endswith(r) for r in reserved.long):
            return True
    return False


def check_nickname(raw: str) -> str:
    """Normalise ``raw`` and refuse offensive or impersonating names.

    Returns the normalised nickname; raises ``NicknameRejected`` otherwise.
    Offensive words are matched inside words (4+ letters) or as whole words
    (3 letters or fewer); reserved names as the whole name, a word, or the
    start or end of the name.  Both ignore case, accents, separators,
    leetspeak, repeated letters and Cyrillic/Greek look-alikes.
    """
    name = normalise_nickname(raw)
    if _is_offensive(name):
        raise NicknameRejected(
            _(
                "This nickname contains a word that is not allowed here. Please choose a "
                "different nickname."
            ),
            code="offensive",
        )
    if _is_impersonation(name):
        raise NicknameRejected(
            _(
                "This nickname looks like an official name (such as admin, moderator, teacher, "
                "KASCADE or one of the machine's forests). Please choose a name that does not "
                "suggest you are part of the team or the machine."
            ),
            code="reserved",
        )
    return name
