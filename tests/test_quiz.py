"""The quiz: dealing, cards, one guess per card, the reveal, scoring, the summary."""

from __future__ import annotations

import random
import re

import pytest

from classify.hadronic_models import HADRONIC_MODELS
from classify.models import Prediction
from classify.selectors import dealable_showers
from kascade_game import services
from kascade_game.models import Guess, Round
from kascade_game.scoring import (
    BASE_POINTS,
    BEAT_THE_MACHINE_BONUS,
    NEIGHBOUR_POINTS,
    score_guess,
)
from tests.factories import round_started_by

REVEAL_MARKERS = (
    "data-truth",
    "data-prediction",
    "data-model",
    "data-reveal",
    "forest says",
    "prob_",
)


def start_round(client, difficulty: str = "easy") -> Round:
    response = client.post("/play/new/", {"difficulty": difficulty})
    return round_started_by(response)


def guess_url(game_round: Round, position: int) -> str:
    return f"/play/r/{game_round.public_id}/card/{position}/guess/"


def card_url(game_round: Round, position: int) -> str:
    return f"/play/r/{game_round.public_id}/card/{position}/"


@pytest.mark.django_db
def test_a_newcomer_sees_the_tutorial_and_a_start_button(client):
    text = client.get("/play/").content.decode()
    assert "How to play" in text
    assert 'action="/play/new/"' in text
    assert "/play/guide/" in text


@pytest.mark.django_db
def test_a_newcomer_starts_straight_on_the_first_card_and_is_not_shown_the_tutorial_again(
    client, game_data, django_assert_max_num_queries
):
    from django.test import Client

    Client().post("/play/new/", {"difficulty": "easy"})  # someone else read the deck first
    client.get("/play/")
    # A class or a festival crowd presses "start" at once: a round's start is the
    # busiest request of a load (docs/benchmarks.md). It writes the guest, the
    # round, its cards and the session (each write with its savepoint here), and
    # reads the deck's signature and the dealt showers' answers. A new guest has
    # no answers, so no level is looked up.
    with django_assert_max_num_queries(11) as queries:
        response = client.post("/play/new/", {"difficulty": "easy"})
    game_round = round_started_by(response)
    assert not [q for q in queries.captured_queries if '"kascade_game_guess"' in q["sql"]]
    (cards_insert,) = [
        q["sql"] for q in queries.captured_queries if 'INTO "kascade_game_roundcard"' in q["sql"]
    ]
    assert "UNNEST" not in cards_insert, "the forests' JSON documents go in as VALUES"
    assert all(card.forests for card in game_round.cards.all())
    assert response["Location"] == card_url(game_round, 0), "no detour through the round's URL"
    player = game_round.player
    assert player.nickname.startswith("Guest-") and player.tutorial_seen
    assert "How to play" not in client.get("/play/").content.decode()
    assert 'data-guess="Fe"' in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_a_returning_players_level_rises_when_their_next_round_starts(client, game_data):
    game_round = start_round(client)
    for card in game_round.cards.order_by("position"):
        client.post(guess_url(game_round, card.position), {"choice": card.shower.mass_group})
    player = game_round.player
    player.refresh_from_db()
    assert player.level == 1, "levels are raised when a round starts, not on the guess path"
    start_round(client)
    player.refresh_from_db()
    assert player.level == 2, "ten right answers make a shower spotter"


@pytest.mark.django_db
def test_the_field_guide_explains_electrons_muons_age_and_the_models(client):
    text = client.get("/play/guide/").content.decode()
    for topic in (
        "Electrons",
        "Muons",
        "Age",
        "252 detector stations",
        "QGSJet-II.04",
        "EPOS-LHC",
        "Sibyll 2.3c",
    ):
        assert topic in text
    assert re.search(r'<img src="/static/kascade_game/field-guide/[a-z-]+\.svg"', text)


