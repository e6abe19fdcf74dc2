"""Catalog: categories, brands, product types and attributes, products (SPU) and SKUs, media,
the listing workflow with its compliance checks, and the storefront read API.

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- references for other domains: ``get_sku_refs``; ``apply_stock_level`` (the stock read model,
  fed by ``inventory.stock_level_changed`` through ``handlers.on_stock_level_changed``)

Events emitted: none yet. Events consumed: ``inventory.stock_level_changed.v1``.
Depends on: core, identity (audit). Glossary: CONTEXT.md (商品, SPU, SKU, 类目, 品牌, 上架审核).
"""

from mercato.catalog.errors import SkuNotFound
from mercato.catalog.schemas import SkuRef
from mercato.catalog.service.references import apply_stock_level, get_sku_refs

__all__ = ["SkuNotFound", "SkuRef", "apply_stock_level", "get_sku_refs"]
