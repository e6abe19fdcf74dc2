"""Payment statuses: pending ends once (paid, failed or closed); refunds follow a payment.

closed → paid is the one way back: money that still arrives for a payment we closed (its order
was cancelled) is recorded as captured and refunded at once (``actions.capture_late_payment``,
then ``refunds.refund_unwanted_payment``); it is never kept.
"""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.payments.schemas import PaymentStatus as S

PAYMENT = TransitionTable(
    "payments",
    {
        S.pending: frozenset({S.paid, S.closed, S.failed}),
        S.closed: frozenset({S.paid}),  # late money, refunded at once
        S.paid: frozenset({S.partially_refunded, S.refunded}),
        S.partially_refunded: frozenset({S.partially_refunded, S.refunded}),
    },
)


def sources(target: S) -> list[str]:
    """The statuses a payment may move to ``target`` from (for conditional UPDATEs)."""
    return [str(state) for state, targets in PAYMENT.edges.items() if target in targets]
