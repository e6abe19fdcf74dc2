"""Public inventory events."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class StockLevelChanged(DomainEvent):
    """A SKU's sellable units over all active warehouses changed (read models follow it).

    ``version`` is the id of the ledger entry behind the figure: a consumer keeps the highest.
    """

    name = "inventory.stock_level_changed.v1"
    sku_id: int
    available: int
    version: int


@dataclass(frozen=True, kw_only=True)
class StockRanLow(DomainEvent):
    """A SKU's available units in a warehouse fell to or below its safety stock."""

    name = "inventory.stock_ran_low.v1"
    sku_id: int
    warehouse_id: int
    available: int
    safety_stock: int
