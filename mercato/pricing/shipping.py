"""Shipping fees from a template: by destination, by pieces or weight, free over a threshold."""

from __future__ import annotations

from mercato.pricing.schemas import Delivery, ShippingBasis, ShippingRule, ShippingTemplate


def rule_for(template: ShippingTemplate, province: str | None) -> ShippingRule | None:
    """The rule naming the province, else the "*" rule; None if the template does not ship there."""
    if province is not None:
        for rule in template.rules:
            if province in rule.regions:
                return rule
    return next((rule for rule in template.rules if "*" in rule.regions), None)


def _steps(total: int, first: int, step: int) -> int:
    """How many additional steps beyond the first ``first`` units (rounded up)."""
    if total <= first:
        return 0
    return -(-(total - first) // step)


def shipping_fee(
    *,
    template: ShippingTemplate | None,
    province: str | None,
    delivery: Delivery,
    goods_amount: int,
    pieces: int,
    grams: int,
) -> tuple[int, int | None]:
    """Return (fee, free-shipping gap). The gap is what is still to buy for free shipping.

    No template means free shipping. Store pickup is free. A destination no rule covers ships
    at the "*" rule's price; with no "*" rule either, it is free here (the checkout refuses the
    address before it gets this far).
    """
    if template is None or delivery is Delivery.pickup:
        return 0, None
    rule = rule_for(template, province)
    if rule is None:
        return 0, None
    units = pieces if rule.basis is ShippingBasis.pieces else grams
    fee = (
        rule.first_fee_amount
        + _steps(units, rule.first_units, rule.additional_units) * rule.additional_fee_amount
    )
    gap = None
    if rule.free_over_amount is not None:
        gap = max(0, rule.free_over_amount - goods_amount)
        if gap == 0:
            fee = 0  # 包邮 covers the standard fee; an express surcharge is still paid
    if delivery is Delivery.express:
        fee += template.express_surcharge_amount
    return fee, gap
