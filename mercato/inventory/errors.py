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
