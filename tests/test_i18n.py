"""Languages: English, German and Russian catalogues, complete and compiled; the language
follows the browser, can be switched on every page and is remembered."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from kascade_game.models import Round
from kascade_game.views import LANGUAGE_SESSION_KEY
from leaderboard.nicknames import NicknameRejected, check_nickname

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "locale"
TRANSLATED = ("de", "ru")
# The brief's command; the same options in CI and here.
MAKEMESSAGES_IGNORE = ["--ignore=.venv", "--ignore=vendor", "--ignore=staticfiles", "--ignore=var"]
NPLURALS = {"de": 2, "ru": 3}


# --- a small reader for .po files (GNU gettext's format) ---------------------------------


def _unquote(token: str) -> str:
    return ast.literal_eval(token)


def read_po(path: Path) -> list[dict]:
    """Entries with msgctxt, msgid, msgid_plural, msgstr (index → text) and flags."""
    entries, entry, field = [], None, None
    for raw in path.read_text(encoding="utf-8").splitlines() + [""]:
        line = raw.strip()
        if not line:
            if entry is not None:
                entries.append(entry)
            entry, field = None, None
            continue
        if entry is None:
            entry = {"flags": set(), "msgctxt": None, "msgid_plural": None, "msgstr": {}}
        if line.startswith("#,"):
            entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif match := re.match(
            r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line
        ):
            name, index, text = match.groups()
            if name == "msgstr":
                field = ("msgstr", int(index or 0))
                entry["msgstr"][field[1]] = _unquote(text)
            else:
                field = (name, None)
                entry[name] = _unquote(text)
        elif line.startswith('"'):
            if field[0] == "msgstr":
                entry["msgstr"][field[1]] += _unquote(line)
            else:
                entry[field[0]] += _unquote(line)
    return entries


def catalogue(language: str) -> list[dict]:
    return read_po(LOCALE / language / "LC_MESSAGES" / "django.po")


def messages_of(entries: list[dict]) -> list[dict]:
    return [entry for entry in entries if entry.get("msgid")]


def name(entry: dict) -> str:
    context = f"[{entry['msgctxt']}] " if entry["msgctxt"] else ""
    return context + entry["msgid"][:80]


# --- the catalogues ---------------------------------------------------------------------


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    entries = catalogue(language)
    assert "fuzzy" not in entries[0]["flags"], "the catalogue header is marked fuzzy"
    messages = messages_of(entries)
    assert len(messages) > 300
    fuzzy = [name(entry) for entry in messages if "fuzzy" in entry["flags"]]
    untranslated = [
        name(entry)
        for entry in messages
        if not entry["msgstr"] or any(not text.strip() for text in entry["msgstr"].values())
    ]
    assert not fuzzy, f"fuzzy in {language}: {fuzzy}"
    assert not untranslated, f"untranslated in {language}: {untranslated}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_plural_messages_have_every_form_of_the_language(language):
    entries = catalogue(language)
    header = entries[0]["msgstr"][0]
    assert f"nplurals={NPLURALS[language]};" in header
    wrong = [
        name(entry)
        for entry in messages_of(entries)
        if entry["msgid_plural"] is not None
        and sorted(entry["msgstr"]) != list(range(NPLURALS[language]))
    ]
    assert not wrong, f"plural entries without {NPLURALS[language]} forms: {wrong}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_placeholders_survive_translation(language):
    placeholder = re.compile(r"%\(\w+\)[sd]")
    wrong = []
    for entry in messages_of(catalogue(language)):
        wanted = set(placeholder.findall(entry["msgid"]))
        if entry["msgid_plural"] is None:
            if set(placeholder.findall(entry["msgstr"][0])) != wanted:
                wrong.append(name(entry))
            continue
        # A singular form may leave out the count (Russian "one" also covers 21, 31 …).
        wanted |= set(placeholder.findall(entry["msgid_plural"]))
        if any(set(placeholder.findall(text)) - wanted for text in entry["msgstr"].values()):
            wrong.append(name(entry))
    assert not wrong, f"placeholders differ in {language}: {wrong}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_committed_mo_file_is_compiled_from_the_committed_po_file(language, tmp_path):
    directory = LOCALE / language / "LC_MESSAGES"
    assert (directory / "django.mo").exists(), "compile with: manage.py compilemessages"
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext (msgfmt) is not installed")
    fresh = tmp_path / "django.mo"
    # The same call as Django's compilemessages.
    subprocess.run(
        [msgfmt, "--check-format", "-o", str(fresh), str(directory / "django.po")], check=True
    )
    assert fresh.read_bytes() == (directory / "django.mo").read_bytes(), (
        f"locale/{language}/LC_MESSAGES/django.mo is stale: run manage.py compilemessages"
    )


def _project_copy(destination: Path) -> Path:
    skip = {".venv", "vendor", "staticfiles", "var", ".git", "node_modules", ".artifacts"}
    skip |= {"models", "fixtures", "__pycache__", ".pytest_cache", ".ruff_cache"}

    def ignore(directory, names):
        return [
            entry
            for entry in names
            if entry in skip or entry.endswith((".mo", ".pyc", ".parquet", ".joblib", ".csv"))
        ]

    return Path(shutil.copytree(ROOT, destination / "project", ignore=ignore, symlinks=True))


def test_makemessages_finds_no_string_missing_from_the_catalogues(tmp_path):
    """A new template or Python string without a translation fails here."""
    if shutil.which("xgettext") is None:
        pytest.skip("GNU gettext (xgettext) is not installed")
    project = _project_copy(tmp_path)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "de", "-l", "ru", *MAKEMESSAGES_IGNORE],
        cwd=project,
        check=True,
        capture_output=True,
        env={"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "kascade_game.settings"},
    )
    for language in TRANSLATED:

        def keys(entries):
            return {(entry["msgctxt"], entry["msgid"]) for entry in messages_of(entries)}

        committed = keys(catalogue(language))
        fresh = read_po(project / "locale" / language / "LC_MESSAGES" / "django.po")
        new = sorted(f"{ctx or ''} {msgid}"[:80] for ctx, msgid in keys(fresh) - committed)
        assert not new, f"strings missing from locale/{language}: {new}"
        untranslated = [name(entry) for entry in messages_of(fresh) if "fuzzy" in entry["flags"]]
        assert not untranslated, f"strings whose msgid changed in {language}: {untranslated}"


# --- the pages ----------------------------------------------------------------------------


def _lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


PAGES = ["/", "/play/", "/play/guide/", "/explore/", "/leaderboard/", "/rooms/", "/rooms/join/"]
PAGES += ["/booth/", "/booth/attract/", "/booth/screen/", "/accounts/login/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    ("language", "word"),
    [("en", "Language"), ("de", "Sprache"), ("ru", "Язык")],
)
def test_the_browser_language_chooses_the_page_language(client, path, language, word):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
    assert response.status_code == 200
    assert _lang(response) == language
    html = response.content.decode()
    if "data-language-switcher" in html:
        assert word in html


@pytest.mark.django_db
def test_german_and_russian_visitors_read_the_intro_in_their_language(client):
    german = client.get("/", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9").content.decode()
    russian = client.get("/", HTTP_ACCEPT_LANGUAGE="ru-RU,ru;q=0.9").content.decode()
    assert "Welcher Kern traf die Atmosphäre?" in german
    assert "Luftschauer" in german and "Myonen" in german
    assert "Какое ядро влетело в атмосферу?" in russian
    assert "широкий атмосферный ливень" in russian and "мюонов" in russian
    for html in (german, russian):
        assert "Which nucleus hit the atmosphere?" not in html


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/play/", "/explore/", "/rooms/", "/booth/"])
def test_every_page_has_the_language_switcher(client, path):
    html = client.get(path).content.decode()
    form = re.search(r"<form[^>]*data-language-switcher.*?</form>", html, re.S).group(0)
    assert 'action="/i18n/setlang/"' in form and 'method="post"' in form
    for code in ("en", "de", "ru"):
        assert f'name="language" value="{code}"' in form
    assert "<script" not in form


@pytest.mark.django_db
def test_the_switcher_changes_the_language_and_it_is_remembered(client):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/play/"})
    assert response.status_code == 302 and response["Location"] == "/play/"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert client.session[LANGUAGE_SESSION_KEY] == "ru"
    # The next requests, even with a German browser, stay Russian.
    again = client.get("/play/", HTTP_ACCEPT_LANGUAGE="de")
    assert _lang(again) == "ru" and "Угадай космический луч" in again.content.decode()
    assert _lang(client.get("/rooms/")) == "ru"
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert _lang(client.get("/", HTTP_ACCEPT_LANGUAGE="de")) == "en"


@pytest.mark.django_db
def test_an_unknown_language_is_not_taken(client):
    response = client.post("/i18n/setlang/", {"language": "xx", "next": "/"})
    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies
    assert LANGUAGE_SESSION_KEY not in client.session
    assert _lang(client.get("/")) == "en"


# --- the game in German and Russian -------------------------------------------------------


def _start_round(client) -> Round:
    response = client.post("/play/new/", {"difficulty": "easy"})
    assert response.status_code == 302, response.content
    return Round.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1])


def test_a_german_card_writes_numbers_with_a_decimal_comma(client, game_data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    game_round = _start_round(client)
    html = client.get(f"/play/r/{game_round.public_id}/card/0/").content.decode()
    assert _lang_html(html) == "de"
    assert re.search(r"lg Ne = \d,\d\d", html), "electron number without a decimal comma"
    assert re.search(r"lg Nμ = \d,\d\d", html)
    assert not re.search(r"lg Ne = \d\.\d\d", html)
    assert "Zenitwinkel" in html and "Elektronen am Boden" in html and "Myonen am Boden" in html
    english = client.get(
        f"/play/r/{game_round.public_id}/card/0/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    # The cookie wins over the browser, so the page stays German.
    assert "Zenitwinkel" in english


def _lang_html(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_a_german_visitor_plays_a_round_and_reads_the_reveal_in_german(client, game_data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    game_round = _start_round(client)
    for position in range(game_round.size):
        response = client.post(
            f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": "Fe"}
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Richtig!" in html or "Nicht ganz." in html
        assert "Dieser Schauer (Primärteilchen:" in html
        assert "This " not in re.search(r'<p class="sentence">(.*?)</p>', html, re.S).group(1)
        # The contract's hooks and the symbols stay as they are.
        assert 'data-truth="' in html and 'data-model="' in html and "data-prediction" in html
        assert "Wald" in html
    summary = client.get(f"/play/r/{game_round.public_id}/summary/").content.decode()
    assert "Runde beendet" in summary and _lang_html(summary) == "de"


def test_a_russian_visitor_gets_russian_plural_forms(client, game_data):
    from django.utils.translation import ngettext

    with translation.override("ru"):
        forms = [
            ngettext("%(size)s card", "%(size)s cards", n) % {"size": n} for n in (1, 3, 5, 21)
        ]
    assert forms == ["1 карточка", "3 карточки", "5 карточек", "21 карточка"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    game_round = _start_round(client)
    html = client.post(
        f"/play/r/{game_round.public_id}/card/0/guess/", {"choice": "p"}
    ).content.decode()
    assert "Верно!" in html or "Не совсем." in html
    assert re.search(r"\+\d+ очк(о|а|ов)", html)


@pytest.mark.parametrize(
    ("raw", "language", "expected"),
    [
        ("", "de", "Bitte gib einen Spitznamen ein."),
        ("a", "de", "Spitznamen brauchen mindestens 2 Zeichen"),
        ("<script>", "de", "Spitznamen dürfen nur Buchstaben, Ziffern"),
        ("admin", "de", "sieht wie ein offizieller Name aus"),
        ("", "ru", "Пожалуйста, введи ник."),
        ("<script>", "ru", "В нике можно использовать только буквы, цифры"),
        ("Сергей Ivanо", "ru", "смешаны латинские и кириллические буквы"),
        ("a", "en", "Nicknames need at least 2 characters"),
    ],
)
def test_nickname_refusals_come_in_the_visitors_language(raw, language, expected):
    with translation.override(language), pytest.raises(NicknameRejected) as refusal:
        check_nickname(raw)
    assert expected in str(refusal.value)


@pytest.mark.django_db
def test_a_german_guest_is_told_in_german_why_a_nickname_is_refused(client, game_data):
    response = client.post(
        "/play/new/",
        {"difficulty": "easy", "nickname": "<b>x</b>"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Spitznamen dürfen nur" in html and _lang_html(html) == "de"


def test_a_german_student_joins_a_room_and_waits_in_german(game_data):
    from django.test import Client

    from tests.test_rooms import (
        create_room,
        guess,
        join,
        make_teacher,
        student_round,
        teacher_client,
    )

    teacher = teacher_client(make_teacher())
    room = create_room(teacher)
    student = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9")
    form = student.get("/rooms/join/").content.decode()
    assert "Tritt deiner Klasse bei" in form and "Raumcode" in form and "Dein Spitzname" in form
    wrong = student.post("/rooms/join/", {"code": "K7M2", "nickname": "Dora"}).content.decode()
    assert "Ein Raumcode hat 8 Buchstaben und Ziffern" in wrong
    lobby = student.get(join(student, room, "Dora")["Location"]).content.decode()
    assert _lang_html(lobby) == "de"
    assert "Du spielst als" in lobby and "Warten, bis die Lehrkraft startet" in lobby
    waiting = guess(student, student_round(room, "Dora"), 0)
    assert waiting.status_code == 409
    assert "Die Lehrkraft hat diesen Raum noch nicht gestartet" in waiting.content.decode()


def test_a_russian_visitor_explores_in_russian(client, game_data):
    html = client.get(
        f"/explore/?dataset={game_data.id}", HTTP_ACCEPT_LANGUAGE="ru"
    ).content.decode()
    assert _lang_html(html) == "ru"
    assert "Исследуй ливни" in html and "Гистограмма одного столбца" in html
    assert "энергия первичной частицы" in html  # the column meanings
    assert "The columns" not in html and "Every shower" not in html


def test_the_cached_card_picture_is_described_in_each_visitors_language(game_data):
    from classify.models import Shower
    from kascade_game.footprint import shower_footprint_svg

    shower = Shower.objects.filter(dataset=game_data).first()
    pictures = {}
    for language in ("en", "de", "ru", "en"):
        with translation.override(language):
            pictures[language] = shower_footprint_svg(shower, id_prefix="fp0")
    assert "The shower core landed" in pictures["en"]
    assert "Der Schauerkern traf" in pictures["de"]
    assert "Ось ливня попала" in pictures["ru"]