def test_scoring_rewards_right_neighbour_beating_the_machine_and_streaks():
    forests_right = {"a": "Fe", "b": "Fe", "c": "Fe"}
    forests_wrong = {"a": "Si", "b": "Si", "c": "Fe"}
    assert (
        score_guess(choice="Fe", truth="Fe", forest_answers=forests_right, streak_before=0).points
        == BASE_POINTS
    )
    assert (
        score_guess(choice="Si", truth="Fe", forest_answers=forests_right, streak_before=3).points
        == NEIGHBOUR_POINTS
    )
    assert (
        score_guess(choice="p", truth="Fe", forest_answers=forests_right, streak_before=3).points
        == 0
    )
    beat = score_guess(choice="Fe", truth="Fe", forest_answers=forests_wrong, streak_before=0)
    assert beat.beat_the_machine and beat.points == BASE_POINTS + BEAT_THE_MACHINE_BONUS
    assert (
        score_guess(choice="Fe", truth="Fe", forest_answers=forests_right, streak_before=1).points
        == 150
    )
    assert (
        score_guess(choice="Fe", truth="Fe", forest_answers=forests_right, streak_before=5).points
        == 200
    )
    assert (
        score_guess(choice="He", truth="Fe", forest_answers=forests_right, streak_before=5).streak
        == 0
    )


def test_scoring_refuses_a_group_that_does_not_exist():
    with pytest.raises(ValueError):
        score_guess(choice="U", truth="Fe", forest_answers={}, streak_before=0)


@pytest.mark.django_db
def test_a_round_deals_ten_mixed_cards_every_one_answered_by_all_forests(client, game_data):
    game_round = start_round(client)
    cards = list(game_round.cards.select_related("shower"))
    assert len(cards) == 10
    groups = [card.shower.mass_group for card in cards]
    assert set(groups) == {"p", "He", "C", "Si", "Fe"}
    assert all(groups.count(group) == 2 for group in set(groups))
    dealable = set(dealable_showers().values_list("id", flat=True))
    assert {card.shower_id for card in cards} <= dealable


@pytest.mark.django_db
def test_a_shower_missing_one_forest_answer_is_never_dealt(game_data):
    shower_id = dealable_showers().values_list("id", flat=True).first()
    Prediction.objects.filter(shower_id=shower_id, hadronic_model="epos-lhc").delete()
    assert not dealable_showers().filter(id=shower_id).exists()
    from classify.models import ForestVersion

    ForestVersion.objects.filter(hadronic_model="sibyll-2.3c").update(active=False)
    assert not dealable_showers().exists()


@pytest.mark.django_db
def test_no_response_before_the_guess_contains_the_truth_or_a_prediction(client, game_data):
    game_round = start_round(client)
    pages = [
        client.get("/play/"),
        client.get(f"/play/r/{game_round.public_id}/", follow=True),
    ]
    for position in range(game_round.size):
        pages.append(client.get(card_url(game_round, position)))
        pages.append(client.get(card_url(game_round, position), HTTP_HX_REQUEST="true"))
    for response in pages:
        assert response.status_code == 200
        text = response.content.decode()
        for marker in REVEAL_MARKERS:
            assert marker not in text, f"{marker!r} leaked before the guess"
        assert "data-guess" in text or "/play/new/" in text


