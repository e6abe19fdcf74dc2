"""Private: shop tables. Other packages use ``mercato.shop``'s service API instead."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, IdMixin


class ShopSettings(Base):
    """The shop's one settings row (``id`` 1): its name and look, how customers reach it, its
    languages and time zone, the order rules and which payment methods are switched off.

    Absent until the first save: the defaults come from the environment (``MERCATO_*``).
    """

    __tablename__ = "shop_settings"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("order_pay_minutes >= 1", name="pay_minutes"),
        CheckConstraint("order_auto_complete_days >= 1", name="auto_complete_days"),
        CheckConstraint("aftersales_window_days >= 1", name="aftersales_window_days"),
        CheckConstraint("version >= 0", name="version"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    logo_key: Mapped[str | None] = mapped_column(String(200))  # core.storage key
    favicon_key: Mapped[str | None] = mapped_column(String(200))
    brand_color: Mapped[str] = mapped_column(String(7), default="")  # "#RRGGBB"; "" = the stylesheet's
    service_phone: Mapped[str] = mapped_column(String(30), default="")
    service_hours: Mapped[str] = mapped_column(String(60), default="")
    service_hours_en: Mapped[str] = mapped_column(String(60), default="")
    icp_number: Mapped[str] = mapped_column(String(40), default="")
    sms_signature: Mapped[str] = mapped_column(String(12), default="")
    timezone: Mapped[str] = mapped_column(String(64))
    default_locale: Mapped[str] = mapped_column(String(10))
    enabled_locales: Mapped[list[str]] = mapped_column(JSON)
    order_pay_minutes: Mapped[int] = mapped_column(Integer)
    order_auto_complete_days: Mapped[int] = mapped_column(Integer)
    aftersales_window_days: Mapped[int] = mapped_column(Integer)
    payment_methods_off: Mapped[list[str]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer)  # +1 on every save (the theme stylesheet's URL)
    updated_at: Mapped[dt.datetime]


class LegalPage(IdMixin, Base):
    """One version of a legal page (privacy policy, terms, after-sales policy), in Chinese and
    English. Every save adds a version; the newest is the page shown, and a customer's consent
    names the privacy policy's version."""

    __tablename__ = "shop_legal_page"
    __table_args__ = (
        UniqueConstraint("kind", "version"),
        CheckConstraint("version >= 1", name="version"),
    )

    kind: Mapped[str] = mapped_column(String(20))  # LegalKind
    version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(120))  # the actor's label
    created_at: Mapped[dt.datetime]
