"""Inventory administration: warehouses, stock levels, receipts, adjustments, transfers, safety
stock, the ledger, the low-stock list, holds by reference, warehouse choice and verification."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, status

from mercato import catalog, inventory
from mercato.api.deps import DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.idempotency import IdempotencyKeyInvalid, IdempotencyKeyReused
from mercato.core.pagination import InvalidCursor, Page
from mercato.core.schemas import ReadModel
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/admin/inventory", tags=["inventory"])

Reader = Annotated[StaffAuth, Depends(require("inventory.read"))]
Writer = Annotated[StaffAuth, Depends(require("inventory.write"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
OptionalId = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A retry with the same key books nothing more and answers as the first request",
    ),
]


class Transfer(ReadModel):
    source: inventory.StockRead
    destination: inventory.StockRead


@router.get("/warehouses")
async def list_warehouses(auth: Reader, session: DbSession) -> list[inventory.WarehouseRead]:
    return await inventory.list_warehouses(session)


@router.post("/warehouses", status_code=status.HTTP_201_CREATED)
@raises(inventory.WarehouseCodeTaken)
async def create_warehouse(
    data: inventory.WarehouseWrite, auth: Writer, session: DbSession
) -> inventory.WarehouseRead:
    """Create a warehouse: regional (区域仓), front (前置仓), store (门店) or dropship (一件代发)."""
    return await inventory.create_warehouse(session, data=data, actor=auth.actor)


@router.get("/warehouses/{warehouse_id}")
@raises(inventory.WarehouseNotFound)
async def get_warehouse(warehouse_id: Id, auth: Reader, session: DbSession) -> inventory.WarehouseRead:
    return await inventory.get_warehouse(session, warehouse_id=warehouse_id)


@router.patch("/warehouses/{warehouse_id}")
@raises(inventory.WarehouseNotFound)
async def update_warehouse(
    warehouse_id: Id, data: inventory.WarehouseUpdate, auth: Writer, session: DbSession
) -> inventory.WarehouseRead:
    return await inventory.update_warehouse(session, warehouse_id=warehouse_id, data=data, actor=auth.actor)


@router.get("/stock")
@raises(InvalidCursor)
async def list_stock(
    auth: Reader,
    session: DbSession,
    sku_id: OptionalId = None,
    warehouse_id: OptionalId = None,
    low_only: Annotated[bool, Query(description="Only rows at or below their safety stock")] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[inventory.StockRead]:
    return await inventory.list_stock(
        session, sku_id=sku_id, warehouse_id=warehouse_id, low_only=low_only, cursor=cursor, limit=limit
    )


@router.post("/receipts")
@raises(
    catalog.SkuNotFound,
    inventory.WarehouseNotFound,
    inventory.WarehouseInactive,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
)
async def receive_stock(
    data: inventory.ReceiveStock, auth: Writer, session: DbSession, idempotency_key: IdempotencyKey = None
) -> inventory.StockRead:
    """Book goods in: on hand goes up by the quantity. A retry with the same Idempotency-Key
    books nothing more and answers as the first request did."""
    return await inventory.receive_stock(
        session, data=data, actor=auth.actor, idempotency_key=idempotency_key
    )


@router.post("/adjustments")
@raises(catalog.SkuNotFound, inventory.WarehouseNotFound, inventory.BelowReserved)
async def adjust_stock(data: inventory.AdjustStock, auth: Writer, session: DbSession) -> inventory.StockRead:
    """Correct on hand with a reason; it can never fall below the units reserved for orders."""
    return await inventory.adjust_stock(session, data=data, actor=auth.actor)


@router.post("/transfers")
@raises(
    inventory.SameWarehouse,
    catalog.SkuNotFound,
    inventory.WarehouseNotFound,
    inventory.WarehouseInactive,
    inventory.InsufficientStock,
)
async def transfer_stock(data: inventory.TransferStock, auth: Writer, session: DbSession) -> Transfer:
    """Move available units from one warehouse to another."""
    source, destination = await inventory.transfer_stock(session, data=data, actor=auth.actor)
    return Transfer(source=source, destination=destination)


@router.put("/safety-stock")
@raises(catalog.SkuNotFound, inventory.WarehouseNotFound)
async def set_safety_stock(
    data: inventory.SetSafetyStock, auth: Writer, session: DbSession
) -> inventory.StockRead:
    return await inventory.set_safety_stock(session, data=data, actor=auth.actor)


@router.get("/ledger")
@raises(InvalidCursor)
async def list_ledger(
    auth: Reader,
    session: DbSession,
    sku_id: OptionalId = None,
    warehouse_id: OptionalId = None,
    reference: Annotated[str | None, Query(max_length=80)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[inventory.LedgerEntryRead]:
    """Every stock change, newest first."""
    return await inventory.list_ledger(
        session, sku_id=sku_id, warehouse_id=warehouse_id, reference=reference, cursor=cursor, limit=limit
    )


@router.get("/reservations")
async def list_reservations(
    auth: Reader,
    session: DbSession,
    reference: Annotated[str, Query(min_length=1, max_length=80)],
) -> list[inventory.ReservationRead]:
    return await inventory.list_reservations(session, reference=reference)


@router.post("/reservations/release")
async def release_reservations(
    data: inventory.ReleaseReservations, auth: Writer, session: DbSession
) -> list[inventory.ReservationRead]:
    """Give back every active hold of a reference by hand (a stuck order); a repeat is a no-op."""
    return await inventory.release_reservations(
        session, reference=data.reference, reason=f"released by {auth.actor.label}"
    )


@router.post("/allocations")
@raises(inventory.NotDeliverable, inventory.NotAtStore, inventory.InsufficientStock)
async def allocate(
    data: inventory.AllocationRequest, auth: Reader, session: DbSession
) -> list[inventory.Allocation]:
    """Which warehouses would ship these lines to this province (a proposal; nothing is held)."""
    return await inventory.allocate(session, lines=data.lines, province=data.province)


@router.get("/verify")
async def verify_stock(auth: Reader, session: DbSession) -> inventory.VerifyReport:
    """Check that every stock level equals its ledger and its active holds."""
    return await inventory.verify_stock(session)
