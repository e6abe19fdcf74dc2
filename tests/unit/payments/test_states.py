"""The payment transition table: pending ends once; refunds only follow a payment; a closed
payment goes back to paid only for money that still arrived (then refunded)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mercato.core.errors import IllegalTransition
from mercato.payments.schemas import PaymentStatus as S
from mercato.payments.states import PAYMENT, sources

ALLOWED = {
    (S.pending, S.paid),
    (S.pending, S.closed),
    (S.pending, S.failed),
    (S.closed, S.paid),
    (S.paid, S.partially_refunded),
    (S.paid, S.refunded),
    (S.partially_refunded, S.partially_refunded),
    (S.partially_refunded, S.refunded),
}


@pytest.mark.parametrize(("current", "target"), [(a, b) for a in S for b in S])
def test_exactly_the_declared_edges_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        PAYMENT.check(current, target)
    else:
        with pytest.raises(IllegalTransition) as caught:
            PAYMENT.check(current, target)
        assert caught.value.code == "payments.illegal_transition"


def test_failed_and_refunded_are_terminal() -> None:
    assert [s for s in S if not PAYMENT.allowed(s)] == [S.failed, S.refunded]


def test_sources_list_where_a_status_can_come_from() -> None:
    assert sources(S.refunded) == ["paid", "partially_refunded"]
    assert sources(S.paid) == ["pending", "closed"]


@given(st.lists(st.sampled_from(list(S)), max_size=20))
def test_a_payment_is_paid_at_most_once_on_any_walk(moves: list[S]) -> None:
    state, times_paid = S.pending, 0
    for target in moves:
        if PAYMENT.can(state, target):
            times_paid += target is S.paid
            state = target
    assert times_paid <= 1
