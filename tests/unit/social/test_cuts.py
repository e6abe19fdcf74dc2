"""Bargaining cut schedules: exact sums, bounded front-loaded cuts, deterministic per seed."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.social.plays.cuts import MAX_TOTAL_AMOUNT, cut_schedule, helps_for

amounts_and_helps = st.integers(min_value=1, max_value=300).flatmap(
    lambda helps: st.tuples(st.integers(min_value=helps, max_value=MAX_TOTAL_AMOUNT), st.just(helps))
)


@given(amount_and_helps=amounts_and_helps, seed=st.text(max_size=40))
def test_cuts_are_positive_and_reach_the_floor_exactly_at_the_last_help(
    amount_and_helps: tuple[int, int], seed: str
) -> None:
    total, helps = amount_and_helps

    cuts = cut_schedule(total_amount=total, helps=helps, seed=seed)

    assert len(cuts) == helps
    assert sum(cuts) == total
    assert min(cuts) >= 1


@given(amount_and_helps=amounts_and_helps, seed=st.text(max_size=40))
def test_first_cut_is_a_large_share_but_at_most_half(amount_and_helps: tuple[int, int], seed: str) -> None:
    total, helps = amount_and_helps

    first = cut_schedule(total_amount=total, helps=helps, seed=seed)[0]

    if helps > 1:
        assert first <= total // 2
        assert first >= min(-(-total // 5), total - (helps - 1))


@given(amount_and_helps=amounts_and_helps, seed=st.text(max_size=40))
def test_later_cuts_stay_within_three_fair_shares(amount_and_helps: tuple[int, int], seed: str) -> None:
    total, helps = amount_and_helps

    cuts = cut_schedule(total_amount=total, helps=helps, seed=seed)

    assert all(cut <= -(-3 * total // helps) for cut in cuts[1:])


@given(amount_and_helps=amounts_and_helps, seed=st.text(max_size=40))
def test_with_three_or_more_helps_no_later_cut_beats_the_first(
    amount_and_helps: tuple[int, int], seed: str
) -> None:
    total, helps = amount_and_helps

    cuts = cut_schedule(total_amount=total, helps=helps, seed=seed)

    if helps >= 3:
        assert max(cuts[1:]) <= cuts[0]


@given(amount_and_helps=amounts_and_helps, seed=st.text(max_size=40))
def test_same_seed_gives_the_same_schedule(amount_and_helps: tuple[int, int], seed: str) -> None:
    total, helps = amount_and_helps

    first_call = cut_schedule(total_amount=total, helps=helps, seed=seed)
    second_call = cut_schedule(total_amount=total, helps=helps, seed=seed)

    assert first_call == second_call


@given(
    helps=st.integers(min_value=5, max_value=50),
    seeds=st.lists(st.text(max_size=20), min_size=2, max_size=2, unique=True),
)
def test_different_seeds_give_different_schedules(helps: int, seeds: list[str]) -> None:
    total = 1000 * helps
    a, b = (cut_schedule(total_amount=total, helps=helps, seed=seed) for seed in seeds)

    assert a != b


def test_fifty_bargains_get_fifty_different_schedules() -> None:
    schedules = {tuple(cut_schedule(total_amount=2910, helps=8, seed=f"bargain-{n}")) for n in range(50)}

    assert len(schedules) == 50


def test_schedule_for_a_seed_is_pinned() -> None:
    assert cut_schedule(total_amount=10000, helps=5, seed="bargain-42") == [3420, 2278, 1610, 1451, 1241]
    assert cut_schedule(total_amount=2910, helps=8, seed="bargain-42") == [
        830,
        457,
        345,
        340,
        332,
        288,
        153,
        165,
    ]


def test_single_help_cuts_the_whole_amount() -> None:
    assert cut_schedule(total_amount=8900, helps=1, seed="bargain-42") == [8900]


def test_two_helps_split_the_amount_in_halves() -> None:
    assert cut_schedule(total_amount=1001, helps=2, seed="bargain-42") == [500, 501]
    assert cut_schedule(total_amount=3, helps=2, seed="bargain-42") == [1, 2]


def test_amount_equal_to_helps_cuts_one_fen_each() -> None:
    assert cut_schedule(total_amount=6, helps=6, seed="bargain-42") == [1, 1, 1, 1, 1, 1]


@pytest.mark.parametrize(
    ("_case", "total", "helps", "message"),
    [
        ("no helps", 100, 0, "a bargain needs at least 1 help, got 0"),
        ("negative helps", 100, -3, "a bargain needs at least 1 help, got -3"),
        ("amount below helps", 4, 5, "total_amount 4 cannot give each of 5 helps a cut of 1 fen"),
        ("zero amount", 0, 1, "total_amount 0 cannot give each of 1 helps a cut of 1 fen"),
        ("amount too large", 10**10 + 1, 10, "total_amount 10000000001 is above the maximum 10000000000"),
    ],
)
def test_rejects_bad_input(_case: str, total: int, helps: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        cut_schedule(total_amount=total, helps=helps, seed="bargain-42")


def test_accepts_the_maximum_amount() -> None:
    cuts = cut_schedule(total_amount=MAX_TOTAL_AMOUNT, helps=100, seed="bargain-42")

    assert sum(cuts) == 10**10


@given(seed=st.text(max_size=40), low=st.integers(min_value=1, max_value=100), span=st.integers(0, 100))
def test_helps_for_stays_in_range_and_is_deterministic(seed: str, low: int, span: int) -> None:
    helps = helps_for(seed=seed, low=low, high=low + span)

    assert low <= helps <= low + span
    assert helps_for(seed=seed, low=low, high=low + span) == helps


def test_helps_for_uses_the_whole_range() -> None:
    picks = {helps_for(seed=f"bargain-{n}", low=3, high=8) for n in range(200)}

    assert picks == {3, 4, 5, 6, 7, 8}


def test_helps_for_is_pinned_and_fixed_when_low_equals_high() -> None:
    assert helps_for(seed="bargain-42", low=3, high=8) == 5
    assert helps_for(seed="bargain-42", low=7, high=7) == 7


@pytest.mark.parametrize(
    ("_case", "low", "high", "message"),
    [
        ("zero low", 0, 5, "low must be at least 1, got 0"),
        ("high below low", 5, 4, "high 4 is below low 5"),
    ],
)
def test_helps_for_rejects_bad_range(_case: str, low: int, high: int, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        helps_for(seed="bargain-42", low=low, high=high)
