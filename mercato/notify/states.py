"""Outgoing email statuses: claimed before sending, so no two workers ever send the same email.

pending → sending (a worker claims it); sending → sent | pending (transient failure, retried
later) | failed (refused for good, or out of attempts) | sending (the claim's lease ran out: the
worker died, another one claims it); failed → pending (staff send it again).
"""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.notify.schemas import DeliveryStatus as S

DELIVERY = TransitionTable(
    "notify",
    {
        S.pending: frozenset({S.sending}),
        S.sending: frozenset({S.sent, S.pending, S.failed, S.sending}),
        S.failed: frozenset({S.pending}),
    },
)
