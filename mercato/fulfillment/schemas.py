"""Public fulfilment DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import AwareDatetime, Field, field_validator

from mercato import orders
from mercato.core.schemas import IdInt, InputModel, ReadModel
from mercato.fulfillment.states import ExportStatus, PickupStatus, TrackingStatus
from mercato.pricing import Delivery

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


class OrderExportFilters(InputModel):
    """The console order list's filters that an export repeats: ``orders.list_orders``'s
    keyword arguments (a new list filter is added here too, or the export refuses it)."""

    status: Annotated[str, Field(max_length=24)] | None = None
    delivery: Delivery | None = None
    placed_from: AwareDatetime | None = None  # inclusive
    placed_before: AwareDatetime | None = None  # exclusive
    sku_id: IdInt | None = None
    search: Annotated[str, Field(max_length=100)] | None = None
    buyer: orders.BuyerSearch | None = None  # the customer search


class PreparedOrderExport(ReadModel):
    """An export as first looked at: the rows themselves when the orders are few enough to
    download at once (``header`` and ``rows`` set), else only that a job must make it."""

    filters: OrderExportFilters
    file_format: str  # csv or xlsx
    locale: str
    header: list[str]
    rows: list[list[str | int | Decimal | None]] | None  # None: too many for now, queue a job


class OrderExportRead(ReadModel):
    id: int
    staff_id: int
    status: ExportStatus
    file_format: str
    filters: OrderExportFilters
    rows_total: int | None
    rows_done: int
    filename: str
    error: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    expires_at: dt.datetime | None
    is_expired: bool  # done, but the file is gone

    @property
    def percent(self) -> int:
        """Progress for the bar, 0-100."""
        if self.status is ExportStatus.done:
            return 100
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)


class ShippedRow(ReadModel):
    """One row of an accepted batch-shipping file and the parcel it became."""

    row: int
    order_number: str
    carrier: str
    tracking_number: str
    shipment_id: int


class BatchShipped(ReadModel):
    """An accepted batch-shipping file: every row shipped, in one transaction."""

    batch_id: int
    filename: str
    shipped: list[ShippedRow]


class DocumentLine(ReadModel):
    item: str  # the title with its spec values
    sku_code: str
    quantity: int  # units to ship (refunded ones left out)


class OrderDocument(ReadModel):
    """What a packing list or waybill sheet prints for one sub-order (one parcel)."""

    order_number: str
    placed_at: dt.datetime
    note: str
    warehouse_name: str
    warehouse_code: str
    sender_address: str
    recipient: str
    recipient_phone: str
    recipient_region: str  # province, city, district
    recipient_detail: str
    is_masked: bool  # the recipient is masked (no orders.reveal_pii)
    carrier_name: str  # once shipped
    tracking_number: str
    lines: list[DocumentLine]
