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


# -- 拼团 group buying ----------------------------------------------------------------------------


class GroupOffer(IdMixin, Base):
    """A group-buying offer on one SKU: ``size`` paying members at ``price_amount`` (the leader
    at ``leader_price_amount`` when set, 团长价) within ``hours`` of the leader paying."""

    __tablename__ = "social_group_offer"
    __table_args__ = (
        Index("ix_social_group_offer_sku_status", "sku_id", "status"),
        CheckConstraint("size >= 2 AND size <= 50", name="size"),
        CheckConstraint("hours >= 1 AND hours <= 168", name="hours"),
        CheckConstraint("price_amount >= 0", name="price_amount"),
        CheckConstraint("per_customer >= 1", name="per_customer"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    name: Mapped[str] = mapped_column(String(60))
    sku_id: Mapped[int] = mapped_column(BigId)
    product_id: Mapped[int] = mapped_column(BigId, index=True)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    leader_price_amount: Mapped[int | None] = mapped_column(BigInteger)
    size: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    new_joiners_only: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # 老带新: joiners with no paid order yet
    per_customer: Mapped[int] = mapped_column(Integer, default=1)  # groups a customer may be in per offer
    simulated: Mapped[bool] = mapped_column(Boolean, default=False)  # 模拟成团 (off by default; disclosed)
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))  # draft, active, ended (states.py)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Group(IdMixin, Base):
    """One group (团): opened by a leader's order, forming once the leader paid, complete when
    ``seats`` paying members reach ``size``, failed (everyone refunded) when time runs out."""

    __tablename__ = "social_group"
    __table_args__ = (
        Index("ix_social_group_offer_status", "offer_id", "status", "expires_at"),
        Index("ix_social_group_status_expires_at", "status", "expires_at"),
        CheckConstraint("seats >= 0 AND seats <= size", name="seats"),
    )

    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_group_offer.id", ondelete="RESTRICT"))
    leader_id: Mapped[int] = mapped_column(BigId)
    size: Mapped[int] = mapped_column(Integer)
    seats: Mapped[int] = mapped_column(Integer, default=0)  # paying members seated (the leader first)
    status: Mapped[str] = mapped_column(String(20))  # pending, forming, complete, failed, abandoned
    expires_at: Mapped[dt.datetime | None]  # set when the leader pays
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    closed_at: Mapped[dt.datetime | None]


class GroupMember(IdMixin, Base):
    """One order placed to open or join a group, and what became of it."""

    __tablename__ = "social_group_member"
    __table_args__ = (
        Index("ix_social_group_member_group", "group_id", "status"),
        Index("ix_social_group_member_customer", "customer_id", "status"),
    )

    group_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_group.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(BigId)
    order_id: Mapped[int] = mapped_column(BigId, unique=True)
    is_leader: Mapped[bool] = mapped_column(Boolean, default=False)
    # pending (unpaid), seated (paid, holds a seat), cancelled (unpaid order cancelled),
    # refused (paid without a seat: refunded), refunded (the group failed: refunded)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


# -- 砍价 bargaining ------------------------------------------------------------------------------


class BargainOffer(IdMixin, Base):
    """A bargaining offer on one SKU: from ``price_amount`` down to ``floor_amount`` with a number
    of helps between ``helps_min`` and ``helps_max`` (fixed per bargain when it starts), within
    ``hours``; at most ``stock`` units bought through it (``sold`` counts them)."""

    __tablename__ = "social_bargain_offer"
    __table_args__ = (
        Index("ix_social_bargain_offer_sku_status", "sku_id", "status"),
        CheckConstraint("floor_amount >= 0 AND floor_amount < price_amount", name="floor"),
        CheckConstraint("helps_min >= 1 AND helps_max >= helps_min AND helps_max <= 500", name="helps"),
        CheckConstraint("hours >= 1 AND hours <= 168", name="hours"),
        CheckConstraint("sold >= 0 AND sold <= stock", name="sold"),
        CheckConstraint("ends_at > starts_at", name="window"),
    )

    name: Mapped[str] = mapped_column(String(60))
    sku_id: Mapped[int] = mapped_column(BigId)
    product_id: Mapped[int] = mapped_column(BigId, index=True)
    price_amount: Mapped[int] = mapped_column(BigInteger)  # where every bargain starts
    floor_amount: Mapped[int] = mapped_column(BigInteger)  # 底价: reached exactly at the last help
    helps_min: Mapped[int] = mapped_column(Integer)
    helps_max: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    per_customer: Mapped[int] = mapped_column(Integer, default=1)  # bargains a customer may start
    new_helpers_only: Mapped[bool] = mapped_column(
        Boolean, default=False
    )  # helpers registered after it starts
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    status: Mapped[str] = mapped_column(String(20))  # draft, active, ended
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Bargain(IdMixin, Base):
    """One shopper's bargain: its cut schedule fixed when it starts (``schedule``: one cut per
    help, summing exactly to price − floor), the helps done so far and the price now."""

    __tablename__ = "social_bargain"
    __table_args__ = (
        # a customer's n-th bargain of an offer (1..per_customer): the limit under any concurrency
        UniqueConstraint("offer_id", "customer_id", "sequence"),
        Index("ix_social_bargain_status_expires_at", "status", "expires_at"),
        CheckConstraint("helps_done >= 0 AND helps_done <= helps_needed", name="helps_done"),
        CheckConstraint("current_amount >= 0", name="current_amount"),
    )

    offer_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_bargain_offer.id", ondelete="RESTRICT"))
    customer_id: Mapped[int] = mapped_column(BigId, index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)
    schedule: Mapped[list[int]] = mapped_column(JSON)
    helps_needed: Mapped[int] = mapped_column(Integer)
    helps_done: Mapped[int] = mapped_column(Integer, default=0)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    floor_amount: Mapped[int] = mapped_column(BigInteger)
    current_amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(20))  # active, floor_reached, ordered, bought, expired
    order_id: Mapped[int | None] = mapped_column(BigId, unique=True)
    expires_at: Mapped[dt.datetime]
    device: Mapped[str] = mapped_column(String(64), default="")  # a hash of the initiator's device
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class BargainHelp(IdMixin, Base):
    """One help: one signed-in account, once per bargain, taking the next cut of the schedule."""

    __tablename__ = "social_bargain_help"
    __table_args__ = (
        UniqueConstraint("bargain_id", "helper_id"),
        UniqueConstraint("bargain_id", "position"),
        CheckConstraint("amount > 0", name="amount"),
    )

    bargain_id: Mapped[int] = mapped_column(BigId, ForeignKey("social_bargain.id", ondelete="CASCADE"))
    helper_id: Mapped[int] = mapped_column(BigId, index=True)
    position: Mapped[int] = mapped_column(Integer)  # 1 for the first help
    amount: Mapped[int] = mapped_column(BigInteger)
    device: Mapped[str] = mapped_column(String(64), default="")  # a hash of the helper's device id
    created_at: Mapped[dt.datetime]


# -- invites and sharing ------------------------------------------------------------------------


class InviteCode(Base):
    """Each customer's personal invite code (made on first use), carried by their share links."""

    __tablename__ = "social_invite_code"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    created_at: Mapped[dt.datetime]


class Invitation(Base):
    """Who invited a customer (once per invitee), and which rewards were issued for it."""

    __tablename__ = "social_invitation"

    invitee_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    inviter_id: Mapped[int] = mapped_column(BigId, index=True)
    code: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[dt.datetime]
    first_paid_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime]
