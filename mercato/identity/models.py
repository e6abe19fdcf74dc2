"""Private: identity tables. Other packages use ``mercato.identity``'s service API instead."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Customer(IdMixin, Base):
    """A shopper's account. ``phone`` is E.164, ``email`` lower-cased; at least one is set
    until the account is deleted, when both are erased."""

    __tablename__ = "identity_customer"

    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="active")
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]
    deleted_at: Mapped[dt.datetime | None]
    #: How many tags the account carries: raised and lowered by one conditional UPDATE each, so
    #: the cap (``MAX_TAGS_PER_CUSTOMER``) holds under concurrent taggers on both databases.
    tag_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Consent(IdMixin, Base):
    """A recorded consent (or its withdrawal) to a version of a policy."""

    __tablename__ = "identity_consent"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"), index=True
    )
    policy: Mapped[str] = mapped_column(String(40))
    policy_version: Mapped[str] = mapped_column(String(40))
    granted: Mapped[bool] = mapped_column(Boolean, default=True)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[dt.datetime]


class OneTimeCode(IdMixin, Base):
    """A verification code sent by SMS (or email); only an HMAC of the code is stored."""

    __tablename__ = "identity_one_time_code"
    __table_args__ = (Index("ix_identity_one_time_code_lookup", "destination", "purpose", "created_at"),)

    destination: Mapped[str] = mapped_column(String(254))
    purpose: Mapped[str] = mapped_column(String(20))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    consumed_at: Mapped[dt.datetime | None]


class AuthToken(IdMixin, Base):
    """A web session (cookie) or an API bearer token of a customer or staff member.

    Only the SHA-256 of the token is stored; revoking sets ``revoked_at``.
    """

    __tablename__ = "identity_auth_token"
    __table_args__ = (Index("ix_identity_auth_token_subject", "subject_kind", "subject_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    subject_kind: Mapped[str] = mapped_column(String(10))  # customer | staff
    subject_id: Mapped[int] = mapped_column(BigId)
    kind: Mapped[str] = mapped_column(String(10))  # session | bearer
    name: Mapped[str] = mapped_column(String(100), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime]
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]


class Address(IdMixin, Base):
    """A customer's shipping address (Chinese administrative divisions)."""

    __tablename__ = "identity_address"

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"), index=True
    )
    recipient: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(30))
    city: Mapped[str] = mapped_column(String(30))
    district: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(10), default="")
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Staff(IdMixin, Base):
    """An operator of the shop; separate from customers, signs in to the console."""

    __tablename__ = "identity_staff"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    password_hash: Mapped[str] = mapped_column(String(200))
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Part of every sign-in failure counter's key: ``unlock_staff`` adds one, which starts the
    #: member's counters afresh in every process, whatever the rate limiter's backend.
    lockout_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime]
    last_login_at: Mapped[dt.datetime | None]


class Role(IdMixin, Base):
    """A named set of permissions (``catalog.write``, ``orders.refund`` ...)."""

    __tablename__ = "identity_role"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime]


class StaffRole(IdMixin, Base):
    """A role given to a staff member."""

    __tablename__ = "identity_staff_role"
    __table_args__ = (UniqueConstraint("staff_id", "role_id"),)

    staff_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_staff.id", ondelete="CASCADE"), index=True
    )
    role_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_role.id", ondelete="CASCADE"), index=True
    )


class AuditEntry(IdMixin, Base):
    """One staff write: who did what to which object, with the state before and after."""

    __tablename__ = "identity_audit_entry"
    __table_args__ = (
        Index("ix_identity_audit_entry_object", "object_type", "object_id"),
        Index("ix_identity_audit_entry_actor", "actor_id", "created_at"),
    )

    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(60))
    object_id: Mapped[str] = mapped_column(String(60), default="")
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))
    request_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(index=True)


class CustomerTag(IdMixin, Base):
    """A label from the shop's tag vocabulary ("VIP", "批发"); created on first use.

    ``key`` is the normalised name folded for comparison ("vip"), so "VIP" and "vip " are one tag;
    ``name`` keeps the spelling it was first given.
    """

    __tablename__ = "identity_customer_tag"

    key: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime]


class CustomerTagging(IdMixin, Base):
    """A tag put on a customer by staff; a customer holds each tag at most once."""

    __tablename__ = "identity_customer_tagging"
    __table_args__ = (UniqueConstraint("customer_id", "tag_id"),)

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"))
    tag_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_customer_tag.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime]


class CustomerNote(IdMixin, Base):
    """An operator's note on a customer: who wrote it, when, and the text."""

    __tablename__ = "identity_customer_note"
    __table_args__ = (Index("ix_identity_customer_note_customer", "customer_id", "id"),)

    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("identity_staff.id", ondelete="SET NULL"))
    author_label: Mapped[str] = mapped_column(String(254), default="")
    body: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[dt.datetime]


class WeChatAccount(IdMixin, Base):
    """A WeChat identity linked to a customer: the ``openid`` one of our WeChat apps knows them by
    (``open``: the Open Platform website app; ``mp``: the official account), and the ``unionid``
    every app of our Open Platform account shares, when WeChat gives it."""

    __tablename__ = "identity_wechat_account"
    __table_args__ = (UniqueConstraint("appid", "openid"), UniqueConstraint("customer_id", "appid"))

    customer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"), index=True
    )
    app_kind: Mapped[str] = mapped_column(String(10))  # open | mp
    appid: Mapped[str] = mapped_column(String(32))
    openid: Mapped[str] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64), index=True)
    nickname: Mapped[str] = mapped_column(String(100), default="")
    linked_at: Mapped[dt.datetime]


class WeChatAuthorization(IdMixin, Base):
    """One trip to WeChat's authorisation page and back.

    Only hashes of the two secrets are stored: the ``state`` (sent to WeChat and kept in the
    browser's cookie; used once, before ``expires_at``) and, when the WeChat identity belongs to
    no account yet, the ``ticket`` the browser then holds while the shopper proves a mobile
    number to link or create an account (``openid``, ``unionid``, ``nickname`` wait here).
    """

    __tablename__ = "identity_wechat_authorization"

    state_hash: Mapped[str] = mapped_column(String(64), unique=True)
    app_kind: Mapped[str] = mapped_column(String(10))
    purpose: Mapped[str] = mapped_column(String(10))  # login | link | pay
    customer_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("identity_customer.id", ondelete="CASCADE"), index=True
    )
    next_url: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime] = mapped_column(index=True)
    used_at: Mapped[dt.datetime | None]
    ticket_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    openid: Mapped[str | None] = mapped_column(String(64))
    unionid: Mapped[str | None] = mapped_column(String(64))
    nickname: Mapped[str] = mapped_column(String(100), default="")
    bound_at: Mapped[dt.datetime | None]
