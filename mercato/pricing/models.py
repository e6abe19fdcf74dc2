"""Private: pricing tables. Other packages use ``mercato.pricing``'s service API instead."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, IdMixin


class ShippingTemplateRow(IdMixin, Base):
    """A shipping template (运费模板); at most one is the shop's default."""

    __tablename__ = "pricing_shipping_template"
    __table_args__ = (
        Index(
            "uq_pricing_shipping_template_default",
            "is_default",
            unique=True,
            sqlite_where=text("is_default"),
            postgresql_where=text("is_default"),
        ),
    )

    name: Mapped[str] = mapped_column(String(60), unique=True)
    rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    express_surcharge_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
