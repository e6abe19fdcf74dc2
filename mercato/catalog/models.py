"""Private: catalog tables. Other packages use ``mercato.catalog``'s service API instead.

Money columns are ``<name>_amount`` in minor units with one ``currency`` per row. The category
tree is an adjacency list plus a materialised ``path`` ("/1/4/9/") so "this category and its
descendants" is one indexed prefix match on both databases.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from mercato.core.db import Base, BigId, IdMixin


class Category(IdMixin, Base):
    """A node of the category tree (any depth, ordered by ``position`` among siblings)."""

    __tablename__ = "catalog_category"

    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("catalog_category.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    path: Mapped[str] = mapped_column(String(400), index=True)  # "/1/4/9/": ids from the root
    depth: Mapped[int] = mapped_column(Integer, default=0)
    is_high_risk: Mapped[bool] = mapped_column(Boolean, default=False)  # always manual review
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    seo_title: Mapped[str] = mapped_column(String(120), default="")
    seo_description: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class Brand(IdMixin, Base):
    """A brand, with its logo and the documents that authorise the shop to sell it."""

    __tablename__ = "catalog_brand"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(60), default="")
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    logo_key: Mapped[str | None] = mapped_column(String(200))  # a media storage key
    authorization_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    authorization_expires_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ProductType(IdMixin, Base):
    """Defines the attributes of its products: spec attributes generate SKUs, parameters are shown."""

    __tablename__ = "catalog_product_type"

    name: Mapped[str] = mapped_column(String(60), unique=True)
    name_en: Mapped[str] = mapped_column(String(60), default="")
    created_at: Mapped[dt.datetime]


class Attribute(IdMixin, Base):
    """An attribute of a product type: ``spec`` (colour, size: one value per SKU) or ``param``."""

    __tablename__ = "catalog_attribute"
    __table_args__ = (
        UniqueConstraint("product_type_id", "code"),
        CheckConstraint("kind IN ('spec', 'param')", name="kind"),
    )

    product_type_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product_type.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60), default="")
    kind: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer, default=0)


class AttributeValue(IdMixin, Base):
    """An allowed value of an attribute ("红色" / "Red")."""

    __tablename__ = "catalog_attribute_value"
    __table_args__ = (UniqueConstraint("attribute_id", "value"),)

    attribute_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_attribute.id", ondelete="CASCADE"), index=True
    )
    value: Mapped[str] = mapped_column(String(60))
    value_en: Mapped[str] = mapped_column(String(60), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)


class Product(IdMixin, Base):
    """A product (SPU). Its listing ``status`` changes only through the listing transition table."""

    __tablename__ = "catalog_product"
    __table_args__ = (
        Index("ix_catalog_product_status_category", "status", "category_id"),
        CheckConstraint("min_order_quantity >= 1", name="min_order_quantity"),
    )

    product_type_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product_type.id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_category.id", ondelete="RESTRICT"), index=True
    )
    brand_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("catalog_brand.id", ondelete="RESTRICT"), index=True
    )
    seller_id: Mapped[int | None] = mapped_column(BigId, index=True)  # None: the shop itself
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(120))
    title_en: Mapped[str] = mapped_column(String(120), default="")
    subtitle: Mapped[str] = mapped_column(String(200), default="")
    description_html: Mapped[str] = mapped_column(Text, default="")  # sanitised with nh3
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # parameter code -> value
    seo_title: Mapped[str] = mapped_column(String(120), default="")
    seo_description: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    min_order_quantity: Mapped[int] = mapped_column(Integer, default=1)  # B2B minimum
    is_presale: Mapped[bool] = mapped_column(Boolean, default=False)
    presale_ships_on: Mapped[dt.date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    # Read model for listing and sorting, kept by the catalog services from the SKUs:
    min_price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    max_price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    sales_count: Mapped[int] = mapped_column(Integer, default=0)
    in_stock: Mapped[bool] = mapped_column(Boolean, default=False)  # from inventory events
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]
    published_at: Mapped[dt.datetime | None]


class ProductImage(IdMixin, Base):
    """An uploaded product image and its thumbnail, by media storage key."""

    __tablename__ = "catalog_product_image"

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product.id", ondelete="CASCADE"), index=True
    )
    storage_key: Mapped[str] = mapped_column(String(200))
    thumbnail_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    alt: Mapped[str] = mapped_column(String(200), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime]


class SpecImage(IdMixin, Base):
    """The picture of one value of the product's picture-driving spec (the white hoodie's photo
    for colour=白色). A product's pictures follow one spec: its rows share ``attribute_code``.
    Removing the image removes the tie."""

    __tablename__ = "catalog_spec_image"
    __table_args__ = (UniqueConstraint("product_id", "attribute_code", "value"),)

    product_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_product.id", ondelete="CASCADE"))
    attribute_code: Mapped[str] = mapped_column(String(40))
    value: Mapped[str] = mapped_column(String(60))
    image_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product_image.id", ondelete="CASCADE"), index=True
    )


class PriceBreak(IdMixin, Base):
    """A quantity price break for B2B buyers: from ``min_quantity`` units, this unit price."""

    __tablename__ = "catalog_price_break"
    __table_args__ = (
        UniqueConstraint("sku_id", "min_quantity"),
        CheckConstraint("min_quantity >= 2", name="min_quantity"),
        CheckConstraint("unit_price_amount > 0", name="unit_price_amount"),
    )

    sku_id: Mapped[int] = mapped_column(BigId, ForeignKey("catalog_sku.id", ondelete="CASCADE"), index=True)
    min_quantity: Mapped[int] = mapped_column(Integer)
    unit_price_amount: Mapped[int] = mapped_column(BigInteger)


class Sku(IdMixin, Base):
    """A sellable variant: one combination of spec values (``spec_key`` is its canonical form).

    SKUs are never deleted once they exist (orders and the stock ledger refer to them): a spec
    value removed from the product disables its SKUs instead.
    """

    __tablename__ = "catalog_sku"
    __table_args__ = (
        UniqueConstraint("product_id", "spec_key"),
        CheckConstraint("price_amount >= 0", name="price_amount"),
        CheckConstraint("weight_grams >= 0", name="weight_grams"),
    )

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), unique=True)
    barcode: Mapped[str | None] = mapped_column(String(32), index=True)
    spec: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # attribute code -> value
    spec_key: Mapped[str] = mapped_column(String(400))  # "colour=红色;size=M", codes sorted
    currency: Mapped[str] = mapped_column(String(3))
    price_amount: Mapped[int] = mapped_column(BigInteger)
    market_price_amount: Mapped[int | None] = mapped_column(BigInteger)  # 划线价
    cost_price_amount: Mapped[int | None] = mapped_column(BigInteger)
    weight_grams: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | disabled
    # Read model of the SKU's sellable units over all warehouses, kept from inventory events;
    # ``stock_version`` (the ledger entry id behind the figure) drops out-of-order deliveries.
    available_quantity: Mapped[int] = mapped_column(Integer, default=0)
    stock_version: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[dt.datetime]
    updated_at: Mapped[dt.datetime]


class ListingStatusChange(IdMixin, Base):
    """One transition of a product's listing status: who, when, from, to, why, and check findings."""

    __tablename__ = "catalog_listing_status_change"

    product_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("catalog_product.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(BigId)
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    reason: Mapped[str] = mapped_column(String(500), default="")
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime]


class BannedTerm(IdMixin, Base):
    """A term listings may not use (China's Advertising Law art. 9(3) absolute terms, and more)."""

    __tablename__ = "catalog_banned_term"

    term: Mapped[str] = mapped_column(String(60), unique=True)
    language: Mapped[str] = mapped_column(String(10))  # zh | en
    rule: Mapped[str] = mapped_column(String(40), default="absolute_term")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime]
