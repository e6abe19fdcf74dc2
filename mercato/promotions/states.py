"""Transition tables of promotions, coupon templates, campaigns and coupons."""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.promotions.schemas import CampaignStatus, CouponStatus, CouponTemplateStatus, PromotionStatus

P = PromotionStatus
PROMOTION = TransitionTable(
    "promotions",
    {
        P.draft: frozenset({P.active, P.ended}),  # publish, discard
        P.active: frozenset({P.paused, P.ended}),
        P.paused: frozenset({P.active, P.ended}),
    },
)

T = CouponTemplateStatus
COUPON_TEMPLATE = TransitionTable(
    "promotions",
    {
        T.draft: frozenset({T.active, T.ended}),
        T.active: frozenset({T.paused, T.ended}),
        T.paused: frozenset({T.active, T.ended}),
    },
)

C = CampaignStatus
CAMPAIGN = TransitionTable(
    "promotions",
    {C.draft: frozenset({C.published, C.ended}), C.published: frozenset({C.ended})},
)

K = CouponStatus
COUPON = TransitionTable(
    "promotions",
    {
        K.unused: frozenset({K.locked, K.expired, K.void}),
        K.locked: frozenset({K.used, K.unused, K.expired}),  # paid; cancelled (back, or expired if past)
        K.used: frozenset({K.unused, K.expired}),  # returned on a full refund (expired if past)
    },
)
