"""Transition tables of the social plays: a flash-sale session's status."""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.social.schemas import FlashSessionStatus as F
from mercato.social.schemas import PurchaseStatus as P

#: draft → published (its quotas carved out of stock) → ended (the end passed: what was not sold
#: goes back to stock); a draft or a published session can be cancelled (quotas given back).
FLASH_SESSION = TransitionTable(
    "social",
    {
        F.draft: frozenset({F.published, F.cancelled}),
        F.published: frozenset({F.ended, F.cancelled}),
    },
)

#: One flash-sale order: pending (placed, not paid) → paid, or released (cancelled or not paid in
#: time: its units go back to the quota and its buyer's limit is freed); a paid order refunded in
#: full before shipping → refunded (its units back too).
PURCHASE = TransitionTable(
    "social",
    {P.pending: frozenset({P.paid, P.released}), P.paid: frozenset({P.refunded})},
)
