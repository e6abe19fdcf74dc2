"""Public order events."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(DomainEvent):
    name = "orders.order_placed.v1"
    order_id: int
    customer_id: int
    total_amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderPaid(DomainEvent):
    name = "orders.order_paid.v1"
    order_id: int
    payment_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(DomainEvent):
    name = "orders.order_cancelled.v1"
    order_id: int
    reason: str
