"""Private: notification tables. Other packages use ``mercato.notify``'s service API instead.

Invariants, enforced by the database as well as the services: one message per
``(customer_id, kind, dedupe_key)`` (an event delivered twice notifies once), one outgoing email
per ``(message_id, channel)``, and every status change of an email is a history row.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin

_DELIVERY_STATUSES = "'pending', 'sending', 'sent', 'failed'"


class Message(IdMixin, Base):
    """One in-app message to one customer, written in their language when it was created."""

    __tablename__ = "notify_message"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "dedupe_key"),
        Index("ix_notify_message_customer_id_id", "customer_id", "id"),
        Index("ix_notify_message_customer_id_read_at", "customer_id", "read_at"),
    )

    customer_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(40))
    dedupe_key: Mapped[str] = mapped_column(String(200))  # the fact it reports, e.g. "refund:7"
    locale: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(100))  # "order:42"
    created_at: Mapped[dt.datetime]
    read_at: Mapped[dt.datetime | None]


class Delivery(IdMixin, Base):
    """One message on one outside channel (email): the outbox row a job sends after the commit.

    An account email (a verification code, "you already have an account") belongs to no in-app
    message: ``message_id`` is empty, and so is ``customer_id`` when the address has no account
    yet (a sign-up code).

    The content is rendered when the row is written, so every attempt sends the same email with
    the same ``Message-ID``. ``attempts`` counts claims; ``claimed_until`` is the lease of the
    worker sending it.
    """

    __tablename__ = "notify_delivery"
    __table_args__ = (
        UniqueConstraint("message_id", "channel"),
        Index("ix_notify_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        CheckConstraint(f"status IN ({_DELIVERY_STATUSES})", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    message_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("notify_message.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    channel: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(254))  # personal data: masked in logs and reads
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    email_message_id: Mapped[str] = mapped_column(String(200))  # the Message-ID header, "<...@...>"
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime]
    claimed_until: Mapped[dt.datetime | None]
    sent_at: Mapped[dt.datetime | None]
    last_error: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class DeliveryStatusChange(IdMixin, Base):
    """One move of an outgoing email's status: who, when, from, to and why. Never updated."""

    __tablename__ = "notify_delivery_status_change"

    delivery_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("notify_delivery.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[dt.datetime]
