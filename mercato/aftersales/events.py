"""Public after-sales events (written to the outbox in the transaction of the change).

Wire names are ``aftersales.<what>.v1``. Each carries the request, its order and customer, so a
consumer (notifications) needs no read to address the shopper.
"""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class AftersalesRequested(DomainEvent):
    """A shopper opened a request (refund only, return and refund, or exchange) for an order line."""

    name = "aftersales.requested.v1"
    request_id: int
    number: str
    order_id: int
    order_number: str
    order_line_id: int
    customer_id: int
    kind: str
    quantity: int
    refund_amount: int
    currency: str
    before_shipment: bool


@dataclass(frozen=True, kw_only=True)
class AftersalesDecided(DomainEvent):
    """The shop approved or rejected a request, or the platform decided a dispute (``arbitrated``).

    ``outcome`` is ``approved`` (the request proceeds) or ``rejected`` (by the shop: the shopper may
    escalate; by the platform: the request is closed)."""

    name = "aftersales.decided.v1"
    request_id: int
    number: str
    order_id: int
    order_number: str
    customer_id: int
    kind: str
    outcome: str
    arbitrated: bool
    reason: str


@dataclass(frozen=True, kw_only=True)
class AftersalesRefunded(DomainEvent):
    """The payment provider confirmed the refund of a request (``amount`` includes any shipping).

    ``before_shipment`` refunds were for units not shipped yet: fulfilment should not ship them."""

    name = "aftersales.refunded.v1"
    request_id: int
    number: str
    order_id: int
    order_number: str
    order_line_id: int
    customer_id: int
    payment_id: int
    refund_id: int
    quantity: int
    amount: int
    currency: str
    before_shipment: bool


@dataclass(frozen=True, kw_only=True)
class AftersalesCompleted(DomainEvent):
    """A request is done: refunded, or (exchange) the replacement was shipped with its tracking number."""

    name = "aftersales.completed.v1"
    request_id: int
    number: str
    order_id: int
    order_number: str
    customer_id: int
    kind: str
    replacement_carrier: str
    replacement_tracking_number: str
