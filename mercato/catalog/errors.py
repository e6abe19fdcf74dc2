"""Catalog errors (stable codes ``catalog.*``)."""

from __future__ import annotations

from mercato.core.errors import NotFound


class SkuNotFound(NotFound):
    code = "catalog.sku_not_found"
    message = "SKU not found: {sku_ids}."
