"""Inventory: warehouses, stock per SKU per warehouse, reservations, receipts, adjustments,
transfers, the append-only stock ledger, and warehouse choice for a destination.

Public API (service functions take an ``AsyncSession`` first, keyword arguments after, and return
schemas):

- warehouses: ``create_warehouse``, ``get_warehouse``, ``list_warehouses``, ``update_warehouse``
- staff stock operations (audited): ``receive_stock``, ``adjust_stock``, ``transfer_stock``,
  ``set_safety_stock``; reads: ``list_stock`` (``low_only`` for the low-stock list; ``count_low_stock``),
  ``get_stock_levels``, ``list_ledger``, ``sellable_units``, ``available_units`` (many SKUs),
  ``has_sellable_stock`` (any units to sell among SKUs: the listing review warns when not)
- orders: ``allocate`` (warehouse choice for a province), ``stores_holding`` (the stores a
  pickup of these lines could be allocated at), ``reserve_stock``,
  ``reserve_allocations`` (all or nothing), ``release_reservations``, ``release_units`` (part
  of a hold), ``consume_reservations``, ``keep_reservations`` (paid: the holds no longer
  expire), ``expire_reservations`` (the ``inventory-expire-reservations`` job),
  ``list_reservations``
- quota holds (``service/quotas.py``): ``carve_quota`` (units set aside for a flash sale's
  item), ``plan_from_hold`` / ``take_from_hold`` (an order takes units from it: one conditional
  UPDATE; released or expired, they go back to it while it lasts), ``held_units``, ``list_quota``
- ``verify_stock``: levels equal the ledger and the active holds (``mercato inventory verify``)
- spreadsheets (``service/spreadsheets.py``): ``import_stock`` (a stocktake from CSV/XLSX, all or
  nothing, each change an adjustment in the ledger; one ``stock.import`` audit entry),
  ``export_stock``

Invariant: ``0 <= reserved <= on_hand`` on every row, kept by single conditional UPDATEs (see
``service/levels.py``) and CHECK constraints: stock never goes negative, nothing is oversold.

Events emitted: ``StockLevelChanged``, ``StockRanLow``. Events consumed: none.
Depends on: core, identity (audit), catalog (SKU references). Glossary: CONTEXT.md (仓库, 前置仓,
库存, 预占, 安全库存, 库存流水).
"""

from mercato.inventory.errors import (
    BelowReserved,
    InsufficientStock,
    NotAtStore,
    NotDeliverable,
    SameWarehouse,
    StockChangedDuringImport,
    StockImportRejected,
    WarehouseCodeTaken,
    WarehouseInactive,
    WarehouseNotFound,
)
from mercato.inventory.events import StockLevelChanged, StockRanLow
from mercato.inventory.schemas import (
    AdjustmentReason,
    AdjustStock,
    Allocation,
    AllocationRequest,
    DemandLine,
    LedgerEntryRead,
    LedgerKind,
    ReceiveStock,
    ReleaseReservations,
    ReservationRead,
    ReservationStatus,
    SetSafetyStock,
    StockImportResult,
    StockRead,
    TransferStock,
    VerifyProblem,
    VerifyReport,
    WarehouseKind,
    WarehouseRead,
    WarehouseUpdate,
    WarehouseWrite,
)
from mercato.inventory.service.allocation import allocate, choose_warehouses, stores_holding
from mercato.inventory.service.levels import available_units, has_sellable_stock, sellable_units
from mercato.inventory.service.quotas import (
    carve_quota,
    held_units,
    list_quota,
    plan_from_hold,
    take_from_hold,
)
from mercato.inventory.service.reservations import (
    DEFAULT_HOLD,
    ReservationRace,
    consume_reservations,
    expire_reservations,
    keep_reservations,
    list_reservations,
    release_reservations,
    release_units,
    reserve_allocations,
    reserve_stock,
)
from mercato.inventory.service.spreadsheets import export_stock, import_stock
from mercato.inventory.service.stock import (
    adjust_stock,
    count_low_stock,
    get_stock_levels,
    list_ledger,
    list_stock,
    receive_stock,
    set_safety_stock,
    transfer_stock,
)
from mercato.inventory.service.verify import verify_stock
from mercato.inventory.service.warehouses import (
    create_warehouse,
    get_warehouse,
    list_warehouses,
    update_warehouse,
)

__all__ = [
    "DEFAULT_HOLD",
    "AdjustStock",
    "AdjustmentReason",
    "Allocation",
    "AllocationRequest",
    "BelowReserved",
    "DemandLine",
    "InsufficientStock",
    "LedgerEntryRead",
    "LedgerKind",
    "NotAtStore",
    "NotDeliverable",
    "ReceiveStock",
    "ReleaseReservations",
    "ReservationRace",
    "ReservationRead",
    "ReservationStatus",
    "SameWarehouse",
    "SetSafetyStock",
    "StockChangedDuringImport",
    "StockImportRejected",
    "StockImportResult",
    "StockLevelChanged",
    "StockRanLow",
    "StockRead",
    "TransferStock",
    "VerifyProblem",
    "VerifyReport",
    "WarehouseCodeTaken",
    "WarehouseInactive",
    "WarehouseKind",
    "WarehouseNotFound",
    "WarehouseRead",
    "WarehouseUpdate",
    "WarehouseWrite",
    "adjust_stock",
    "carve_quota",
    "held_units",
    "list_quota",
    "plan_from_hold",
    "take_from_hold",
    "allocate",
    "stores_holding",
    "available_units",
    "has_sellable_stock",
    "choose_warehouses",
    "consume_reservations",
    "create_warehouse",
    "expire_reservations",
    "export_stock",
    "get_stock_levels",
    "get_warehouse",
    "import_stock",
    "keep_reservations",
    "list_ledger",
    "list_reservations",
    "list_stock",
    "count_low_stock",
    "list_warehouses",
    "receive_stock",
    "release_reservations",
    "release_units",
    "reserve_allocations",
    "reserve_stock",
    "sellable_units",
    "set_safety_stock",
    "transfer_stock",
    "update_warehouse",
    "verify_stock",
]
