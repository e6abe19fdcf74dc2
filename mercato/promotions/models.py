"""Private: promotions tables. Other packages use ``mercato.promotions``'s service API instead.

Counters that must never pass a limit (coupons issued, a customer's claims) are changed only by
one conditional UPDATE each (``... SET n = n + 1 WHERE n < limit``), never read-then-write.
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
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Campaign(IdMixin, Base):
    """A named, scheduled event (618, 双11, 店庆) grouping promotions and coupon templates, with a
    pre-heat period, a landing page and a budget."""

    __tablename__ = "promotions_campaign"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("budget_amount IS NULL OR budget_amount >= 0", name="budget"),
    )

    name: Mapped[str] = mapped_column(String(60))
    slug: Mapped[str] = mapped_column(String(60), unique=True)
    description: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(16))  # CampaignStatus
    preheat_starts_at: Mapped[dt.datetime | None]  # 预热: shown, not yet priced
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    budget_amount: Mapped[int | None] = mapped_column(BigInteger)  # discount cost allowed, minor units
    blocks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # landing page blocks
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Promotion(IdMixin, Base):
    """One promotion rule (满减, 满折, 第N件, 限时折扣, 满赠, 包邮) with its scope and conditions."""

    __tablename__ = "promotions_promotion"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index("ix_promotions_promotion_live", "status", "ends_at"),
    )

    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("promotions_campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(24))  # PromotionKind
    status: Mapped[str] = mapped_column(String(16))  # PromotionStatus
    starts_at: Mapped[dt.datetime]
    ends_at: Mapped[dt.datetime]
    rule: Mapped[dict[str, Any]] = mapped_column(JSON)  # the kind's terms (schemas.PromotionRule)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.Scope
    conditions: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.Conditions
    exclusive_group: Mapped[str] = mapped_column(String(40), default="")  # "" = none
    priority: Mapped[int] = mapped_column(Integer, default=0)  # higher first within a stage
    allow_coupons: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CouponTemplate(IdMixin, Base):
    """A kind of coupon: its value, where it applies, how many exist, who may hold how many and
    for how long, and how it is issued."""

    __tablename__ = "promotions_coupon_template"
    __table_args__ = (
        CheckConstraint("issued_quantity >= 0 AND issued_quantity <= total_quantity", name="issued"),
        CheckConstraint("per_customer_limit >= 1", name="per_customer_limit"),
        CheckConstraint("percent_off IS NULL OR (percent_off >= 1 AND percent_off <= 99)", name="percent"),
    )

    campaign_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("promotions_campaign.id"), index=True)
    name: Mapped[str] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(16))  # CouponKind
    status: Mapped[str] = mapped_column(String(16))  # CouponTemplateStatus
    amount_off: Mapped[int] = mapped_column(BigInteger, default=0)  # amount kind
    percent_off: Mapped[int | None] = mapped_column(Integer)  # percent kind: 20 = 20 % off (8 折)
    max_discount_amount: Mapped[int | None] = mapped_column(BigInteger)  # cap of a percent coupon
    min_spend_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # 满 X 可用; 0 = none
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)  # schemas.Scope
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # [] = every channel
    total_quantity: Mapped[int] = mapped_column(Integer)
    issued_quantity: Mapped[int] = mapped_column(Integer, default=0)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    valid_from: Mapped[dt.datetime | None]  # fixed window; or valid_days after claiming
    valid_until: Mapped[dt.datetime | None]
    valid_days: Mapped[int | None] = mapped_column(Integer)
    claim_starts_at: Mapped[dt.datetime | None]  # when it can be claimed (None: once active)
    claim_ends_at: Mapped[dt.datetime | None]
    claimable: Mapped[bool] = mapped_column(Boolean, default=True)  # shown in 领券中心 / product pages
    issue_on: Mapped[str] = mapped_column(String(24), default="")  # IssueTrigger; "" = not automatic
    return_on_refund: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CouponHolding(Base):
    """How many coupons of a template a customer has received: the per-customer limit's counter."""

    __tablename__ = "promotions_coupon_holding"

    template_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("promotions_coupon_template.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    received: Mapped[int] = mapped_column(Integer, default=0)


class Coupon(IdMixin, Base):
    """A coupon a customer holds: unused → locked (by a placed order) → used (paid), or back to
    unused (cancelled, refunded per rule), or expired / voided."""

    __tablename__ = "promotions_coupon"
    __table_args__ = (
        Index("ix_promotions_coupon_wallet", "customer_id", "status"),
        Index("ix_promotions_coupon_expiry", "status", "valid_until"),
    )

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("promotions_coupon_template.id"), index=True)
    customer_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(16))  # CouponStatus
    source: Mapped[str] = mapped_column(String(24))  # CouponSource
    issue_key: Mapped[str] = mapped_column(String(120), unique=True)  # idempotency of issuance
    valid_from: Mapped[dt.datetime]
    valid_until: Mapped[dt.datetime]
    issued_at: Mapped[dt.datetime]
    order_id: Mapped[int | None] = mapped_column(BigId, index=True)  # the order holding or using it
    locked_at: Mapped[dt.datetime | None]
    used_at: Mapped[dt.datetime | None]
    reminded_at: Mapped[dt.datetime | None]  # the 24-hour expiry reminder was sent
    updated_at: Mapped[dt.datetime]


