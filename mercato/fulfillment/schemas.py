"""Public fulfilment DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator

from mercato.core.schemas import IdInt, InputModel, ReadModel
from mercato.fulfillment.states import PickupStatus, TrackingStatus

Id = IdInt
#: Loose on purpose: carriers' formats differ and change; Kuaidi100 takes 6 to 32 characters.
TrackingNumber = Annotated[str, Field(min_length=6, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]


class ShipmentCreate(InputModel):
    """Hand one paid sub-order to a carrier (all of its lines, one tracking number)."""

    order_id: Id
    sub_order_id: Id
    carrier: Annotated[str, Field(min_length=1, max_length=30)]  # a code from list_carriers
    tracking_number: TrackingNumber

    @field_validator("tracking_number")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()


class TrackingEventCreate(InputModel):
    """A tracking step recorded by hand (carriers without a tracking feed, or a correction)."""

    status: TrackingStatus
    context: Annotated[str, Field(min_length=1, max_length=500)]
    occurred_at: AwareDatetime | None = None  # now when omitted
    location: Annotated[str, Field(max_length=100)] = ""


class DeliverShipment(InputModel):
    """Record by hand that the parcel was signed for; ``context`` is shown in the timeline."""

    context: Annotated[str, Field(min_length=1, max_length=500)] = "已签收"


class CarrierRead(ReadModel):
    code: str
    name: str
    tracker: str  # who follows its parcels: "manual" or "kuaidi100"


class ShipmentItemRead(ReadModel):
    order_line_id: int
    sku_id: int
    title: str
    quantity: int


class TrackingEventRead(ReadModel):
    occurred_at: dt.datetime
    status: TrackingStatus
    context: str
    carrier_status: str
    location: str
    source: str


class StatusChangeRead(ReadModel):
    from_status: str
    to_status: str
    actor_label: str
    reason: str
    created_at: dt.datetime


class ShipmentSummary(ReadModel):
    id: int
    order_id: int
    sub_order_id: int
    warehouse_id: int
    carrier: str
    carrier_name: str
    tracking_number: str
    tracker: str
    status: TrackingStatus
    shipped_at: dt.datetime
    delivered_at: dt.datetime | None
    last_event_at: dt.datetime | None


class ShipmentRead(ShipmentSummary):
    """A shipment with its content and timeline (newest first), as staff see it."""

    shipped_by: str
    subscribed_at: dt.datetime | None
    last_error: str
    items: list[ShipmentItemRead]
    events: list[TrackingEventRead]
    history: list[StatusChangeRead]


class CustomerShipment(ReadModel):
    """What the shopper sees of a parcel: carrier, number, content and the timeline."""

    id: int
    sub_order_id: int
    carrier: str
    carrier_name: str
    tracking_number: str
    status: TrackingStatus
    shipped_at: dt.datetime
    delivered_at: dt.datetime | None
    items: list[ShipmentItemRead]
    events: list[TrackingEventRead]


class PickupCodeRead(ReadModel):
    """The shopper's pickup code (到店自提); ``code`` only while it can still be used."""

    order_id: int
    store_id: int
    status: PickupStatus
    code: str | None
    issued_at: dt.datetime
    verified_at: dt.datetime | None


class PickupVerify(InputModel):
    store_id: Id
    code: Annotated[str, Field(min_length=8, max_length=8, pattern=r"^[0-9]{8}$")]


class PickupVerification(ReadModel):
    order_id: int
    order_number: str
    store_id: int
    status: PickupStatus
    verified_at: dt.datetime
