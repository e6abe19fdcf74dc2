"""The listing transition table: exactly the documented edges, and every state stays reachable."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.catalog.states import EDITABLE, LISTING, ListingStatus
from mercato.core.errors import IllegalTransition

S = ListingStatus
ALLOWED = {
    (S.draft, S.pending_review),  # submit
    (S.pending_review, S.on_sale),  # approve
    (S.pending_review, S.rejected),  # reject
    (S.on_sale, S.off_sale),  # take off sale
    (S.off_sale, S.on_sale),  # put on sale
    (S.rejected, S.pending_review),  # resubmit
    (S.rejected, S.draft),  # edit
    (S.off_sale, S.draft),  # edit
}


@pytest.mark.parametrize(("current", "target"), [(c, t) for c in S for t in S])
def test_exactly_the_documented_edges_are_allowed(current: ListingStatus, target: ListingStatus) -> None:
    if (current, target) in ALLOWED:
        LISTING.check(current, target)
    else:
        with pytest.raises(IllegalTransition) as refused:
            LISTING.check(current, target)
        assert refused.value.code == "catalog.illegal_transition"
        assert refused.value.params == {"current": current.value, "target": target.value}


def test_on_sale_is_only_reached_through_review_or_from_off_sale() -> None:
    assert {current for current, target in ALLOWED if target is S.on_sale} == {S.pending_review, S.off_sale}


def test_every_status_is_reachable_from_draft_and_none_is_a_dead_end() -> None:
    seen, frontier = {S.draft}, [S.draft]
    while frontier:
        for target in LISTING.allowed(frontier.pop()):
            if target not in seen:
                seen.add(target)
                frontier.append(target)

    assert seen == set(S)
    assert all(LISTING.allowed(status) for status in S)


def test_content_is_editable_only_outside_review_and_sale() -> None:
    assert frozenset({S.draft, S.rejected, S.off_sale}) == EDITABLE
    assert all(status is S.draft or LISTING.can(status, S.draft) for status in EDITABLE)


@given(st.lists(st.sampled_from(list(S)), max_size=40))
def test_any_walk_follows_the_table_or_is_refused(moves: list[ListingStatus]) -> None:
    state = S.draft
    for target in moves:
        if (state, target) in ALLOWED:
            LISTING.check(state, target)
            state = target
        else:
            with pytest.raises(IllegalTransition):
                LISTING.check(state, target)
