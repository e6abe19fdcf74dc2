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
class OrderPaymentRefused(DomainEvent):
    """Money was captured for an order that can no longer take it (cancelled, or paid already by
    another payment): the payment must be given back."""

    name = "orders.order_payment_refused.v1"
    order_id: int
    payment_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(DomainEvent):
    name = "orders.order_cancelled.v1"
    order_id: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderShipped(DomainEvent):
    """A sub-order left its warehouse; ``fully`` when it was the last one."""

    name = "orders.order_shipped.v1"
    order_id: int
    sub_order_id: int
    fully: bool


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(DomainEvent):
    """Every sub-order arrived."""

    name = "orders.order_delivered.v1"
    order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderCompleted(DomainEvent):
    name = "orders.order_completed.v1"
    order_id: int


@dataclass(frozen=True, kw_only=True)
class OrderClosed(DomainEvent):
    """A paid order refunded in full before shipping; its stock went back on sale."""

    name = "orders.order_closed.v1"
    order_id: int
    reason: str