@pytest.mark.django_db
def test_a_deal_reuses_the_kept_candidates_but_never_deals_a_shower_that_lost_an_answer(
    game_data,
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kascade_game.decks import deal

    def candidate_reads(queries) -> int:
        return sum('"kascade_game_deckentry"."mass_group"' in q["sql"] for q in queries)

    with CaptureQueriesContext(connection) as first:
        deal(size=10, difficulty="easy", rng=random.Random(1))
    with CaptureQueriesContext(connection) as second:
        deal(size=10, difficulty="easy", rng=random.Random(2))
    assert candidate_reads(first) == 1 and candidate_reads(second) == 0

    # Every shower but two of each group loses a forest's answer behind the kept candidates.
    dealable = list(dealable_showers().order_by("id").values_list("id", "mass_group"))
    keep = set()
    for group in ("p", "He", "C", "Si", "Fe"):
        keep |= set([sid for sid, g in dealable if g == group][:2])
    Prediction.objects.filter(
        shower_id__in=[sid for sid, _ in dealable if sid not in keep], hadronic_model="epos-lhc"
    ).delete()
    for seed in range(5):
        with CaptureQueriesContext(connection) as queries:
            dealt = deal(size=10, difficulty="easy", rng=random.Random(seed))
        assert set(dealt) == keep, "only the showers every forest still answers"
        if seed == 0:
            assert candidate_reads(queries) == 1, "the stale candidates were read again"


@pytest.mark.django_db
def test_the_reveal_shows_truth_and_three_forests_with_the_contract_hooks(client, game_data):
    game_round = start_round(client)
    response = client.post(guess_url(game_round, 0), {"choice": "Fe"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    text = response.content.decode()
    truth = game_round.cards.get(position=0).shower.mass_group
    assert f'data-truth="{truth}"' in text
    assert "data-reveal" in text
    models = re.findall(r'data-model="([^"]+)" data-prediction="(p|He|C|Si|Fe)"', text)
    assert [key for key, _ in models] == list(HADRONIC_MODELS)
    guess = Guess.objects.get(card__round=game_round, card__position=0)
    assert f'data-score="{guess.points}"' in text
    assert text.count("<meter") == 15, "five probabilities per forest"
    assert "shower had" in text, "one sentence of physics"


@pytest.mark.django_db
def test_each_forests_table_gives_its_probabilities_in_percent_on_both_answers(client, game_data):
    from classify.physics import MASS_GROUPS
    from kascade_game.services import forest_answers

    game_round = start_round(client)
    for position, htmx in ((0, {"HTTP_HX_REQUEST": "true"}), (1, {})):
        text = client.post(guess_url(game_round, position), {"choice": "C"}, follow=True, **htmx)
        text = text.content.decode()
        card = game_round.cards.get(position=position)
        for key, answer in forest_answers(card).items():
            table = re.search(rf'data-model="{key}".*?<tbody>(.*?)</tbody>', text, re.S)[1]
            rows = re.findall(
                r'<tr><th scope="row">(\w+)</th><td><meter min="0" max="100" value="(\d+)"'
                r' aria-label="\1">\2&nbsp;%</meter></td><td class="num">\2&nbsp;%</td></tr>',
                table,
            )
            expected = [
                (group, str(round(100 * answer.probabilities.get(group, 0.0))))
                for group in MASS_GROUPS
            ]
            assert rows == expected, (key, htmx)


@pytest.mark.django_db
def test_an_htmx_guess_answers_with_the_reveal_and_the_round_bar_not_the_card_again(
    client, game_data
):
    game_round = start_round(client)
    assert "<svg" in client.get(card_url(game_round, 0)).content.decode()
    htmx = client.post(guess_url(game_round, 0), {"choice": "He"}, HTTP_HX_REQUEST="true")
    text = htmx.content.decode()
    guess = Guess.objects.get(card__round=game_round, card__position=0)
    assert "data-reveal" in text and "<svg" not in text and "guess-form" not in text
    bar = re.search(
        r'<div class="round-bar" id="round-bar" hx-swap-oob="true">(.*?)</div>', text, re.S
    )
    assert bar, "the round bar comes out of band, to replace the one above the card"
    assert f'data-score="{guess.points}"' in bar[1]
    assert '<progress max="10" value="1"' in bar[1]
    # Without htmx the same answer is the whole card page, card and reveal.
    page = client.post(guess_url(game_round, 1), {"choice": "He"}, follow=True)
    page = page.content.decode()
    assert "<svg" in page and "data-reveal" in page and "hx-swap-oob" not in page


def _reveal(language="en", *, next_url="/play/r/abc/card/4/", sentence="A sentence.", **flags):
    from types import SimpleNamespace

    from django.utils import translation

    from kascade_game.reveal import reveal_html

    guess = {"truth": "Fe", "choice": "Fe", "is_correct": True, "late": False}
    guess.update({"beat_the_machine": False, "streak": 1, "points": 100, **flags})
    with translation.override(language):
        return str(
            reveal_html(
                guess=SimpleNamespace(**guess),
                forest_items='<li class="forest">forests</li>',
                sentence=sentence,
                next_url=next_url,
                summary_url="/play/r/abc/summary/",
            )
        )


def _round_bar(language="en", *, remaining=None, oob=False, **values):
    from types import SimpleNamespace

    from django.utils import translation

    from kascade_game.reveal import round_bar_html

    game_round = SimpleNamespace(
        **{"size": 10, "answered": 3, "points": 250, "streak": 0, **values}
    )
    with translation.override(language):
        return str(round_bar_html(game_round=game_round, position=4, remaining=remaining, oob=oob))


def _text(html: str) -> str:
    """What a reader sees of `html`: its text, with the spaces between words."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_the_reveal_says_right_or_wrong_and_names_the_truth_and_the_wrong_guess():
    right = _reveal()
    assert 'class="reveal-title right"' in right and 'data-truth="Fe"' in right
    assert _text(right).startswith("✔ Right! It was iron (Fe). +100 points")
    assert "you said" not in right
    wrong = _reveal(choice="Si", is_correct=False, points=40)
    assert 'class="reveal-title wrong"' in wrong
    assert _text(wrong).startswith(
        "✘ Not quite. It was iron (Fe); you said silicon (Si). +40 points"
    )


def test_the_reveal_adds_the_late_note_the_bonus_and_the_streak_only_when_they_apply():
    plain = _reveal()
    assert "data-late" not in plain and "beat the machine" not in plain and "in a row" not in plain
    late = _reveal(late=True, points=0)
    assert '<p class="late-note" data-late>Time was up for this card' in late
    assert "+0 points" in _text(late)
    both = _reveal(beat_the_machine=True, streak=3, points=350)
    assert "+350 points — you beat the machine! — 3 in a row" in _text(both)
    assert "<strong>you beat the machine!</strong>" in both
    assert "+1 point" in _text(_reveal(points=1)) and "+1 points" not in _text(_reveal(points=1))


def test_the_reveal_leads_to_the_next_card_or_on_the_last_card_to_the_summary():
    middle = _reveal()
    assert (
        'href="/play/r/abc/card/4/" hx-get="/play/r/abc/card/4/" hx-target="#play-area"' in middle
    )
    assert 'data-no-answer="No answer from the server. Press again."' in middle
    last = _reveal(next_url=None)
    assert '<a class="button primary big" href="/play/r/abc/summary/" data-next autofocus>' in last
    assert "hx-get" not in last and "See your result" in last


def test_the_reveal_escapes_what_it_is_given():
    html = _reveal(sentence='<script>alert("x")</script> & it\'s', next_url='/x/"onmouseover="y')
    assert (
        "<script>" not in html
        and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; it&#x27;s" in html
    )
    assert 'href="/x/&quot;onmouseover=&quot;y"' in html


def test_the_reveal_and_round_bar_speak_each_language_with_its_plural_forms():
    """The fixed phrases are translated once per process and language: switching back
    and forth gives each language its own, and the counts take each language's plurals."""
    for language, expected in (
        ("de", "✘ Nicht ganz."),
        ("en", "✘ Not quite."),
        ("ru", "✘ Не совсем."),
        ("de", "✘ Nicht ganz."),
    ):
        assert _text(_reveal(language, choice="Si", is_correct=False)).startswith(expected)
    assert "Nächster Schauer" in _reveal("de") and "Следующий ливень" in _reveal("ru")
    for points, words in ((1, "+1 очко"), (2, "+2 очка"), (5, "+5 очков"), (21, "+21 очко")):
        assert words in _text(_reveal("ru", points=points)), points
    assert "🔥 3 подряд" in _text(_round_bar("ru", streak=3))
    assert "Punktestand 250" in _text(_round_bar("de"))


def test_the_round_bar_shows_the_timer_only_with_seconds_left_and_the_streak_from_two():
    bar = _round_bar()
    assert bar.startswith('<div class="round-bar" id="round-bar">')
    assert _text(bar) == "Shower 4 of 10 3 of 10 Score 250"
    assert '<progress max="10" value="3" aria-label="Cards answered">' in bar
    assert '<strong data-score="250" id="score">250</strong>' in bar
    assert "data-timer" not in bar and "streak" not in bar
    assert _round_bar(streak=1).count("streak") == 0
    timed = _round_bar(remaining=12, streak=2)
    assert '<span class="timer" data-timer data-remaining="12"' in timed
    assert '<span class="streak" title="right answers in a row">🔥 2 in a row</span>' in timed
    assert 'data-remaining="0"' in _round_bar(remaining=0), "no seconds left still shows the timer"
    assert _round_bar(oob=True).startswith(
        '<div class="round-bar" id="round-bar" hx-swap-oob="true">'
    )


@pytest.mark.django_db
def test_an_answered_cards_page_shows_its_reveal_and_the_round_bar_without_a_timer(
    client, game_data
):
    game_round = start_round(client)
    client.post(guess_url(game_round, 0), {"choice": "p"}, HTTP_HX_REQUEST="true")
    guess = Guess.objects.get(card__round=game_round, card__position=0)
    for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
        page = client.get(card_url(game_round, 0), **htmx).content.decode()
        assert page.count("data-reveal") == 1 and "guess-form" not in page
        assert f'data-truth="{guess.truth}"' in page
        bar = re.search(r'<div class="round-bar" id="round-bar">(.*?)</div>', page, re.S)
        assert bar and f'data-score="{guess.points}"' in bar[1] and "data-timer" not in bar[1]
        assert card_url(game_round, 1) in page, "the reveal leads to the next card"


@pytest.mark.django_db
def test_a_replayed_guess_is_counted_once_and_answered_with_the_recorded_result(client, game_data):
    game_round = start_round(client)
    first = client.post(guess_url(game_round, 0), {"choice": "p"}, follow=True)
    second = client.post(guess_url(game_round, 0), {"choice": "Fe"}, follow=True)
    assert first.status_code == second.status_code == 200
    assert (
        first.redirect_chain
        == second.redirect_chain
        == [(card_url(game_round, 0) + "#guess-area", 303)]
    )
    assert Guess.objects.filter(card__round=game_round).count() == 1
    guess = Guess.objects.get(card__round=game_round)
    assert guess.choice == "p"
    game_round.refresh_from_db()
    assert game_round.answered == 1 and game_round.points == guess.points
    assert "you said proton (p)" in second.content.decode() or guess.is_correct


@pytest.mark.django_db
def test_another_players_round_is_not_found_and_nothing_is_recorded(
    client, django_user_model, game_data
):
    from django.test import Client

    game_round = start_round(client)
    stranger = Client()
    assert stranger.get(card_url(game_round, 0)).status_code == 404
    assert stranger.post(guess_url(game_round, 0), {"choice": "p"}).status_code == 404
    assert not Guess.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("choice", ["", "H", "iron", "<script>", "p' OR 1=1"])
def test_a_guess_outside_the_five_groups_is_refused(client, game_data, choice):
    game_round = start_round(client)
    response = client.post(guess_url(game_round, 0), {"choice": choice})
    assert response.status_code == 400
    assert "must be one of p, He, C, Si, Fe" in response.content.decode()
    assert not Guess.objects.exists()


@pytest.mark.django_db
def test_a_card_that_does_not_exist_is_404(client, game_data):
    game_round = start_round(client)
    assert client.get(card_url(game_round, 99)).status_code == 404
    assert client.post(guess_url(game_round, 99), {"choice": "p"}).status_code == 404


@pytest.mark.django_db
def test_a_full_round_ends_with_you_versus_each_forest(client, game_data):
    game_round = start_round(client)
    for position in range(game_round.size):
        assert client.post(guess_url(game_round, position), {"choice": "C"}).status_code == 303
    game_round.refresh_from_db()
    assert game_round.is_finished
    guesses = list(Guess.objects.filter(card__round=game_round))
    assert game_round.points == sum(guess.points for guess in guesses)
    summary = client.get(f"/play/r/{game_round.public_id}/summary/").content.decode()
    assert f"{game_round.correct}/10" in summary
    for key in HADRONIC_MODELS:
        right = sum(guess.forest_answers[key] == guess.truth for guess in guesses)
        assert f'data-forest-score="{key}">{right}/10' in summary
    assert client.post(guess_url(game_round, 0), {"choice": "p"}).status_code == 303
    game_round.refresh_from_db()
    assert game_round.answered == 10


@pytest.mark.django_db
def test_card_and_guess_requests_stay_within_ten_queries(
    client, game_data, django_assert_max_num_queries
):
    game_round = start_round(client)
    with django_assert_max_num_queries(10):
        client.get(card_url(game_round, 0), HTTP_HX_REQUEST="true")
    for position in range(game_round.size):
        with django_assert_max_num_queries(10):
            client.get(card_url(game_round, position), HTTP_HX_REQUEST="true")
        # The last guess also writes the round's score entry and the player's totals.
        with django_assert_max_num_queries(10):
            client.post(guess_url(game_round, position), {"choice": "He"}, HTTP_HX_REQUEST="true")


@pytest.mark.django_db
def test_a_card_page_is_small(client, game_data):
    game_round = start_round(client)
    assert len(client.get(card_url(game_round, 0)).content) <= 30_000


@pytest.mark.django_db
def test_hard_rounds_hide_the_hint(client, game_data):
    easy = start_round(client, "easy")
    assert "data-hint" in client.get(card_url(easy, 0)).content.decode()
    hard = start_round(client, "hard")
    assert "data-hint" not in client.get(card_url(hard, 0)).content.decode()


@pytest.mark.django_db
def test_a_card_keeps_the_answers_of_the_forests_that_were_active_when_it_was_dealt(
    client, game_data
):
    """The guess and the reveal read the card's snapshot: no query of the predictions, and
    a forest version activated mid-round does not change what this round reveals."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from classify.models import ForestVersion
    from classify.selectors import predictions_for

    game_round = start_round(client)
    card = game_round.cards.get(position=0)
    dealt = predictions_for([card.shower_id])[card.shower_id]
    assert set(card.forests) == set(HADRONIC_MODELS)
    for key, prediction in dealt.items():
        assert card.forests[key]["version"] == prediction.model_version
        assert card.forests[key]["group"] == prediction.predicted_group
        assert card.forests[key]["probabilities"] == pytest.approx(prediction.probabilities)

    # Another version of one forest becomes active, answering this shower differently.
    key = "epos-lhc"
    other_group = next(g for g in ("p", "Fe") if g != card.forests[key]["group"])
    ForestVersion.objects.filter(hadronic_model=key).update(active=False)
    ForestVersion.objects.create(hadronic_model=key, version="v-later", active=True)
    Prediction.objects.create(
        shower_id=card.shower_id,
        hadronic_model=key,
        model_version="v-later",
        predicted_group=other_group,
        prob_p=1.0 if other_group == "p" else 0.0,
        prob_he=0.0,
        prob_c=0.0,
        prob_si=0.0,
        prob_fe=1.0 if other_group == "Fe" else 0.0,
    )
    client.get(f"/play/r/{game_round.public_id}/card/0/", HTTP_HX_REQUEST="true")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(guess_url(game_round, 0), {"choice": "C"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert not [q for q in queries if "classify_prediction" in q["sql"]]
    html = response.content.decode()
    shown = re.search(rf'data-model="{key}"[^>]*data-prediction="([^"]+)"', html)
    assert shown and shown.group(1) == card.forests[key]["group"]
    guess = Guess.objects.get(card=card)
    assert guess.forest_answers[key] == card.forests[key]["group"] != other_group


def _columns(instance) -> dict:
    return {
        field.attname: getattr(instance, field.attname) for field in type(instance)._meta.fields
    }


def _assert_same_card(card, expected) -> None:
    """The card, its round, shower and room hold what the ORM's `expected` holds."""
    assert _columns(card) == _columns(expected)
    assert _columns(card.round) == _columns(expected.round)
    assert _columns(card.shower) == _columns(expected.shower)
    if expected.round.room is None:
        assert card.round.room is None
    else:
        assert _columns(card.round.room) == _columns(expected.round.room)


def _solo_and_room_round(name: str, *, room_status=None):
    """A player's solo round and a room round of the same showers (a timed room)."""
    from django.contrib.auth import get_user_model

    from leaderboard.models import Player
    from rooms.models import Room

    player = Player.objects.create(nickname=name, nickname_key=name.lower())
    solo = services.start_round(player=player, difficulty="easy")
    teacher = get_user_model().objects.create_user(f"teacher-{name.lower()}")
    room = Room.objects.create(teacher=teacher, name="Klasse 7b", size=10, seconds_per_card=30)
    if room_status is not None:
        room.status = room_status
        room.save()
    in_room = services.start_round(
        player=player,
        kind=Round.Kind.ROOM,
        room=room,
        shower_ids=list(solo.cards.order_by("position").values_list("shower_id", flat=True)),
    )
    return player, solo, in_room


@pytest.mark.django_db
def test_the_guess_path_reads_card_round_room_and_shower_exactly_as_the_orm_does(game_data):
    from django.db import transaction
    from django.utils import timezone

    from kascade_game import guess_statements
    from kascade_game.models import RoundCard

    player, solo, in_room = _solo_and_room_round("Ada")
    RoundCard.objects.filter(round=in_room, position=3).update(shown_at=timezone.now())
    for game_round, position in ((solo, 0), (in_room, 3)):
        expected = RoundCard.objects.select_related("round", "round__room", "shower").get(
            round=game_round, position=position
        )
        with transaction.atomic():
            card = guess_statements.lock_card(
                public_id=game_round.public_id, position=position, owners=[player.pk]
            )
        _assert_same_card(card, expected)
    # The timed room card: an aware time and the forests' snapshot as a dict, as the ORM gives.
    assert card.shown_at.tzinfo is not None and isinstance(card.forests, dict)
    assert card.forests and not card._state.adding
    with transaction.atomic():
        someone_else = guess_statements.lock_card(
            public_id=solo.public_id, position=0, owners=[player.pk + 1000]
        )
        past_the_end = guess_statements.lock_card(
            public_id=solo.public_id, position=10, owners=[player.pk]
        )
    assert someone_else is None and past_the_end is None


@pytest.mark.django_db
def test_the_card_page_reads_card_round_room_shower_and_guess_as_the_orm_does(
    game_data, django_assert_num_queries
):
    from kascade_game import guess_statements
    from kascade_game.models import Guess, RoundCard
    from rooms.models import Room

    player, solo, in_room = _solo_and_room_round("Emmy", room_status=Room.Status.RUNNING)
    for game_round in (solo, in_room):
        services.record_guess(
            player=player, public_id=game_round.public_id, position=1, choice="Fe"
        )
    for game_round, position in ((solo, 0), (solo, 1), (in_room, 0), (in_room, 1)):
        expected = RoundCard.objects.select_related("round", "round__room", "shower", "guess").get(
            round=game_round, position=position
        )
        with django_assert_num_queries(1):  # and none to follow its relations
            card = guess_statements.read_card(
                public_id=game_round.public_id, position=position, owners=[player.pk]
            )
            _assert_same_card(card, expected)
            if position == 1:
                assert _columns(card.guess) == _columns(expected.guess)
                assert card.guess.card is card and isinstance(card.guess.forest_answers, dict)
            else:
                with pytest.raises(Guess.DoesNotExist):
                    card.guess  # noqa: B018 - the unanswered card's guess
    assert guess_statements.read_card(public_id=solo.public_id, position=0, owners=[]) is None
    for owners, position in (([player.pk + 1000], 0), ([player.pk], 10)):
        assert (
            guess_statements.read_card(public_id=solo.public_id, position=position, owners=owners)
            is None
        )


@pytest.mark.django_db(transaction=True)
def test_reading_a_card_for_a_guess_locks_its_round_until_the_guess_commits():
    from django.db import DatabaseError, connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks are tested on real PostgreSQL (the services pass)")
    import threading

    from kascade_game import guess_statements, services
    from leaderboard.models import Player
    from tests.factories import build_game_data

    build_game_data()
    player = Player.objects.create(nickname="Lise", nickname_key="lise")
    game_round = services.start_round(player=player, difficulty="easy")
    outcome = {}

    def try_the_same_round():
        try:
            with transaction.atomic():
                Round.objects.select_for_update(nowait=True).get(pk=game_round.pk)
            outcome["locked"] = False
        except DatabaseError:
            outcome["locked"] = True
        finally:
            connections.close_all()

    with transaction.atomic():
        card = guess_statements.lock_card(
            public_id=game_round.public_id, position=0, owners=[player.pk]
        )
        assert card is not None
        other = threading.Thread(target=try_the_same_round)
        other.start()
        other.join(timeout=30)
    assert outcome == {"locked": True}
    try_the_same_round()
    assert outcome == {"locked": False}


def test_a_guess_buttons_name_may_wrap_after_its_slash_and_nowhere_else():
    from django.utils import translation

    from kascade_game.play import _breakable, _guess_buttons

    assert _breakable("carbon/oxygen") == "carbon/<wbr>oxygen"
    assert _breakable("iron") == "iron"
    assert _breakable("<b>/&") == "&lt;b&gt;/<wbr>&amp;"  # escaped, then the break added
    with translation.override("de"):
        buttons = _guess_buttons("de")
    assert '<span class="guess-name">Kohlenstoff/<wbr>Sauerstoff</span>' in buttons
    assert buttons.count("<wbr>") == 1


@pytest.mark.django_db
@pytest.mark.parametrize("language, prefix", [("en", "Guest-"), ("de", "Gast-"), ("ru", "Гость-")])
def test_a_drawn_guest_name_is_in_the_visitors_language(game_data, language, prefix):
    from django.test import Client

    from leaderboard.nicknames import check_nickname

    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    game_round = round_started_by(client.post("/play/new/", {"difficulty": "easy"}))
    nickname = game_round.player.nickname
    assert re.fullmatch(re.escape(prefix) + r"\d{5}", nickname)
    assert check_nickname(nickname) == nickname  # a name the nickname rules accept
