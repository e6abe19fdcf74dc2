"""Private: inventory tables. Other packages use ``mercato.inventory``'s service API instead.

Invariants, enforced by the database as well as the services:
``0 <= reserved <= on_hand`` for every stock row (so available = on_hand - reserved never goes
below zero), and every change to a stock row is one row of the append-only ledger whose deltas
sum to the row's current levels (``mercato inventory verify``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Warehouse(IdMixin, Base):
    """A place stock is kept and shipped from.

    ``regions`` lists the provinces it serves (["*"] for everywhere); among the warehouses that
    serve a destination and hold the stock, the lowest ``priority`` then ``cost_amount`` wins.
    """

    __tablename__ = "inventory_warehouse"
    __table_args__ = (CheckConstraint("kind IN ('regional', 'front', 'store', 'dropship')", name="kind"),)

    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(30))
    city: Mapped[str] = mapped_column(String(30))
    district: Mapped[str] = mapped_column(String(30), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    currency: Mapped[str] = mapped_column(String(3))
    cost_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # handling cost per shipment
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Stock(IdMixin, Base):
    """The level of one SKU in one warehouse. Changed only by single conditional UPDATEs."""

    __tablename__ = "inventory_stock"
    __table_args__ = (
        UniqueConstraint("sku_id", "warehouse_id"),
        CheckConstraint("on_hand >= 0", name="on_hand"),
        CheckConstraint("reserved >= 0", name="reserved"),
        CheckConstraint("reserved <= on_hand", name="reserved_le_on_hand"),
        CheckConstraint("safety_stock >= 0", name="safety_stock"),
    )

    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_sku.id", ondelete="RESTRICT"), index=True)
    warehouse_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inventory_warehouse.id", ondelete="RESTRICT"), index=True
    )
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)  # low-stock line
    updated_at: Mapped[dt.datetime]


class Reservation(IdMixin, Base):
    """Units held for an order (or a cart at checkout) until consumed, released or expired.

    ``(reference, sku_id, warehouse_id)`` is unique, so reserving again for the same reference
    is a no-op instead of a second hold.
    """

    __tablename__ = "inventory_reservation"
    __table_args__ = (
        UniqueConstraint("reference", "sku_id", "warehouse_id"),
        Index("ix_inventory_reservation_status_expires_at", "status", "expires_at"),
        # a quota hold (a flash sale's) may be emptied by the orders it hands its units to
        CheckConstraint("quantity >= 0", name="quantity"),
    )

    reference: Mapped[str] = mapped_column(String(80))  # "order:123", "flash:item:7"
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_sku.id", ondelete="RESTRICT"))
    warehouse_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("inventory_warehouse.id", ondelete="RESTRICT")
    )
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="active")  # see states.py
    expires_at: Mapped[dt.datetime | None]  # None: held until shipped or released (a paid order)
    created_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]
    #: The quota hold these units were taken from (``take_from_hold``): released or expired, they
    #: go back to it while it is active, instead of to the free stock.
    source: Mapped[str | None] = mapped_column(String(80))


class LedgerEntry(IdMixin, Base):
    """One change to one stock row; never updated or deleted."""

    __tablename__ = "inventory_ledger_entry"
    __table_args__ = (Index("ix_inventory_ledger_entry_stock", "sku_id", "warehouse_id", "id"),)

    sku_id: Mapped[int] = mapped_column(BigId)
    warehouse_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(20))  # receipt, adjustment, transfer_out, ... (schemas)
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reserved_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(80), default="", index=True)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[dt.datetime] = mapped_column(index=True)
