"""Players and leaderboards: accounts, guests claimed once, boards with fair ties, profiles."""

from __future__ import annotations

import re
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from django.contrib.auth import get_user_model
from django.db import connection, connections
from django.test import Client, override_settings
from django.utils import timezone

from kascade_game.models import Guess, Round
from leaderboard.models import Player, ScoreEntry
from leaderboard.selectors import board, period_start, rank_rows
from tests.conftest import finish_round, fresh_ratelimit_window, unused_address


def test_ties_share_a_rank_and_the_next_rank_skips():
    rows = [
        (1, "a", "s1", 500, 1),
        (2, "b", "s2", 400, 1),
        (3, "c", "s3", 400, 2),
        (4, "d", "s4", 300, 1),
    ]
    assert [row.rank for row in rank_rows(rows)] == [1, 2, 2, 4]


def test_the_week_starts_on_monday_and_the_day_at_midnight_in_berlin():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    now = datetime(2026, 11, 26, 0, 30, tzinfo=berlin)  # a Thursday, just after midnight
    assert period_start("today", now=now) == datetime(2026, 11, 26, tzinfo=berlin)
    assert period_start("week", now=now) == datetime(2026, 11, 23, tzinfo=berlin)
    utc_evening = datetime(2026, 11, 25, 23, 30, tzinfo=ZoneInfo("UTC"))  # 00:30 in Berlin
    assert period_start("today", now=utc_evening) == datetime(2026, 11, 26, tzinfo=berlin)


def make_entry(nickname: str, points: int, finished, game_data_round=None) -> Player:
    player = Player.objects.create(nickname=nickname, nickname_key=nickname.casefold())
    game_round = Round.objects.create(
        player=player, size=10, answered=10, points=points, finished=finished
    )
    ScoreEntry.objects.create(
        player=player, round=game_round, points=points, correct=5, answered=10, finished=finished
    )
    return player


@pytest.mark.django_db
def test_boards_for_all_time_this_week_and_today():
    now = timezone.now()
    make_entry("Today", 300, now)
    make_entry("LastMonth", 900, now - timedelta(days=40))
    make_entry("Yesterday", 200, now - timedelta(days=1))
    assert [row.nickname for row in board("all")][:2] == ["LastMonth", "Today"]
    assert "LastMonth" not in [row.nickname for row in board("week")]
    assert [row.nickname for row in board("today")] == ["Today"]


@pytest.mark.django_db
def test_board_cache_keys_suit_every_cache_backend():
    """No spaces or control characters in a board's cache key (Django warns of keys a
    memcached would refuse; the day's and the week's boards once had a space)."""
    import warnings

    from django.core.cache.backends.base import CacheKeyWarning

    make_entry("Today", 300, timezone.now())
    # Recorded, not raised: the board reads its cache tolerantly and would swallow it.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CacheKeyWarning)
        for period in ("all", "week", "today"):
            assert [row.nickname for row in board(period)] == ["Today"]
    assert [str(w.message) for w in caught if issubclass(w.category, CacheKeyWarning)] == []


@pytest.mark.django_db
def test_board_rows_carry_the_contract_hooks_and_your_position_beyond_page_one(client, game_data):
    now = timezone.now()
    for index in range(30):
        make_entry(f"Ace{index:02d}", 10_000 - index, now)
    game_round = finish_round(client)
    text = client.get("/leaderboard/").content.decode()
    assert text.count("data-leaderboard-row") == 25
    assert 'data-player="Ace00" data-points="10000" data-rank="1"' in text
    assert "data-your-position" in text and "#31" in text
    page2 = client.get("/leaderboard/?page=2").content.decode()
    me = Player.objects.get(pk=game_round.player_id)
    assert f'data-player="{me.nickname}" data-points="{game_round.points}"' in page2


