"""Inventory errors (stable codes ``inventory.*``)."""

from __future__ import annotations

from mercato.core.errors import Conflict, InvalidInput, NotFound


class WarehouseNotFound(NotFound):
    code = "inventory.warehouse_not_found"
    message = "Warehouse not found."


class WarehouseCodeTaken(Conflict):
    code = "inventory.warehouse_code_taken"
    message = "A warehouse with this code already exists."


class WarehouseInactive(Conflict):
    code = "inventory.warehouse_inactive"
    message = "The warehouse is not active."


class InsufficientStock(Conflict):
    """Not enough available units: the clean "sold out" answer, never a partial hold."""

    code = "inventory.insufficient_stock"
    message = "Not enough stock for SKU {sku_id}."


class BelowReserved(Conflict):
    code = "inventory.below_reserved"
    message = "On-hand stock cannot go below the units reserved for orders."


class SameWarehouse(InvalidInput):
    code = "inventory.same_warehouse"
    message = "A transfer needs two different warehouses."


class NotDeliverable(Conflict):
    code = "inventory.not_deliverable"
    message = "No warehouse can deliver SKU {sku_id} to {province}."


class NotAtStore(Conflict):
    code = "inventory.not_at_store"
    message = "SKU {sku_id} cannot be picked up at this store."


class StockImportRejected(InvalidInput):
    """A stock file with problems: nothing was imported. Each problem is a field error at
    ``("row", <row number>, <column>)`` (or ``("header", <column>)``): inventory.missing_column,
    inventory.unknown_column, inventory.required, inventory.invalid_quantity,
    catalog.sku_not_found, inventory.warehouse_not_found, inventory.duplicate_row,
    inventory.below_reserved."""

    code = "inventory.import_rejected"
    message = "The file has {count} problem(s); nothing was imported."


class StockChangedDuringImport(Conflict):
    """A level changed between the check and the write of a stock import (another writer)."""

    code = "inventory.stock_changed"
    message = "Stock changed while the file was being imported; nothing was imported. Try again."
