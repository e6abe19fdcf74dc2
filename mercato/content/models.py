"""Private: content tables. Other packages use ``mercato.content``'s service API instead."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, IdMixin


class Banner(IdMixin, Base):
    """A home-page banner: an image linking to a page of the shop, shown while enabled and
    inside its optional time window, in ``position`` order."""

    __tablename__ = "content_banner"
    __table_args__ = (
        Index("ix_content_banner_is_enabled_position", "is_enabled", "position"),
        CheckConstraint("position >= 0", name="position"),
        CheckConstraint(
            "active_until IS NULL OR active_from IS NULL OR active_until > active_from", name="window"
        ),
    )

    title: Mapped[str] = mapped_column(String(80))
    title_en: Mapped[str] = mapped_column(String(80), default="")
    subtitle: Mapped[str] = mapped_column(String(160), default="")
    subtitle_en: Mapped[str] = mapped_column(String(160), default="")
    link: Mapped[str] = mapped_column(String(300))  # a path of this shop, e.g. /c/phones
    image_key: Mapped[str] = mapped_column(String(200))  # core.storage key
    image_width: Mapped[int] = mapped_column(Integer)
    image_height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    active_from: Mapped[dt.datetime | None]
    active_until: Mapped[dt.datetime | None]
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
