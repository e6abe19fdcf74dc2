"""The pure coupon provider (``pricing.PromotionProvider``) and why a coupon cannot be used.

A coupon applies to its in-scope lines, less the lines an applied promotion that does not
combine with coupons touched (``blocked``); its threshold (``min_spend_amount``) is on what is
left of those lines after the promotions. Amount off, percent off (rounded half up, capped by
``max_discount_amount``) or the shipping fee off. No database, no clock: the caller passes
``now``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from mercato import pricing
from mercato.core.i18n import N_
from mercato.promotions.rules.kinds import WHOLE_FEE, matcher, money, percent_of
from mercato.promotions.schemas import Channel, CouponKind, CouponRead

NAME = "coupons"

SPEND_MORE = N_("Spend {amount} more to use it")
NOT_VALID_YET = N_("Not valid yet")
EXPIRED = N_("Expired")
NOTHING_ELIGIBLE = N_("Nothing in this order is eligible")
NOT_ON_CHANNEL = N_("Not on this channel")
NOT_WITH_PROMOTION = N_("A promotion here does not combine with coupons")
COUPON_OFF = N_("Coupon")


def code(coupon_id: int) -> str:
    return f"coupon:{coupon_id}"


def eligible_keys(coupon: CouponRead, lines: Sequence[pricing.LineIn], blocked: frozenset[str]) -> list[str]:
    takes = matcher(coupon.scope)
    return [line.key for line in lines if line.key not in blocked and takes(line)]


class CouponTerms:
    """One coupon as a provider: a line proposal (amount, percent) or a shipping one.

    ``scoped``: the keys of the cart's lines in the coupon's scope when the caller has worked
    them out already (the quote tries every wallet coupon on the same cart).
    """

    name = NAME

    def __init__(
        self,
        coupon: CouponRead,
        *,
        blocked: frozenset[str] = frozenset(),
        scoped: frozenset[str] | None = None,
    ) -> None:
        self.coupon = coupon
        self.blocked = blocked
        self.keys = None if scoped is None else scoped - blocked

    def off(self, spend: int) -> int:
        """Money off goods for ``spend`` in scope (0 below the threshold)."""
        coupon = self.coupon
        if spend <= 0 or spend < coupon.min_spend_amount:
            return 0
        if coupon.kind is CouponKind.amount:
            return coupon.amount_off
        if coupon.kind is CouponKind.percent:
            off = percent_of(spend, coupon.percent_off or 0)
            return min(off, coupon.max_discount_amount) if coupon.max_discount_amount is not None else off
        return 0

    def propose(
        self, *, lines: Sequence[pricing.LineState], context: pricing.PricingContext
    ) -> Sequence[pricing.Proposal]:
        coupon = self.coupon
        keys = self.keys
        if keys is None:
            keys = frozenset(eligible_keys(coupon, [s.line for s in lines], self.blocked))
        spend = sum(s.remaining_amount for s in lines if s.line.key in keys)
        if not keys or spend <= 0 or spend < coupon.min_spend_amount:
            return []
        reason = pricing.Reason(message=COUPON_OFF)
        if coupon.kind is CouponKind.free_shipping:
            return [
                pricing.Proposal(
                    code=code(coupon.id),
                    reason=reason,
                    target=pricing.AdjustmentTarget.shipping,
                    amount=WHOLE_FEE,
                )
            ]
        return [
            pricing.Proposal(
                code=code(coupon.id),
                reason=reason,
                amount=self.off(spend),
                line_keys=tuple(s.line.key for s in lines if s.line.key in keys and s.remaining_amount > 0),
            )
        ]


def why_not(
    coupon: CouponRead,
    *,
    lines: Sequence[pricing.LineIn],
    remaining: Mapping[str, int],
    currency: str,
    channel: Channel,
    now: dt.datetime,
    blocked: frozenset[str] = frozenset(),
    scoped: frozenset[str] | None = None,
) -> pricing.Reason | None:
    """Why ``coupon`` cannot be used on ``lines`` (``remaining``: each line's amount left after the
    promotions), or None when it can. Checked in this order: validity, channel, scope, promotions
    that do not combine with coupons, threshold ("还差 ¥12.00"). ``scoped`` as for CouponTerms."""
    if now < coupon.valid_from:
        return pricing.Reason(message=NOT_VALID_YET)
    if now >= coupon.valid_until:
        return pricing.Reason(message=EXPIRED)
    if coupon.channels and channel not in coupon.channels:
        return pricing.Reason(message=NOT_ON_CHANNEL)
    in_scope_keys = (
        eligible_keys(coupon, lines, frozenset())
        if scoped is None
        else [line.key for line in lines if line.key in scoped]
    )
    if not in_scope_keys:
        return pricing.Reason(message=NOTHING_ELIGIBLE)
    keys = [key for key in in_scope_keys if key not in blocked]
    if not keys:
        return pricing.Reason(message=NOT_WITH_PROMOTION)
    spend = sum(remaining.get(key, 0) for key in keys)
    if spend < coupon.min_spend_amount:
        return pricing.Reason(
            message=SPEND_MORE, params={"amount": money(coupon.min_spend_amount - spend, currency)}
        )
    if spend <= 0:
        return pricing.Reason(message=NOTHING_ELIGIBLE)
    return None
