"""Payment statuses: pending ends once (paid, failed or closed); refunds follow a payment."""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.payments.schemas import PaymentStatus as S

PAYMENT = TransitionTable(
    "payments",
    {
        S.pending: frozenset({S.paid, S.closed, S.failed}),
        S.paid: frozenset({S.partially_refunded, S.refunded}),
        S.partially_refunded: frozenset({S.partially_refunded, S.refunded}),
    },
)


def sources(target: S) -> list[str]:
    """The statuses a payment may move to ``target`` from (for conditional UPDATEs)."""
    return [str(state) for state, targets in PAYMENT.edges.items() if target in targets]