@pytest.mark.django_db
def test_a_board_is_right_when_the_cache_is_cold_or_redis_is_down(client, game_data):
    game_round = finish_round(client)
    me = Player.objects.get(pk=game_round.player_id)
    from django.core.cache import cache

    cache.delete_many([key for key in ("leaderboard:generation",)])
    assert [(row.nickname, row.points) for row in board("all")] == [
        (me.nickname, game_round.points)
    ]
    redis_down = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    with override_settings(CACHES=redis_down):  # Django swaps the cache handlers itself
        from django.core.cache import cache as down_cache

        with pytest.raises(redis.exceptions.ConnectionError):
            down_cache.get("anything")
        response = client.get("/leaderboard/")
        second = finish_round(client)
    assert response.status_code == 200
    assert (
        f'data-player="{me.nickname}" data-points="{game_round.points}"'
        in response.content.decode()
    )
    assert board("all")[0].points == game_round.points + second.points


@pytest.mark.django_db
def test_a_guest_who_signs_up_keeps_their_rounds_and_points_once(client, game_data):
    game_round = finish_round(client)
    guest = Player.objects.get(pk=game_round.player_id)
    response = client.post(
        "/accounts/signup/",
        {
            "username": "ada",
            "email": "",
            "nickname": "Ada Lovelace",
            "password1": "cosmic-ray-2026!",
            "password2": "cosmic-ray-2026!",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = get_user_model().objects.get(username="ada")
    player = Player.objects.get(user=user)
    assert player.pk == guest.pk and player.nickname == "Ada Lovelace"
    assert player.total_points == game_round.points
    client.post("/accounts/logout/")
    assert (
        client.post(
            "/accounts/login/", {"username": "ada", "password": "cosmic-ray-2026!"}
        ).status_code
        == 302
    )
    assert Player.objects.get(user=user).total_points == game_round.points
    assert [(row.nickname, row.points) for row in board("all")] == [
        ("Ada Lovelace", game_round.points)
    ]


@pytest.mark.django_db
def test_a_guest_who_logs_in_to_an_existing_account_moves_their_rounds_there(client, game_data):
    user = get_user_model().objects.create_user("bob", password="cosmic-ray-2026!")
    member = Client()
    member.force_login(user)
    first = finish_round(member)
    guest_round = finish_round(client)
    assert (
        client.post(
            "/accounts/login/", {"username": "bob", "password": "cosmic-ray-2026!"}
        ).status_code
        == 302
    )
    player = Player.objects.get(user=user)
    assert player.total_points == first.points + guest_round.points
    assert player.rounds_finished == 2
    assert Player.objects.count() == 1
    assert ScoreEntry.objects.filter(player=player).count() == 2


@pytest.mark.django_db
def test_signup_refuses_an_offensive_or_impersonating_nickname(client):
    for nickname in ("Admin", "<script>x</script>"):
        response = client.post(
            "/accounts/signup/",
            {
                "username": "eve",
                "nickname": nickname,
                "password1": "cosmic-ray-2026!",
                "password2": "cosmic-ray-2026!",
            },
        )
        assert response.status_code == 400
        assert 'class="errorlist' in response.content.decode()
    assert not get_user_model().objects.exists()


FAST_HASHER = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _signup(client: Client, name: str):
    password = "cosmic-ray-2026!"
    return client.post(
        "/accounts/signup/",
        {"username": name, "nickname": name, "password1": password, "password2": password},
    )


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_wrong_passwords_and_refused_sign_ups_are_rate_limited_per_address(settings):
    settings.ACCOUNT_FAILURE_RATE = "4/m"
    settings.PASSWORD_HASHERS = FAST_HASHER
    name = f"bob-{uuid.uuid4().hex[:12]}"  # the per-name counter outlives a test
    get_user_model().objects.create_user(name, password="cosmic-ray-2026!")
    # Fresh addresses each run: the counters live in Redis, which outlives a test run.
    address = unused_address()
    fresh_ratelimit_window(address, 60)
    client = Client(REMOTE_ADDR=address)
    wrong = [
        client.post("/accounts/login/", {"username": f"x{i}", "password": "wrong"}).status_code
        for i in range(2)
    ]
    refused = [client.post("/accounts/signup/", {"username": ""}).status_code for _ in range(2)]
    assert wrong == refused == [400, 400]
    # Used up: even the right password waits, and so does a good sign-up form.
    right = {"username": name, "password": "cosmic-ray-2026!"}
    blocked = client.post("/accounts/login/", right)
    assert blocked.status_code == 429 and "Too many attempts" in blocked.content.decode()
    assert _signup(client, "eve").status_code == 429
    assert not get_user_model().objects.filter(username="eve").exists()
    # Another address is not affected.
    assert Client(REMOTE_ADDR=unused_address()).post("/accounts/login/", right).status_code == 302


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_one_account_name_gets_five_log_in_attempts_a_minute_from_anywhere(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    # A name of its own: the counters outlive a test (and, in Redis, a run).
    name = f"ada-{uuid.uuid4().hex[:12]}"
    get_user_model().objects.create_user(name, password="cosmic-ray-2026!")
    fresh_ratelimit_window(name, 60)
    statuses = [
        Client(REMOTE_ADDR=unused_address())
        .post("/accounts/login/", {"username": name, "password": f"guess-{i}"})
        .status_code
        for i in range(6)
    ]
    assert statuses == [400] * 5 + [429]


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_a_class_behind_one_school_router_signs_up_and_logs_in_within_a_minute(settings):
    settings.PASSWORD_HASHERS = FAST_HASHER
    school = unused_address()
    fresh_ratelimit_window(school, 60, need_s=40)
    students = [f"student{i:02d}" for i in range(30)]
    assert [_signup(Client(REMOTE_ADDR=school), name).status_code for name in students] == [
        302
    ] * 30
    logins = [
        Client(REMOTE_ADDR=school)
        .post("/accounts/login/", {"username": name, "password": "cosmic-ray-2026!"})
        .status_code
        for name in students
    ]
    assert logins == [302] * 30


@pytest.mark.django_db
@pytest.mark.ratelimit
def test_accounts_made_from_one_address_are_limited_and_the_page_says_what_to_do(settings):
    settings.SIGNUP_RATE = "2/h"
    settings.PASSWORD_HASHERS = FAST_HASHER
    address = unused_address()
    fresh_ratelimit_window(address, 3600)
    made = [_signup(Client(REMOTE_ADDR=address), name).status_code for name in ("ann", "ben")]
    assert made == [302, 302]
    third = _signup(Client(REMOTE_ADDR=address), "cat")
    assert third.status_code == 429
    assert "play on as a guest" in third.content.decode()
    assert not get_user_model().objects.filter(username="cat").exists()


@pytest.mark.django_db
def test_the_profile_shows_rounds_level_and_confusion_matrices_beside_the_forests(
    client, game_data
):
    user = get_user_model().objects.create_user("cy", password="cosmic-ray-2026!")
    client.force_login(user)
    game_round = finish_round(client)
    text = client.get("/accounts/profile/").content.decode()
    assert "1 round played" in text
    assert f'data-round-points="{game_round.points}"' in text
    for key in ("player", "qgsjet-ii-04", "epos-lhc", "sibyll-2.3c"):
        assert f'data-matrix="{key}"' in text
    assert re.search(r"Level [12]: <strong>", text) and "To get there" in text
    player = Player.objects.get(user=user)
    assert client.get(f"/players/{player.slug}/").status_code == 200
    assert Client().get("/accounts/profile/").status_code == 302


@pytest.mark.django_db
def test_human_vs_machine_statistics_use_local_plotly_and_give_the_numbers(client, game_data):
    finish_round(client)
    text = client.get("/leaderboard/stats/").content.decode()
    assert '<script src="/static/vendor/plotly-cartesian.min.js"' in text
    assert 'id="stats-by-group"' in text and 'id="stats-by-energy"' in text
    assert 'data-series="players"' in text and 'data-series="epos-lhc"' in text


@pytest.mark.django_db(transaction=True)
def test_fifty_simultaneous_guesses_give_exactly_the_right_totals():
    if connection.vendor != "postgresql":
        pytest.skip("the concurrency test runs on real PostgreSQL (the services pass)")
    from kascade_game import services
    from tests.factories import build_game_data

    build_game_data()
    players = [Player.objects.create(nickname=f"P{i}", nickname_key=f"p{i}") for i in range(5)]
    rounds = [services.start_round(player=player, difficulty="easy") for player in players]
    jobs = [
        (player, game_round, position)
        for player, game_round in zip(players, rounds, strict=True)
        for position in range(10)
    ]
    jobs += jobs[:10]  # a second, simultaneous submission of ten cards: counted once
    barrier = threading.Barrier(len(jobs))
    errors = []

    def guess(player, game_round, position):
        try:
            barrier.wait(timeout=30)
            try:
                services.record_guess(
                    player=player, public_id=game_round.public_id, position=position, choice="Fe"
                )
            except services.AlreadyAnswered:
                pass
        except Exception as error:  # collected and reported below
            errors.append(repr(error))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=guess, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert Guess.objects.count() == 50
    for game_round in rounds:
        game_round.refresh_from_db()
        guesses = Guess.objects.filter(card__round=game_round)
        assert game_round.answered == 10 == guesses.count()
        assert game_round.points == sum(g.points for g in guesses)
        assert game_round.is_finished
        assert ScoreEntry.objects.get(round=game_round).points == game_round.points
        assert Player.objects.get(pk=game_round.player_id).total_points == game_round.points
    assert sum(row.points for row in board("all")) == sum(r.points for r in rounds)


@pytest.mark.django_db
def test_a_guest_chooses_a_nickname_that_the_filter_checks(client, game_data):
    refused = client.post("/play/new/", {"difficulty": "easy", "nickname": "Admin"})
    assert refused.status_code == 400
    assert "errorlist" in refused.content.decode()
    assert not Round.objects.exists()
    accepted = client.post(
        "/play/new/", {"difficulty": "easy", "nickname": "  Ｍａｒｉｅ   Curie "}
    )
    assert accepted.status_code == 302
    player = Player.objects.get()
    assert player.nickname == "Marie Curie" and player.nickname_key == "mariecurie"
    assert player.tutorial_seen
    assert 'value="Marie Curie"' in client.get("/play/").content.decode()


@pytest.mark.django_db
def test_a_forgotten_password_is_reset_through_the_e_mailed_link(client, mailoutbox):
    user = get_user_model().objects.create_user(
        "lise", email="lise@example.org", password="old-password-1878"
    )
    assert (
        client.post("/accounts/password_reset/", {"email": "lise@example.org"}).status_code == 302
    )
    assert len(mailoutbox) == 1
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    set_url = form_page.redirect_chain[-1][0]
    done = client.post(
        set_url, {"new_password1": "fission-1938-new", "new_password2": "fission-1938-new"}
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("fission-1938-new")


@pytest.mark.django_db
def test_a_logged_in_player_changes_their_password(client):
    user = get_user_model().objects.create_user("otto", password="old-password-1879")
    client.force_login(user)
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "old-password-1879",
            "new_password1": "chemistry-1944-nobel",
            "new_password2": "chemistry-1944-nobel",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("chemistry-1944-nobel")


@pytest.mark.django_db
def test_the_energy_bands_of_the_statistics_are_in_the_visitors_language(client, game_data):
    from django.utils import translation

    from leaderboard.stats import compute_human_vs_machine

    finish_round(client)
    with translation.override("ru"):
        russian = compute_human_vs_machine()
    with translation.override("en"):
        english = compute_human_vs_machine()
    assert russian["by_energy"]["categories"] == [
        "ниже 100 ТэВ",
        "100–200 ТэВ",
        "200–400 ТэВ",
        "выше 400 ТэВ",
    ]
    assert english["by_energy"]["categories"][0] == "below 100 TeV"
    # The bands count the same guesses whatever the language, and the round was counted.
    values = [series["values"] for series in english["by_energy"]["series"]]
    assert [series["values"] for series in russian["by_energy"]["series"]] == values
    assert any(value is not None for value in values[0])


@pytest.mark.django_db
def test_the_board_links_registered_players_only_and_every_link_opens(client):
    now = timezone.now()
    registered = make_entry("Lise", 900, now)
    registered.user = get_user_model().objects.create_user("lise", password="fission-1938-x")
    registered.save()
    guest = make_entry("Guest-12345", 800, now)
    text = client.get("/leaderboard/").content.decode()
    links = re.findall(r'<a href="(/players/[^"]+/)">([^<]+)</a>', text)
    assert links == [(f"/players/{registered.slug}/", "Lise")]
    assert f"/players/{guest.slug}/" not in text
    assert 'data-player="Guest-12345"' in text  # still on the board, without a link
    for url, _name in links:
        assert client.get(url).status_code == 200
