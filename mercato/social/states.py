"""Transition tables of the social plays: a flash-sale session's status, group buying's and
bargaining's (offers and bargains)."""

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

from mercato.social.schemas_groups import GroupOfferStatus as GO  # noqa: E402
from mercato.social.schemas_groups import GroupStatus as G  # noqa: E402
from mercato.social.schemas_groups import MemberStatus as M  # noqa: E402

#: draft → active (groups can be opened) → ended; a draft can be discarded (ended).
GROUP_OFFER = TransitionTable(
    "social", {GO.draft: frozenset({GO.active, GO.ended}), GO.active: frozenset({GO.ended})}
)

#: pending (the leader's order unpaid) → forming (paid; the clock starts) → complete | failed;
#: pending → abandoned (the leader's order was cancelled or not paid in time).
GROUP = TransitionTable(
    "social",
    {
        G.pending: frozenset({G.forming, G.abandoned}),
        G.forming: frozenset({G.complete, G.failed}),
    },
)

#: pending → seated | cancelled | refused (paid too late: full or over, refunded); seated →
#: refunded (the group failed).
MEMBER = TransitionTable(
    "social",
    {
        M.pending: frozenset({M.seated, M.cancelled, M.refused}),
        M.seated: frozenset({M.refunded}),
    },
)

from mercato.social.schemas_bargains import BargainOfferStatus as BO  # noqa: E402
from mercato.social.schemas_bargains import BargainStatus as B  # noqa: E402

#: draft → active (shoppers may start bargains in its window) → ended (by staff, or its end
#: passed); a draft can be discarded (ended).
BARGAIN_OFFER = TransitionTable(
    "social", {BO.draft: frozenset({BO.active, BO.ended}), BO.active: frozenset({BO.ended})}
)

#: active (collecting helps) → floor_reached (the last help needed) | ordered (bought at the price
#: then) | expired; floor_reached → ordered | expired; ordered → bought (paid), or back to active /
#: floor_reached (the order cancelled or not paid in time, the bargain still running) or expired
#: (its time ran out meanwhile); bought → expired (the order refunded in full before shipping).
BARGAIN = TransitionTable(
    "social",
    {
        B.active: frozenset({B.floor_reached, B.ordered, B.expired}),
        B.floor_reached: frozenset({B.ordered, B.expired}),
        B.ordered: frozenset({B.bought, B.active, B.floor_reached, B.expired}),
        B.bought: frozenset({B.expired}),
    },
)
