"""Private: cart tables. Other packages use ``mercato.cart``'s service API instead.

A cart belongs to a customer or, for a guest, to whoever holds its token (kept only as a
SHA-256 digest). A customer has at most one active cart; a guest cart is merged into it at
sign-in.
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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Cart(IdMixin, Base):
    __tablename__ = "cart_cart"
    __table_args__ = (
        Index(
            "uq_cart_cart_active_customer",
            "customer_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )

    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)  # guests only
    customer_id: Mapped[int | None] = mapped_column(BigId, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")  # see states.py
    checkout_reference: Mapped[str | None] = mapped_column(String(80), index=True)  # "order:7" while frozen
    currency: Mapped[str] = mapped_column(String(3))
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    expires_at: Mapped[dt.datetime | None]  # guest carts are forgotten after a while


class CartLine(IdMixin, Base):
    __tablename__ = "cart_line"
    __table_args__ = (
        UniqueConstraint("cart_id", "sku_id"),
        CheckConstraint("quantity >= 1", name="quantity"),
    )

    cart_id: Mapped[int] = mapped_column(BigId, ForeignKey("cart_cart.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_sku.id", ondelete="CASCADE"))
    quantity: Mapped[int] = mapped_column(Integer)
    is_selected: Mapped[bool] = mapped_column(Boolean, default=True)  # ticked for checkout
    added_unit_price_amount: Mapped[int] = mapped_column(BigInteger)  # to tell "price changed"
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
