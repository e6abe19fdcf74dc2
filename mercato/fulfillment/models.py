"""Private: fulfilment tables. Other packages use ``mercato.fulfillment``'s service API instead.

Orders, sub-orders, lines and stores are referenced by id only (they belong to other domains);
the lines a shipment carries are copied, so the parcel's content stays as it left.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Shipment(IdMixin, Base):
    """One parcel: a whole sub-order handed to a carrier under one tracking number."""

    __tablename__ = "fulfillment_shipment"
    __table_args__ = (
        UniqueConstraint("sub_order_id"),  # one shipment per sub-order
        UniqueConstraint("carrier", "tracking_number"),  # a number names one parcel
        Index("ix_fulfillment_shipment_order", "order_id"),
        Index("ix_fulfillment_shipment_tracking_number", "tracking_number"),
        Index("ix_fulfillment_shipment_subscribe_due", "tracker", "subscribed_at", "next_subscribe_at"),
    )

    order_id: Mapped[int] = mapped_column(BigId)
    sub_order_id: Mapped[int] = mapped_column(BigId)
    warehouse_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int] = mapped_column(BigId)
    carrier: Mapped[str] = mapped_column(String(30))  # courier company code, carriers/registry.py
    tracking_number: Mapped[str] = mapped_column(String(40))
    tracker: Mapped[str] = mapped_column(String(20))  # who follows it: "manual" or "kuaidi100"
    status: Mapped[str] = mapped_column(String(20))  # states.TrackingStatus
    carrier_state: Mapped[str] = mapped_column(String(10), default="")  # the carrier's last raw state
    shipped_by: Mapped[str] = mapped_column(String(200))
    shipped_at: Mapped[dt.datetime]
    delivered_at: Mapped[dt.datetime | None]
    last_event_at: Mapped[dt.datetime | None]  # newest tracking event: older pushes move nothing
    # Tracking subscription (Kuaidi100): done after the commit, retried by a job
    subscribed_at: Mapped[dt.datetime | None]
    subscribe_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_subscribe_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    updated_at: Mapped[dt.datetime]


class ShipmentItem(IdMixin, Base):
    """An order line inside a shipment, copied when it left."""

    __tablename__ = "fulfillment_shipment_item"
    __table_args__ = (UniqueConstraint("shipment_id", "order_line_id"),)

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("fulfillment_shipment.id", ondelete="CASCADE"))
    order_line_id: Mapped[int] = mapped_column(BigId)
    sku_id: Mapped[int] = mapped_column(BigId)
    title: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer)


class TrackingEvent(IdMixin, Base):
    """One line of the tracking timeline; a repeated push adds nothing (unique fingerprint)."""

    __tablename__ = "fulfillment_tracking_event"
    __table_args__ = (
        UniqueConstraint("shipment_id", "fingerprint"),
        Index("ix_fulfillment_tracking_event_timeline", "shipment_id", "occurred_at"),
    )

    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("fulfillment_shipment.id", ondelete="CASCADE"))
    occurred_at: Mapped[dt.datetime]
    context: Mapped[str] = mapped_column(Text)  # the carrier's words, shown to the shopper
    status: Mapped[str] = mapped_column(String(20))  # states.TrackingStatus at this step
    carrier_status: Mapped[str] = mapped_column(String(20), default="")  # e.g. 在途, 签收
    location: Mapped[str] = mapped_column(String(100), default="")
    source: Mapped[str] = mapped_column(String(20))  # kuaidi100 push/query, or manual
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of time + context
    created_at: Mapped[dt.datetime]


class PickupCode(IdMixin, Base):
    """The code a store-pickup shopper shows at the counter.

    Only a keyed hash identifies the code; the digits are derived from ``nonce`` with the
    secret key when the shopper asks for them, so the table alone reveals no code.
    ``open_code_hash`` holds the hash while the code is open (NULL afterwards), which makes the
    code unique among open codes on both databases.
    """

    __tablename__ = "fulfillment_pickup_code"
    __table_args__ = (UniqueConstraint("order_id"), UniqueConstraint("open_code_hash"))

    order_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int] = mapped_column(BigId)
    store_id: Mapped[int] = mapped_column(BigId)
    nonce: Mapped[str] = mapped_column(String(32))
    code_hash: Mapped[str] = mapped_column(String(64), index=True)
    open_code_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20))  # states.PickupStatus
    issued_at: Mapped[dt.datetime]
    verified_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


class StatusChange(IdMixin, Base):
    """Who moved a shipment's or a pickup code's status, when, from what, to what and why."""

    __tablename__ = "fulfillment_status_change"

    shipment_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("fulfillment_shipment.id", ondelete="CASCADE"), index=True
    )
    pickup_code_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("fulfillment_pickup_code.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime]


class OrderExport(IdMixin, Base):
    """A spreadsheet of the orders matching a staff member's filters: made at once when small,
    by the ``fulfillment.run_order_export`` job when large (``rows_done`` of ``rows_total`` is
    its progress). The file is kept in media storage until ``expires_at``; only ``staff_id``
    may download it."""

    __tablename__ = "fulfillment_order_export"
    __table_args__ = (
        Index("ix_fulfillment_order_export_staff", "staff_id", "id"),
        Index("ix_fulfillment_order_export_status", "status", "created_at"),
    )

    staff_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(10))  # states.ExportStatus
    file_format: Mapped[str] = mapped_column(String(4))  # csv or xlsx
    locale: Mapped[str] = mapped_column(String(10))  # the language of the header and labels
    filters: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.OrderExportFilters
    rows_total: Mapped[int | None] = mapped_column(Integer)  # known once the job counted them
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    storage_key: Mapped[str | None] = mapped_column(String(200))  # the file, once done
    filename: Mapped[str] = mapped_column(String(100))
    error: Mapped[str] = mapped_column(String(300), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    started_at: Mapped[dt.datetime | None]  # the job claimed it (a stale claim is taken over)
    finished_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]  # the file is deleted after this


class ShipBatch(IdMixin, Base):
    """A batch-shipping spreadsheet that was accepted and shipped as a whole; its SHA-256 makes
    a second upload of the same file ship nothing."""

    __tablename__ = "fulfillment_ship_batch"
    __table_args__ = (UniqueConstraint("file_sha256"),)

    file_sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(100))
    rows: Mapped[int] = mapped_column(Integer)
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime]
