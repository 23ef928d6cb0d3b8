"""Property tests (Hypothesis): scoring, ranking with ties and deck dealing hold for any input."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from classify.hadronic_models import HADRONIC_MODELS
from classify.physics import LN_A, MASS_GROUPS
from classify.selectors import dealable_showers
from kascade_game.decks import deal, group_plan
from kascade_game.models import Difficulty
from kascade_game.scoring import (
    BASE_POINTS,
    BEAT_THE_MACHINE_BONUS,
    NEIGHBOUR_POINTS,
    score_guess,
    streak_multiplier,
)
from leaderboard.selectors import rank_rows

groups = st.sampled_from(MASS_GROUPS)
forest_answers = st.fixed_dictionaries({key: groups for key in HADRONIC_MODELS})
streaks = st.integers(min_value=0, max_value=50)


# --- scoring -----------------------------------------------------------------


@given(choice=groups, truth=groups, answers=forest_answers, streak=streaks)
def test_no_guess_ever_costs_points(choice, truth, answers, streak):
    score = score_guess(choice=choice, truth=truth, forest_answers=answers, streak_before=streak)
    assert score.points >= 0
    assert score.streak >= 0


@given(truth=groups, answers=forest_answers, streak=streaks, other=groups)
def test_the_exactly_right_guess_earns_strictly_the_most(truth, answers, streak, other):
    assume(other != truth)
    right = score_guess(choice=truth, truth=truth, forest_answers=answers, streak_before=streak)
    wrong = score_guess(choice=other, truth=truth, forest_answers=answers, streak_before=streak)
    assert right.is_correct and not wrong.is_correct
    assert right.points >= BASE_POINTS > NEIGHBOUR_POINTS >= wrong.points


@given(first=groups, second=groups, answers=forest_answers, streak=streaks)
def test_partial_credit_is_symmetric_between_two_groups(first, second, answers, streak):
    assume(first != second)
    one_way = score_guess(choice=first, truth=second, forest_answers=answers, streak_before=streak)
    other_way = score_guess(
        choice=second, truth=first, forest_answers=answers, streak_before=streak
    )
    assert one_way.points == other_way.points
    assert one_way.is_neighbour == other_way.is_neighbour


@given(truth=groups, closer=groups, farther=groups, answers=forest_answers, streak=streaks)
def test_a_guess_closer_in_lna_never_earns_less(truth, closer, farther, answers, streak):
    assume(abs(LN_A[closer] - LN_A[truth]) < abs(LN_A[farther] - LN_A[truth]))
    near = score_guess(choice=closer, truth=truth, forest_answers=answers, streak_before=streak)
    far = score_guess(choice=farther, truth=truth, forest_answers=answers, streak_before=streak)
    assert near.points >= far.points


@given(truth=groups, choice=groups, answers=forest_answers)
def test_only_the_groups_next_in_lna_order_get_partial_credit(truth, choice, answers):
    assume(choice != truth)
    score = score_guess(choice=choice, truth=truth, forest_answers=answers, streak_before=0)
    by_lna = sorted(MASS_GROUPS, key=LN_A.__getitem__)
    adjacent = abs(by_lna.index(choice) - by_lna.index(truth)) == 1
    assert score.is_neighbour == adjacent
    assert score.points == (NEIGHBOUR_POINTS if adjacent else 0)
    assert score.streak == 0  # a wrong guess ends the streak


@given(shorter=streaks, longer=streaks, truth=groups, answers=forest_answers)
def test_a_longer_streak_never_pays_less(shorter, longer, truth, answers):
    assume(shorter <= longer)
    assert streak_multiplier(shorter) <= streak_multiplier(longer)
    low = score_guess(choice=truth, truth=truth, forest_answers=answers, streak_before=shorter)
    high = score_guess(choice=truth, truth=truth, forest_answers=answers, streak_before=longer)
    assert low.points <= high.points
    assert high.streak == longer + 1


@given(choice=groups, truth=groups, answers=forest_answers, streak=streaks)
def test_the_machine_is_beaten_only_by_a_right_guess_when_most_forests_are_wrong(
    choice, truth, answers, streak
):
    score = score_guess(choice=choice, truth=truth, forest_answers=answers, streak_before=streak)
    forests_wrong = sum(answer != truth for answer in answers.values())
    expected = choice == truth and forests_wrong > len(answers) / 2
    assert score.beat_the_machine == expected
    if choice == truth:
        bonus = BEAT_THE_MACHINE_BONUS if expected else 0
        assert score.points == round(BASE_POINTS * score.multiplier) + bonus


# --- ranking with ties ---------------------------------------------------------

board_points = st.lists(st.integers(min_value=0, max_value=2000), max_size=40)


def _rows(points: list[int]) -> list[tuple[int, str, str, int, int]]:
    """Board rows as the query returns them: sorted by points, best first."""
    ordered = sorted(enumerate(points), key=lambda item: -item[1])
    return [(pid, f"player {pid}", f"p{pid}", value, 1) for pid, value in ordered]


def test_ties_share_a_rank_and_the_next_rank_skips():
    ranked = rank_rows(_rows([900, 700, 700, 500]))
    assert [row.rank for row in ranked] == [1, 2, 2, 4]


@given(points=board_points)
@example(points=[5, 5, 5])
def test_a_rank_is_one_more_than_the_number_of_better_players(points):
    ranked = rank_rows(_rows(points))
    assert len(ranked) == len(points)
    for position, row in enumerate(ranked, start=1):
        better = sum(other > row.points for other in points)
        assert row.rank == better + 1
        assert row.rank <= position
    if ranked:
        assert ranked[0].rank == 1


@given(points=board_points, seed=st.integers(min_value=0, max_value=2**32))
def test_the_order_of_equal_scores_does_not_change_anyone_s_rank(points, seed):
    rows = _rows(points)
    shuffled = list(rows)
    random.Random(seed).shuffle(shuffled)
    # Any order that is still sorted by points (ties in any order) gives the same ranks.
    shuffled.sort(key=lambda row: -row[3])
    ranks = {row.player_id: row.rank for row in rank_rows(rows)}
    assert {row.player_id: row.rank for row in rank_rows(shuffled)} == ranks


@given(points=board_points)
def test_equal_points_mean_equal_ranks_and_more_points_a_better_rank(points):
    ranked = rank_rows(_rows(points))
    for first in ranked:
        for second in ranked:
            if first.points == second.points:
                assert first.rank == second.rank
            elif first.points > second.points:
                assert first.rank < second.rank


# --- dealing a deck -------------------------------------------------------------

round_sizes = st.integers(min_value=0, max_value=25)
seeds = st.integers(min_value=0, max_value=2**64 - 1)


@given(size=round_sizes, seed=seeds)
def test_a_group_plan_has_the_round_size_and_groups_as_even_as_possible(size, seed):
    plan = group_plan(size, random.Random(seed))
    assert len(plan) == size
    counts = Counter(plan)
    assert set(counts) <= set(MASS_GROUPS)
    per_group = [counts.get(group, 0) for group in MASS_GROUPS]
    assert max(per_group) - min(per_group) <= 1


@given(size=round_sizes, seed=seeds)
def test_the_same_seed_deals_the_same_plan(size, seed):
    assert group_plan(size, random.Random(seed)) == group_plan(size, random.Random(seed))


@pytest.fixture
def dealable_deck(game_data):
    """The test deck (rolled back after the test; every example of a test shares it,
    since dealing only reads)."""
    shower_ids = set(dealable_showers().values_list("id", flat=True))
    truth = dict(game_data.showers.values_list("id", "mass_group"))
    return shower_ids, truth


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    size=st.integers(min_value=1, max_value=20),
    difficulty=st.sampled_from(Difficulty.values),
    seed=seeds,
    excluded_count=st.integers(min_value=0, max_value=30),
)
def test_a_deal_is_complete_mixed_and_never_repeats_a_shower(
    dealable_deck, size, difficulty, seed, excluded_count
):
    dealable, truth = dealable_deck
    rng = random.Random(seed)
    excluded = set(rng.sample(sorted(dealable), excluded_count))
    shower_ids = deal(size=size, difficulty=difficulty, rng=rng, exclude_shower_ids=excluded)
    assert len(shower_ids) == size
    assert len(set(shower_ids)) == size
    assert set(shower_ids) <= dealable
    assert not set(shower_ids) & excluded
    per_group = Counter(truth[shower_id] for shower_id in shower_ids)
    counts = [per_group.get(group, 0) for group in MASS_GROUPS]
    assert max(counts) - min(counts) <= 1
