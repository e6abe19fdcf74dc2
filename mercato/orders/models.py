"""Private: order tables. Other packages use ``mercato.orders``'s service API instead.

An order freezes what was bought: titles, specs, prices and the address are copied, never
joined, so later catalog changes cannot rewrite history. It is split into sub-orders, one per
shipping warehouse, under one payment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Order(IdMixin, Base):
    __tablename__ = "orders_order"
    __table_args__ = (
        Index("ix_orders_order_customer", "customer_id", "id"),
        Index("ix_orders_order_status_pay_by", "status", "pay_by"),
        Index("ix_orders_order_status_delivered_at", "status", "delivered_at"),
        Index("ix_orders_order_placed_at", "placed_at"),
        CheckConstraint("total_amount >= 0", name="total_amount"),
    )

    number: Mapped[str] = mapped_column(String(32), unique=True)  # shown to people
    source_key: Mapped[str] = mapped_column(String(200), unique=True)  # idempotency: one order per key
    customer_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(24))  # see states.py
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_amount: Mapped[int] = mapped_column(BigInteger)
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    address: Mapped[dict[str, Any]] = mapped_column(JSON)  # snapshot: recipient, phone, region, detail
    delivery: Mapped[str] = mapped_column(String(20))
    slot_starts_at: Mapped[dt.datetime | None]  # scheduled delivery (定时达): the chosen window
    slot_ends_at: Mapped[dt.datetime | None]
    pickup_store_id: Mapped[int | None] = mapped_column(BigId)  # store pickup: the store warehouse
    invoice: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the invoice request, if any
    note: Mapped[str] = mapped_column(String(200), default="")
    pay_by: Mapped[dt.datetime]  # unpaid after this: cancelled, stock released
    placed_at: Mapped[dt.datetime]
    paid_at: Mapped[dt.datetime | None]
    payment_id: Mapped[int | None] = mapped_column(BigId)
    shipped_at: Mapped[dt.datetime | None]  # every sub-order has left
    delivered_at: Mapped[dt.datetime | None]  # every sub-order has arrived; completes N days later
    closed_at: Mapped[dt.datetime | None]  # cancelled or completed
    updated_at: Mapped[dt.datetime]
    # every applied promotion and coupon: [{source, code, name, target (lines|shipping), amount}]
    adjustments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    coupon_id: Mapped[int | None] = mapped_column(BigId)  # the coupon locked for (then used by) the order
    # a 满赠 gift was reached but not in stock for it: the order went without, and says so
    gift_unavailable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # placed at a social play's price (秒杀, 拼团, 砍价): its code, e.g. "flash:12"; "" otherwise
    deal: Mapped[str] = mapped_column(String(40), default="", index=True)
    # paid but not to be shipped yet: a group-buying order waits for its group (待成团); cleared
    # by ``release_ship_hold``
    ship_hold: Mapped[bool] = mapped_column(Boolean, default=False)


class SubOrder(IdMixin, Base):
    """The part of an order shipped from one warehouse."""

    __tablename__ = "orders_sub_order"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders_order.id", ondelete="CASCADE"), index=True
    )
    warehouse_id: Mapped[int] = mapped_column(BigId)
    status: Mapped[str] = mapped_column(String(24))
    goods_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_amount: Mapped[int] = mapped_column(BigInteger)
    shipped_at: Mapped[dt.datetime | None]
    delivered_at: Mapped[dt.datetime | None]


class OrderLine(IdMixin, Base):
    """A SKU in a sub-order, with everything the shopper saw frozen."""

    __tablename__ = "orders_line"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity"),
        CheckConstraint("refunded_quantity >= 0 AND refunded_quantity <= quantity", name="refunded_quantity"),
    )

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders_order.id", ondelete="CASCADE"), index=True
    )
    sub_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("orders_sub_order.id", ondelete="CASCADE"))
    sku_id: Mapped[int] = mapped_column(BigId, index=True)
    product_id: Mapped[int] = mapped_column(BigId)
    sku_code: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120))
    spec: Mapped[dict[str, str]] = mapped_column(JSON)
    image_url: Mapped[str | None] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    # units refunded before they shipped: they no longer ship and their stock went back on sale
    refunded_quantity: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    list_unit_price_amount: Mapped[int] = mapped_column(BigInteger)
    unit_price_amount: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger)
    total_amount: Mapped[int] = mapped_column(BigInteger)
    tax_amount: Mapped[int] = mapped_column(BigInteger)
    # this line's share of each discount: [{code, name, amount}], summing to discount_amount
    discounts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_gift: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())  # 满赠, zero price


class OrderStatusChange(IdMixin, Base):
    """One transition of an order, or of one of its sub-orders: who, when, from, to, why."""

    __tablename__ = "orders_status_change"

    order_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("orders_order.id", ondelete="CASCADE"), index=True
    )
    sub_order_id: Mapped[int | None] = mapped_column(BigId)  # set when only that sub-order moved
    from_status: Mapped[str] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime]