class CouponStatusChange(IdMixin, Base):
    """Every move of a coupon, and why (the order it was locked by, the refund that returned it)."""

    __tablename__ = "promotions_coupon_status_change"

    coupon_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("promotions_coupon.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    order_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[dt.datetime]


class CouponCode(IdMixin, Base):
    """A redeemable code (兑换码) of a template, bulk-generated; redeemed once into a coupon."""

    __tablename__ = "promotions_coupon_code"

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("promotions_coupon_template.id"), index=True)
    batch_id: Mapped[int] = mapped_column(BigId, ForeignKey("promotions_issue_run.id"), index=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    redeemed_by: Mapped[int | None] = mapped_column(BigId)
    redeemed_at: Mapped[dt.datetime | None]
    coupon_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[dt.datetime]


class IssueRun(IdMixin, Base):
    """A long issuance run (bulk codes, issuing to a list of customers): its progress and result."""

    __tablename__ = "promotions_issue_run"

    template_id: Mapped[int] = mapped_column(BigId, ForeignKey("promotions_coupon_template.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "codes" | "customers"
    status: Mapped[str] = mapped_column(String(16))  # queued | running | done | failed
    total: Mapped[int] = mapped_column(Integer)
    done: Mapped[int] = mapped_column(Integer, default=0)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # over a limit, unknown customer ...
    customer_ids: Mapped[list[int]] = mapped_column(JSON, default=list)  # the targets of a "customers" run
    error: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[dt.datetime]
    finished_at: Mapped[dt.datetime | None]


class StatusChange(IdMixin, Base):
    """Every status move of a promotion, coupon template or campaign, by whom and why."""

    __tablename__ = "promotions_status_change"
    __table_args__ = (Index("ix_promotions_status_change_subject", "subject", "subject_id"),)

    subject: Mapped[str] = mapped_column(String(16))  # "promotion" | "coupon_template" | "campaign"
    subject_id: Mapped[int] = mapped_column(BigId)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime]


class Redemption(IdMixin, Base):
    """A promotion or coupon applied to an order, and what became of the order: the reports'
    source (orders, GMV, discount cost) without reading the orders domain."""

    __tablename__ = "promotions_redemption"
    __table_args__ = (UniqueConstraint("order_id", "code", name="uq_promotions_redemption_order_code"),)

    order_id: Mapped[int] = mapped_column(BigId)
    customer_id: Mapped[int] = mapped_column(BigId)
    code: Mapped[str] = mapped_column(String(80))  # the adjustment's code: "promotion:7", "coupon:42"
    promotion_id: Mapped[int | None] = mapped_column(BigId, index=True)
    coupon_template_id: Mapped[int | None] = mapped_column(BigId, index=True)
    campaign_id: Mapped[int | None] = mapped_column(BigId, index=True)
    discount_amount: Mapped[int] = mapped_column(BigInteger)
    order_goods_amount: Mapped[int] = mapped_column(BigInteger)  # the order's goods after discounts
    order_total_amount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # placed | paid | cancelled | refunded
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class CustomerStat(Base):
    """What promotions knows of a customer's orders (kept from order events): first-order
    conditions, first-order coupons and win-back."""

    __tablename__ = "promotions_customer_stat"

    customer_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    paid_orders: Mapped[int] = mapped_column(Integer, default=0)
    last_paid_at: Mapped[dt.datetime | None]
    last_seen_at: Mapped[dt.datetime | None]
