"""Private: after-sales tables. Other packages use ``mercato.aftersales``'s service API instead.

- ``aftersales_request``: one request for some units of one order line, with what the line
  looked like (title, SKU code), the refund it asks for, the shipping back, the grading, the
  replacement, the decision and the dispute.
- ``aftersales_status_change``: its timeline; every step with actor, time, reason, details and,
  for the shop's answers, how long the shopper waited (``response_seconds``).
- ``aftersales_line_claim``: per order line, the units and the refund share held by open or
  completed requests. Requests claim from it with one conditional UPDATE, so two requests can
  never claim more units than were bought or more money than the line was paid.
- ``aftersales_photo``: photos the shopper attached (files in ``core.storage``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class AftersalesRequest(IdMixin, Base):
    __tablename__ = "aftersales_request"
    __table_args__ = (
        Index("ix_aftersales_request_customer", "customer_id", "id"),
        Index("ix_aftersales_request_status", "status", "id"),
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("refund_amount >= 0 AND refund_amount <= max_refund_amount", name="refund_amount"),
        CheckConstraint("shipping_refund_amount >= 0", name="shipping_refund_amount"),
        CheckConstraint("photo_count >= 0", name="photo_count"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)  # shown to people: AS20261127000012
    order_id: Mapped[int] = mapped_column(BigId, index=True)
    order_number: Mapped[str] = mapped_column(String(32))  # as the shopper knows the order
    order_line_id: Mapped[int] = mapped_column(BigId, index=True)
    sub_order_id: Mapped[int] = mapped_column(BigId)
    warehouse_id: Mapped[int] = mapped_column(BigId)  # the line shipped from here
    customer_id: Mapped[int] = mapped_column(BigId)
    sku_id: Mapped[int] = mapped_column(BigId)
    sku_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))  # refund_only | return_refund | exchange
    status: Mapped[str] = mapped_column(String(24))  # see states.py
    quantity: Mapped[int] = mapped_column(Integer)
    reason_code: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(String(500), default="")
    before_shipment: Mapped[bool] = mapped_column(Boolean, default=False)  # refund only, not shipped yet
    currency: Mapped[str] = mapped_column(String(3))
    max_refund_amount: Mapped[int] = mapped_column(BigInteger)  # the units' share of what the line paid
    refund_amount: Mapped[int] = mapped_column(BigInteger)  # asked for (<= the share); 0 for exchanges
    shipping_refund_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # whole order refunded
    payment_id: Mapped[int | None] = mapped_column(BigId)
    refund_id: Mapped[int | None] = mapped_column(BigId, index=True)  # the latest refund issued
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    photo_count: Mapped[int] = mapped_column(Integer, default=0)
    return_carrier: Mapped[str] = mapped_column(String(40), default="")
    return_tracking_number: Mapped[str] = mapped_column(String(40), default="")
    returned_at: Mapped[dt.datetime | None]
    receiving_warehouse_id: Mapped[int | None] = mapped_column(BigId)
    resellable_quantity: Mapped[int | None] = mapped_column(Integer)
    defective_quantity: Mapped[int | None] = mapped_column(Integer)
    scrap_quantity: Mapped[int | None] = mapped_column(Integer)
    received_at: Mapped[dt.datetime | None]
    replacement_warehouse_id: Mapped[int | None] = mapped_column(BigId)
    replacement_carrier: Mapped[str] = mapped_column(String(40), default="")
    replacement_tracking_number: Mapped[str] = mapped_column(String(40), default="")
    replacement_shipped_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str] = mapped_column(String(300), default="")
    decided_at: Mapped[dt.datetime | None]
    dispute_statement: Mapped[str] = mapped_column(String(1000), default="")
    disputed_at: Mapped[dt.datetime | None]
    arbitration: Mapped[str] = mapped_column(String(10), default="")  # shopper | shop
    arbitration_reason: Mapped[str] = mapped_column(String(300), default="")
    arbitrated_at: Mapped[dt.datetime | None]
    last_shopper_action_at: Mapped[dt.datetime]  # the shop's response time runs from here
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]  # completed, cancelled or closed


class AftersalesStatusChange(IdMixin, Base):
    """One step of a request's timeline: who (customer, shop, platform, system), when, from, to, why."""

    __tablename__ = "aftersales_status_change"
    __table_args__ = (Index("ix_aftersales_status_change_created_at", "created_at"),)

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("aftersales_request.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(24))  # "" for the first step
    to_status: Mapped[str] = mapped_column(String(24))
    actor_kind: Mapped[str] = mapped_column(String(10))  # customer | shop | platform | system
    actor_id: Mapped[int | None] = mapped_column(BigId)  # the customer or staff id
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(String(1000), default="")
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # carrier, tracking, grades, refund
    response_seconds: Mapped[int | None] = mapped_column(Integer)  # the shop's answer to a shopper step
    created_at: Mapped[dt.datetime]


class AftersalesLineClaim(IdMixin, Base):
    """What open or completed requests hold of one order line (units, and the refund share)."""

    __tablename__ = "aftersales_line_claim"
    __table_args__ = (
        CheckConstraint("claimed_quantity >= 0 AND claimed_quantity <= bought_quantity", name="claimed"),
        CheckConstraint(
            "refund_quantity >= 0 AND refund_quantity <= claimed_quantity", name="refund_quantity"
        ),
        CheckConstraint("refund_share_amount >= 0 AND refund_share_amount <= paid_amount", name="share"),
    )

    order_id: Mapped[int] = mapped_column(BigId, index=True)
    order_line_id: Mapped[int] = mapped_column(BigId, unique=True)
    bought_quantity: Mapped[int] = mapped_column(Integer)
    paid_amount: Mapped[int] = mapped_column(BigInteger)  # the line's total (plus any tax added on top)
    claimed_quantity: Mapped[int] = mapped_column(Integer, default=0)  # every kind of request
    refund_quantity: Mapped[int] = mapped_column(Integer, default=0)  # refund only, return and refund
    refund_share_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # their shares of paid_amount


class AftersalesPhoto(IdMixin, Base):
    """A photo of the goods, proved to be an image and re-encoded without metadata."""

    __tablename__ = "aftersales_photo"

    request_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("aftersales_request.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime]
