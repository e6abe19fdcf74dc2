"""Public fulfilment events (written to the outbox in the transaction of the change)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ShipmentCreated(DomainEvent):
    """A sub-order left its warehouse with a carrier (the order's ``OrderShipped`` follows it)."""

    name = "fulfillment.shipment_created.v1"
    shipment_id: int
    order_id: int
    sub_order_id: int
    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class TrackingUpdated(DomainEvent):
    """New tracking events arrived or the parcel's status changed (``status`` is the current one)."""

    name = "fulfillment.tracking_updated.v1"
    shipment_id: int
    order_id: int
    sub_order_id: int
    status: str
    added_events: int


@dataclass(frozen=True, kw_only=True)
class PickupCodeIssued(DomainEvent):
    """A paid store-pickup order got its pickup code (the code itself is never in an event)."""

    name = "fulfillment.pickup_code_issued.v1"
    order_id: int
    store_id: int


@dataclass(frozen=True, kw_only=True)
class PickupVerified(DomainEvent):
    """The shopper collected a store-pickup order; it is completed."""

    name = "fulfillment.pickup_verified.v1"
    order_id: int
    store_id: int
