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
from tests.factories import round_started_by

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
    return round_started_by(response)


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


def test_the_guess_buttons_speak_each_visitors_language(client, game_data):
    """The buttons are formatted once per process and language: each language gets its own."""
    game_round = _start_round(client)
    url = f"/play/r/{game_round.public_id}/card/0/"
    for language, iron in (("de", "Eisen"), ("en", "iron"), ("ru", "железо"), ("de", "Eisen")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        buttons = re.findall(r"<button [^>]*data-guess=[^>]*>.*?</button>", html, re.S)
        assert len(buttons) == 5, language
        assert buttons[4] == (
            '<button type="submit" name="choice" value="Fe" data-guess="Fe" data-key="5"'
            ' class="guess-button group-Fe" aria-keyshortcuts="5"><span class="guess-symbol">Fe'
            f'</span><span class="guess-name">{iron}</span><kbd>5</kbd></button>'
        ), language


def test_the_forests_in_the_reveal_speak_each_visitors_language(client, game_data):
    """The forests' items are formatted once per process and language."""
    from classify.hadronic_models import HADRONIC_MODELS

    game_round = _start_round(client)
    words = {"en": ("forest", "says", "right", "wrong"), "de": ("-Wald", "sagt", None, None)}
    for position, language in enumerate(("de", "en", "de")):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        html = client.post(
            f"/play/r/{game_round.public_id}/card/{position}/guess/",
            {"choice": "Fe"},
            HTTP_HX_REQUEST="true",
        ).content.decode()
        truth = re.search(r'data-truth="(\w+)"', html)[1]
        items = re.findall(
            r'<li class="forest (right|wrong)" data-model="([\w.-]+)" data-prediction="(\w+)">'
            r"<h3>([^<]+)</h3><p>(\w+) <strong>[^<]+ \((\w+)\)</strong> [✔✘]"
            r'<span class="visually-hidden"> (\w+)</span></p>.*?</li>',
            html,
            re.S,
        )
        assert [item[1] for item in items] == list(HADRONIC_MODELS), language
        forest, says, right, wrong = words[language]
        for state, key, prediction, title, verb, symbol, verdict in items:
            assert state == ("right" if prediction == truth else "wrong")
            assert symbol == prediction
            assert title.startswith(HADRONIC_MODELS[key].label) and title.endswith(forest)
            assert verb == says
            if language == "en":
                assert verdict == (right if state == "right" else wrong)
        assert html.count('<tr><th scope="row">') == 15


def _lang_html(html: str) -> str:
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_a_german_visitor_plays_a_round_and_reads_the_reveal_in_german(client, game_data):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    game_round = _start_round(client)
    for position in range(game_round.size):
        response = client.post(
            f"/play/r/{game_round.public_id}/card/{position}/guess/", {"choice": "Fe"}, follow=True
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
        f"/play/r/{game_round.public_id}/card/0/guess/", {"choice": "p"}, follow=True
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


# --- staff pages, the admin, exports and e-mails in German and Russian ------------------

SMALL_CSV = (
    "lgE,X,Y,Ze,Az,lgNe,lgNmu,Age\n"
    "15.1,10.5,-20.25,12.0,100.0,4.5,3.9,0.9\n"
    "15.9,-80.0,40.0,30.5,250.0,5.6,4.7,1.1\n"
    "14.6,5.0,5.0,5.0,10.0,4.1,3.2,0.8\n"
)


def _client_in(language: str, user=None):
    from django.test import Client

    client = Client(HTTP_ACCEPT_LANGUAGE=f"{language},en;q=0.5")
    if user is not None:
        client.force_login(user)
    return client


def _staff(django_user_model, name: str = "kuratorin", *, superuser: bool = False):
    if superuser:
        return django_user_model.objects.create_superuser(name, f"{name}@example.org", "pw-9x!")
    return django_user_model.objects.create_user(name, password="pw-9x!", is_staff=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "refusal", "refused", "label"),
    [
        (
            "de",
            "Zeile 3, Spalte Ze: 95.0 liegt außerhalb des erlaubten Bereichs 0 … 90 °",
            "Abgelehnt:",
            "Spalte mit der Massengruppe",
        ),
        (
            "ru",
            "строка 3, столбец Ze: 95.0 вне допустимого диапазона 0 … 90 °",
            "Отклонено:",
            "Столбец с массовой группой",
        ),
    ],
)
def test_a_staff_member_reads_which_line_of_an_upload_is_wrong_in_their_language(
    django_user_model, language, refusal, refused, label
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from classify.models import Dataset, Shower

    client = _client_in(language, _staff(django_user_model))
    form = client.get("/explore/upload/").content.decode()
    assert _lang_html(form) == language and label in form
    bad = SMALL_CSV.replace("30.5", "95.0")
    response = client.post(
        "/explore/upload/",
        {"name": "kaputt", "file": SimpleUploadedFile("kaputt.csv", bad.encode())},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert refusal in html and refused in html
    assert "outside the allowed range" not in html
    assert not Dataset.objects.exists() and not Shower.objects.exists()


@pytest.mark.parametrize(
    ("language", "content", "label_column", "expected"),
    [
        (
            "de",
            "{h}\n{g}\n14.1,0,0,10,10,3.5,many,1\n",
            None,
            "Zeile 3, Spalte lgNmu: 'many' ist keine Zahl",
        ),
        ("ru", "{h}\n14.1,0,0,10,10,,3,1\n", None, "строка 2, столбец lgNe: значение отсутствует"),
        (
            "de",
            "{h}\n14.1,0,0,10,10,3\n",
            None,
            "Zeile 2: 6 Werte, aber die Kopfzeile hat 8 Spalten",
        ),
        ("de", "{h}\n14.1\n", None, "Zeile 2: 1 Wert, aber die Kopfzeile hat 8 Spalten"),
        ("ru", "{h}\n14.1,0,0,10,10,3\n", None, "строка 2: 6 значений, а столбцов в заголовке: 8"),
        ("ru", "{h}\n14.1,0\n", None, "строка 2: 2 значения, а столбцов в заголовке: 8"),
        ("en", "{h}\n14.1\n", None, "line 2: 1 value, but the header has 8 columns"),
        (
            "ru",
            "lgE,X,Y,Ze,Az,lgNe,Age\n14,0,0,10,10,3,1\n",
            None,
            "строка 1: не хватает столбцов: lgNmu",
        ),
        (
            "de",
            "{h},label\n{g},neutrino\n",
            "label",
            "Zeile 2, Spalte label: 'neutrino' ist keine Massengruppe",
        ),
        ("ru", "", None, "файл пуст"),
        ("de", "{h},Energie\n{g},3\n", None, "Zeile 1: unbekannte Spalte(n) 'Energie'"),
    ],
)
def test_import_refusals_name_line_and_column_in_the_active_language(
    language, content, label_column, expected
):
    from classify.importing import ImportRefused, parse_kcdc_csv

    header, good = "lgE,X,Y,Ze,Az,lgNe,lgNmu,Age", "14.1,-12.5,30.2,21.0,120.5,3.6,3.2,1.1"
    raw = content.format(h=header, g=good).encode()
    with translation.override(language), pytest.raises(ImportRefused) as refusal:
        parse_kcdc_csv(raw, label_column=label_column)
    assert expected in str(refusal.value)


@pytest.mark.django_db
def test_the_import_command_speaks_english_whatever_language_is_active(tmp_path):
    from django.core.management import CommandError, call_command

    path = tmp_path / "gap.csv"
    path.write_text("lgE,X,Y,Ze,Az,lgNe,lgNmu,Age\n14.1,0,0,10,10,,3,1\n")
    with translation.override("de"), pytest.raises(CommandError) as refusal:
        call_command("import_showers", str(path), "--name", "gap", "--no-precompute")
    assert "line 2, column lgNe: the value is missing" in str(refusal.value)
    # The command gives the language back as it found it.
    with translation.override("de"):
        with pytest.raises(CommandError):
            call_command("import_showers", str(path), "--name", "gap", "--no-precompute")
        assert translation.get_language() == "de"


@pytest.mark.django_db
def test_a_staff_upload_in_german_is_announced_and_described_in_german(django_user_model):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _client_in("de", _staff(django_user_model))
    response = client.post(
        "/explore/upload/",
        {"name": "kcdc-klein", "file": SimpleUploadedFile("klein.csv", SMALL_CSV.encode())},
        follow=True,
    )
    html = response.content.decode()
    assert response.status_code == 200 and _lang_html(html) == "de"
    assert "kcdc-klein: 3 Schauer importiert; die Wälder beantworten gerade jeden Schauer." in html
    assert "Hochgeladen von kuratorin aus klein.csv." in html
    assert "importiert (KCDC)" in html
    assert "Uploaded by" not in html and "showers imported" not in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "path", "expected"),
    [
        ("de", "/explore/?dataset={id}&sort=bogus", "lässt sich nicht sortieren"),
        ("de", "/explore/?dataset={id}&page=abc", "page muss eine ganze Zahl sein"),
        ("ru", "/explore/?dataset={id}&dir=up", "параметр dir должен быть asc или desc"),
        ("ru", "/explore/?dataset=x", "параметр dataset должен быть номером набора данных"),
    ],
)
def test_a_wrong_explore_parameter_is_explained_in_the_visitors_language(
    client, language, path, expected
):
    from classify.importing import import_showers

    dataset = import_showers(raw=SMALL_CSV.encode(), name="kcdc-small")
    response = client.get(path.format(id=dataset.id), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 400
    assert expected in response.content.decode()


@pytest.mark.django_db
def test_a_wrong_histogram_column_is_explained_in_russian_json(client):
    from classify.importing import import_showers

    dataset = import_showers(raw=SMALL_CSV.encode(), name="kcdc-small")
    response = client.get(
        f"/explore/{dataset.id}/histogram.json?column=Energy", HTTP_ACCEPT_LANGUAGE="ru"
    )
    assert response.status_code == 400
    assert response.json()["error"].startswith("неизвестный столбец 'Energy'; выбери один из: lgE")


def test_every_fixture_description_is_a_message_and_is_shown_translated(game_data, client):
    import json

    from classify.descriptions import FIXTURE_DESCRIPTIONS, describe
    from classify.models import Dataset

    fixtures = json.loads((ROOT / "fixtures" / "datasets.json").read_text())["datasets"]
    assert [entry["description"] for entry in fixtures] == list(FIXTURE_DESCRIPTIONS)
    deck = FIXTURE_DESCRIPTIONS[-1]
    with translation.override("de"):
        assert describe(deck).startswith("Die Karten des Spiels: die drei hadronischen Modelle")
        assert describe(FIXTURE_DESCRIPTIONS[0]).endswith("Trainingsdaten des QGSJet-Walds.")
        assert describe("Words a curator typed.") == "Words a curator typed."
    with translation.override("ru"):
        assert describe("Imported KCDC export (2940 showers).") == (
            "Импортированный экспорт KCDC (ливней: 2\u00a0940)."
        )
        assert describe("Uploaded by Ada from my showers.csv.") == (
            "Загружен пользователем Ada из файла my showers.csv."
        )
    Dataset.objects.filter(id=game_data.id).update(description=deck)
    german = client.get(f"/explore/?dataset={game_data.id}", HTTP_ACCEPT_LANGUAGE="de")
    html = german.content.decode()
    assert "von den Wäldern im Training nie gesehen" in html and "The game's cards" not in html
    assert " · simuliert · " in html
    russian = client.get(f"/explore/?dataset={game_data.id}", HTTP_ACCEPT_LANGUAGE="ru")
    assert "три адронные модели вперемешку" in russian.content.decode()


PROJECT_APPS = ("classify", "kascade_game", "leaderboard", "rooms")


def test_every_model_and_field_of_the_project_has_a_translatable_name():
    from django.apps import apps
    from django.utils.functional import Promise

    plain = []
    for label in PROJECT_APPS:
        config = apps.get_app_config(label)
        if label != "kascade_game":  # the game's own name stays as it is
            assert isinstance(config.verbose_name, Promise), label
        for model in config.get_models():
            options = model._meta
            for attribute in ("verbose_name", "verbose_name_plural"):
                if not isinstance(options.original_attrs.get(attribute), Promise):
                    plain.append(f"{options.label}.Meta.{attribute}")
            for field in options.get_fields():
                if field.auto_created or not field.concrete:
                    continue  # the id and reverse relations
                if not isinstance(field.verbose_name, Promise):
                    plain.append(f"{options.label}.{field.name}")
    assert not plain, f"names the admin would show in English: {plain}"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["Räume", "Raumcode", "Lehrkraft", "Anzahl der Karten", "Angelegt am"]),
        ("ru", ["Комнаты", "Код комнаты", "Учитель", "Число карточек", "Время создания"]),
    ],
)
def test_the_admin_names_models_and_fields_in_the_staff_members_language(
    game_data, django_user_model, language, words
):
    from tests.test_rooms import create_room, make_teacher, teacher_client

    create_room(teacher_client(make_teacher()))
    client = _client_in(language, _staff(django_user_model, "admin-i18n", superuser=True))
    changelist = client.get("/admin/rooms/room/")
    html = changelist.content.decode()
    assert changelist.status_code == 200 and _lang_html(html) == language
    for word in words:
        assert word in html, word
    index = client.get("/admin/").content.decode()
    expected = {"de": "Klassenräume und der Festivalstand", "ru": "Школьные комнаты"}[language]
    assert expected in index
    assert {"de": "Anträge auf Lehrkraft-Zugang", "ru": "Заявки на доступ учителя"}[
        language
    ] in index


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "action", "done"),
    [
        ("de", "Genehmigen: zur Gruppe der Lehrkräfte hinzufügen", "1 Lehrkraft genehmigt."),
        ("ru", "Одобрить: добавить в группу учителей", "Одобрен 1 учитель."),
    ],
)
def test_the_approve_action_speaks_the_staff_members_language(
    django_user_model, language, action, done
):
    from rooms.models import TEACHERS_GROUP, TeacherRequest

    applicant = django_user_model.objects.create_user("marie", password="pw-9x!")
    request = TeacherRequest.objects.create(user=applicant, school="Lycée")
    client = _client_in(language, _staff(django_user_model, "admin-i18n", superuser=True))
    page = client.get("/admin/rooms/teacherrequest/").content.decode()
    assert action in page
    assert {"de": "Anträge auf Lehrkraft-Zugang", "ru": "Заявки на доступ учителя"}[
        language
    ] in page
    response = client.post(
        "/admin/rooms/teacherrequest/",
        {"action": "approve", "_selected_action": [request.pk]},
        follow=True,
    )
    assert done in response.content.decode()
    assert applicant.groups.filter(name=TEACHERS_GROUP).exists()


