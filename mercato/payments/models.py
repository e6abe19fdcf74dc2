"""Private: payments tables. Other packages use ``mercato.payments``'s service API instead.

Invariants, enforced by the database as well as the services: ``0 <= refunded_amount <= amount``
on every payment (refunds are claimed by one conditional UPDATE), one pending payment per
``(reference, provider)``, one row per provider notification event ``(provider, provider_txn_id)``
(a duplicate or replayed notification is never applied twice), one refund per
``(payment_id, idempotency_key)``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin

_PAYMENT_STATUSES = "'pending', 'paid', 'failed', 'closed', 'partially_refunded', 'refunded'"
_PENDING = text("status = 'pending'")


class Payment(IdMixin, Base):
    """One attempt to collect ``amount`` for a payable (``reference``) through one provider.

    ``provider_payment_id`` (the gateway's trade id) is set once the provider has created the
    payment, after the commit that created this row. ``refunded_amount`` counts every refund
    claimed (pending or succeeded); a failed refund gives its amount back.
    """

    __tablename__ = "payments_payment"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        Index(
            "uq_payments_payment_pending_reference",
            "reference",
            "provider",
            unique=True,
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        Index("ix_payments_payment_status_expires_at", "status", "expires_at"),
        CheckConstraint(f"status IN ({_PAYMENT_STATUSES})", name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refunded_amount"),
    )

    reference: Mapped[str] = mapped_column(String(80), index=True)  # "order:123"
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    amount: Mapped[int] = mapped_column(BigInteger)  # minor units
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default="pending")  # see states.py
    pay_url: Mapped[str | None] = mapped_column(String(1000))
    client_data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    needs_review: Mapped[bool] = mapped_column(Boolean, default=False)
    review_reason: Mapped[str] = mapped_column(String(200), default="")
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    captured_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]


class PaymentStatusChange(IdMixin, Base):
    """One move of a payment's status: who, when, from, to and why. Never updated."""

    __tablename__ = "payments_payment_status_change"

    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments_payment.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor: Mapped[str] = mapped_column(String(254))  # "system", "provider:sandbox", a staff email
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[dt.datetime]


class Notification(IdMixin, Base):
    """One provider notification (or query answer) that passed its signature check.

    ``provider_txn_id`` is the gateway's id of the notification event (the same on a resend or
    a replay), so the unique constraint makes applying it exactly-once; ``outcome`` records what
    it did (``captured``, ``ignored``, ``amount_mismatch`` ...).
    """

    __tablename__ = "payments_notification"
    __table_args__ = (UniqueConstraint("provider", "provider_txn_id"),)

    provider: Mapped[str] = mapped_column(String(20))
    provider_txn_id: Mapped[str] = mapped_column(String(120))
    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments_payment.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[str] = mapped_column(String(10), default="notify")  # notify | query
    status: Mapped[str] = mapped_column(String(24))  # what the provider said: paid, pending ...
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature_valid: Mapped[bool] = mapped_column(Boolean, default=True)
    outcome: Mapped[str] = mapped_column(String(30), default="received")
    received_at: Mapped[dt.datetime]


class Refund(IdMixin, Base):
    """Money given back on a payment; sent to the provider after the commit that claimed it."""

    __tablename__ = "payments_refund"
    __table_args__ = (
        UniqueConstraint("payment_id", "idempotency_key"),
        UniqueConstraint("provider", "provider_refund_id"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
    )

    payment_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("payments_payment.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    provider_refund_id: Mapped[str | None] = mapped_column(String(100))
    failure_reason: Mapped[str] = mapped_column(String(200), default="")
    idempotency_key: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[dt.datetime]
    completed_at: Mapped[dt.datetime | None]


class SandboxTransaction(IdMixin, Base):
    """The sandbox gateway's own record of a trade (what a real gateway keeps on its side).

    Kept in the database so a pending notification survives a restart of the process.
    """

    __tablename__ = "payments_sandbox_txn"
    __table_args__ = (
        CheckConstraint("status IN ('awaiting', 'paid', 'failed', 'closed')", name="status"),
        CheckConstraint("refunded_amount >= 0", name="refunded_amount"),
    )

    trade_id: Mapped[str] = mapped_column(String(100), unique=True)  # the provider_payment_id
    payment_id: Mapped[int] = mapped_column(BigId, unique=True)  # the merchant's out_trade_no
    reference: Mapped[str] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(12), default="awaiting")
    paid_amount: Mapped[int | None] = mapped_column(BigInteger)  # may differ (a test option)
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    expires_at: Mapped[dt.datetime]
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class SandboxRefund(IdMixin, Base):
    """The sandbox gateway's record of a refund, keyed by the merchant's refund number."""

    __tablename__ = "payments_sandbox_refund"
    __table_args__ = (CheckConstraint("amount > 0", name="amount"),)

    refund_no: Mapped[str] = mapped_column(String(100), unique=True)  # the merchant's refund id
    trade_id: Mapped[str] = mapped_column(String(100), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime]
