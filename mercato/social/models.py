"""Private: the social plays' tables. Other packages use ``mercato.social``'s service API.

Flash sales (秒杀): a session (场次) holds items; each item's quota is an inventory quota hold
(reference ``flash:item:<id>``) carved out of stock when the session is published, so the units
left are the hold's own quantity and the database referees every order with one conditional
UPDATE on it. ``FlashBuyer`` counts each customer's units per item (one conditional UPDATE
against the per-customer limit); ``FlashPurchase`` is one row per flash-sale order, for the
counts and to give units and limits back when an order is not paid.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
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


class FlashSession(IdMixin, Base):
    __tablename__ = "social_flash_session"
    __table_args__ = (
        Index("ix_social_flash_session_status_starts_at", "status", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    name: Mapped[str] = mapped_column(String(60))
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    note: Mapped[str] = mapped_column(String(300), default="")
    human_check: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20))  # see states.py
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]


class FlashItem(IdMixin, Base):
    __tablename__ = "social_flash_item"
    __table_args__ = (
        UniqueConstraint("session_id", "sku_id"),
        CheckConstraint("quota > 0", name="quota"),
        CheckConstraint("per_customer > 0", name="per_customer"),
        CheckConstraint("price_amount >= 0", name="price_amount"),
    )

    session_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_flash_session.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigId)
    product_id: Mapped[int] = mapped_column(BigId)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    quota: Mapped[int] = mapped_column(Integer)
    per_customer: Mapped[int] = mapped_column(Integer, default=1)
    position: Mapped[int] = mapped_column(Integer, default=0)


class FlashBuyer(Base):
    """Units of an item one customer holds in pending or paid orders (the per-customer limit)."""

    __tablename__ = "social_flash_buyer"
    __table_args__ = (CheckConstraint("units >= 0", name="units"),)

    item_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("social_flash_item.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    units: Mapped[int] = mapped_column(Integer, default=0)


class FlashPurchase(IdMixin, Base):
    """One flash-sale order and what became of it (see ``states.PURCHASE``)."""

    __tablename__ = "social_flash_purchase"
    __table_args__ = (Index("ix_social_flash_purchase_item_status", "item_id", "status"),)

    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_flash_item.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(BigId)
    order_id: Mapped[int] = mapped_column(BigId, unique=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class FlashReminder(Base):
    """A customer asked to be told when a session starts (sent once)."""

    __tablename__ = "social_flash_reminder"

    session_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("social_flash_session.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None] = mapped_column(index=True)


class StatusChange(IdMixin, Base):
    """Every status move of a flash-sale session (and later the other plays), oldest first."""

    __tablename__ = "social_status_change"
    __table_args__ = (Index("ix_social_status_change_subject", "subject", "subject_id", "id"),)

    subject: Mapped[str] = mapped_column(String(30))  # "flash_session"
    subject_id: Mapped[int] = mapped_column(BigId)
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254))
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime]
