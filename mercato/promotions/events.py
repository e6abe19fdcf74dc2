"""Public promotions events (written to the outbox in the transaction of the change)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CouponExpiring(DomainEvent):
    """A customer's unused coupon ends within a day: notify reminds them (once per coupon)."""

    name = "promotions.coupon_expiring.v1"
    coupon_id: int
    customer_id: int
    template_id: int
    coupon_name: str  # the template's name when the reminder was recorded
    valid_until: str  # ISO 8601, UTC (event payloads are JSON)