def test_a_german_teacher_exports_german_column_names_in_the_same_order(game_data):
    import csv
    import io

    from kascade_game.models import Guess
    from tests.test_rooms import create_room, make_teacher, play_room

    teacher = make_teacher()
    english = _client_in("en", teacher)
    room = create_room(english)
    english.post(f"/rooms/{room.pk}/control/", {"action": "start"})
    play_room(room, {"Fay": "Fe", "Gus": "p"})
    Guess.objects.filter(card__round__room=room, card__position=0).update(late=True)

    def export(client, delimiter):
        response = client.get(f"/rooms/{room.pk}/export.csv")
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(text), delimiter=delimiter))

    rows_en, rows_de, rows_ru = (
        # Semicolons where the decimal separator is a comma, as those spreadsheets expect.
        export(english, ","),
        export(_client_in("de", teacher), ";"),
        export(_client_in("ru", teacher), ";"),
    )
    cards = range(1, room.size + 1)
    assert rows_en[0] == ["rank", "nickname", "points", "answered", "correct", "accuracy"] + [
        f"card {n}" for n in cards
    ]
    assert rows_de[0] == [
        "Platz", "Spitzname", "Punkte", "beantwortet", "richtig", "Trefferquote"
    ] + [f"Karte {n}" for n in cards]  # fmt: skip
    assert rows_ru[0][:2] == ["место", "ник"] and rows_ru[0][-1] == f"карточка {room.size}"
    # Same columns, same order, same cells apart from the "late" mark.
    assert len(rows_de[0]) == len(rows_en[0]) == len(rows_ru[0])
    by_nickname = {row[1]: row for row in rows_de[1:]}
    assert by_nickname["Fay"][6] == "Fe (zu spät)" and by_nickname["Gus"][6] == "p (zu spät)"
    assert {row[1]: row[6] for row in rows_en[1:]} == {"Fay": "Fe (late)", "Gus": "p (late)"}
    assert {row[1]: row[6] for row in rows_ru[1:]} == {"Fay": "Fe (поздно)", "Gus": "p (поздно)"}
    assert [row[:5] + row[7:] for row in rows_de[1:]] == [row[:5] + row[7:] for row in rows_en[1:]]
    # The accuracy with the teacher's decimal separator: 0,500 in German, 0.500 in English.
    assert [row[5] for row in rows_de[1:]] == [row[5].replace(".", ",") for row in rows_en[1:]]
    assert all(re.fullmatch(r"[01]\.\d{3}", row[5]) for row in rows_en[1:])


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", ["wartet", "fertig", "mit dem qgsjet-ii-04-Wald", "/s<"]),
        ("ru", ["ожидает", "готово", "/с<"]),
    ],
)
def test_the_staff_predictions_page_in_german_and_russian(
    game_data, django_user_model, language, words
):
    from classify.models import PrecomputeBatch

    PrecomputeBatch.objects.create(
        dataset=game_data, hadronic_model="qgsjet-ii-04", model_version="next", total=300
    )
    html = _client_in(language, _staff(django_user_model)).get("/staff/predictions/")
    text = html.content.decode()
    assert html.status_code == 200 and _lang_html(text) == language
    for word in words:
        assert word in text, word
    assert ">pending<" not in text and ">done<" not in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "subject", "greeting", "sentence"),
    [
        (
            "de",
            "Ein neues Passwort für dein Konto beim KASCADE Cosmic Quiz",
            "Hallo lise,",
            "jemand (hoffentlich du) hat auf testserver ein neues Passwort für dein Konto",
        ),
        (
            "ru",
            "Новый пароль для твоей учётной записи в KASCADE Cosmic Quiz",
            "Привет, lise!",
            "Кто-то (надеемся, это был ты) запросил новый пароль для твоей учётной записи",
        ),
    ],
)
def test_the_password_reset_e_mail_comes_in_the_visitors_language_with_a_working_link(
    settings, mailoutbox, django_user_model, language, subject, greeting, sentence
):
    # pytest-django runs the tests with Django's in-memory e-mail backend.
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    user = django_user_model.objects.create_user(
        "lise", email="lise@example.org", password="old-password-1878"
    )
    client = _client_in(language)
    form = client.get("/accounts/password_reset/").content.decode()
    with translation.override(language):
        assert translation.gettext("Reset your password") in form  # the game's own page
    assert (
        client.post("/accounts/password_reset/", {"email": "lise@example.org"}).status_code == 302
    )
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["lise@example.org"]
    assert mail.subject == subject
    assert mail.body.startswith(greeting + "\n\n") and sentence in mail.body
    username = {
        "de": "Dein Benutzername, falls du ihn brauchst: lise",
        "ru": "Твоё имя пользователя",
    }
    assert username[language] in mail.body
    assert "Someone" not in mail.body and "password reset" not in mail.body
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and _lang_html(form_page.content.decode()) == language
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "fission-1938-new", "new_password2": "fission-1938-new"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fission-1938-new")


def test_plotlys_own_words_are_translated_and_english_pages_register_no_locale():
    from django.utils import translation

    from kascade_game.templatetags.charts import PLOTLY_WORDS, plotly_locale, plotly_locale_json

    for language, decimal in (("de", ","), ("ru", ",")):
        with translation.override(language):
            locale = plotly_locale()
            assert locale["name"] == language
            assert locale["format"]["decimal"] == decimal
            untranslated = [w for w in PLOTLY_WORDS if locale["dictionary"][w] == w]
            assert untranslated == [], language
            assert plotly_locale_json().startswith('<script id="plotly-locale"')
    with translation.override("en"):
        assert plotly_locale_json() == ""
