"""Public catalog events."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class ProductListed(DomainEvent):
    """A product went on sale (approved by a reviewer or the automatic checks, or put back on sale)."""

    name = "catalog.product_listed.v1"
    product_id: int
    category_id: int


@dataclass(frozen=True, kw_only=True)
class ProductDelisted(DomainEvent):
    """A product left the storefront (taken off sale); carts and search drop it."""

    name = "catalog.product_delisted.v1"
    product_id: int
    reason: str
