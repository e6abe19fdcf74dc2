"""Staff stock operations (receipts, adjustments, transfers, safety stock) and stock reads.

Every operation is audited and leaves ledger entries; a refused operation changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity
from mercato.core import clock, idempotency
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.inventory.errors import BelowReserved, InsufficientStock, SameWarehouse, WarehouseInactive
from mercato.inventory.models import LedgerEntry, Stock, Warehouse
from mercato.inventory.schemas import (
    AdjustStock,
    LedgerEntryRead,
    LedgerKind,
    ReceiveStock,
    SetSafetyStock,
    StockRead,
    TransferStock,
)
from mercato.inventory.service.levels import apply_change, ensure_stock_row
from mercato.inventory.service.warehouses import get_warehouse


def _read(row: Stock) -> StockRead:
    available = row.on_hand - row.reserved
    return StockRead(
        sku_id=row.sku_id,
        warehouse_id=row.warehouse_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        available=available,
        safety_stock=row.safety_stock,
        is_low=available <= row.safety_stock,
        updated_at=row.updated_at,
    )


async def _stock(session: AsyncSession, sku_id: int, warehouse_id: int) -> StockRead:
    row = (
        await session.execute(
            select(Stock)
            .where(Stock.sku_id == sku_id, Stock.warehouse_id == warehouse_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one()
    return _read(row)


async def _check_target(session: AsyncSession, sku_id: int, warehouse_id: int) -> None:
    """Raises: SkuNotFound (404), WarehouseNotFound (404), WarehouseInactive (409)."""
    await catalog.get_sku_refs(session, sku_ids=[sku_id])
    warehouse = await get_warehouse(session, warehouse_id=warehouse_id)
    if not warehouse.is_active:
        raise WarehouseInactive()


RECEIPT_SCOPE = "inventory.receipt"


async def receive_stock(
    session: AsyncSession, *, data: ReceiveStock, actor: identity.Actor, idempotency_key: str | None = None
) -> StockRead:
    """Goods arrived: on hand goes up.

    With an ``idempotency_key`` (the API's Idempotency-Key, the console form's submission id) a
    retry or a double submit books nothing more and returns the stock as the first booking left it.

    Raises:
        SkuNotFound, WarehouseNotFound, WarehouseInactive, IdempotencyKeyReused (409): the key was
        used for another receipt.
    """
    return await idempotency.run_once(
        session,
        scope=RECEIPT_SCOPE,
        key=idempotency_key,
        payload=data.model_dump(mode="json"),
        model=StockRead,
        act=lambda: _receive(session, data=data, actor=actor),
    )


async def _receive(session: AsyncSession, *, data: ReceiveStock, actor: identity.Actor) -> StockRead:
    await _check_target(session, data.sku_id, data.warehouse_id)
    await ensure_stock_row(session, sku_id=data.sku_id, warehouse_id=data.warehouse_id)
    change = await apply_change(
        session,
        sku_id=data.sku_id,
        warehouse_id=data.warehouse_id,
        kind=LedgerKind.receipt,
        on_hand_delta=data.quantity,
        reason=data.reason,
        reference=data.reference,
        actor_label=actor.label,
    )
    assert change is not None  # adding units to an existing row always keeps the invariants
    await identity.record_audit(
        session,
        actor=actor,
        action="stock.receive",
        object_type="stock",
        object_id=f"{data.sku_id}@{data.warehouse_id}",
        before={"on_hand": change.on_hand - data.quantity},
        after={"on_hand": change.on_hand, "reference": data.reference},
    )
    return await _stock(session, data.sku_id, data.warehouse_id)


async def adjust_stock(session: AsyncSession, *, data: AdjustStock, actor: identity.Actor) -> StockRead:
    """Correct on hand by ``delta`` with a reason (stocktake, damage ...).

    Raises:
        SkuNotFound, WarehouseNotFound, BelowReserved (409): on hand would fall below the units
        reserved for orders (or below zero).
    """
    await catalog.get_sku_refs(session, sku_ids=[data.sku_id])
    await get_warehouse(session, warehouse_id=data.warehouse_id)
    await ensure_stock_row(session, sku_id=data.sku_id, warehouse_id=data.warehouse_id)
    reason = f"{data.reason}: {data.note}" if data.note else str(data.reason)
    change = await apply_change(
        session,
        sku_id=data.sku_id,
        warehouse_id=data.warehouse_id,
        kind=LedgerKind.adjustment,
        on_hand_delta=data.delta,
        reason=reason,
        actor_label=actor.label,
    )
    if change is None:
        raise BelowReserved()
    await identity.record_audit(
        session,
        actor=actor,
        action="stock.adjust",
        object_type="stock",
        object_id=f"{data.sku_id}@{data.warehouse_id}",
        before={"on_hand": change.on_hand - data.delta},
        after={"on_hand": change.on_hand, "reason": reason},
    )
    return await _stock(session, data.sku_id, data.warehouse_id)


async def transfer_stock(
    session: AsyncSession, *, data: TransferStock, actor: identity.Actor
) -> tuple[StockRead, StockRead]:
    """Move available units between warehouses (booked out and in at once; no transit state).

    Raises:
        SameWarehouse (422), SkuNotFound, WarehouseNotFound, WarehouseInactive (destination),
        InsufficientStock (409): the source has fewer available units.
    """
    if data.from_warehouse_id == data.to_warehouse_id:
        raise SameWarehouse()
    await catalog.get_sku_refs(session, sku_ids=[data.sku_id])
    await get_warehouse(session, warehouse_id=data.from_warehouse_id)
    await _check_target(session, data.sku_id, data.to_warehouse_id)
    reference = f"transfer:{uuid.uuid4().hex[:16]}"
    out = await apply_change(
        session,
        sku_id=data.sku_id,
        warehouse_id=data.from_warehouse_id,
        kind=LedgerKind.transfer_out,
        on_hand_delta=-data.quantity,
        reason=data.reason,
        reference=reference,
        actor_label=actor.label,
    )
    if out is None:
        raise InsufficientStock(sku_id=data.sku_id)
    await ensure_stock_row(session, sku_id=data.sku_id, warehouse_id=data.to_warehouse_id)
    await apply_change(
        session,
        sku_id=data.sku_id,
        warehouse_id=data.to_warehouse_id,
        kind=LedgerKind.transfer_in,
        on_hand_delta=data.quantity,
        reason=data.reason,
        reference=reference,
        actor_label=actor.label,
    )
    await identity.record_audit(
        session,
        actor=actor,
        action="stock.transfer",
        object_type="stock",
        object_id=f"{data.sku_id}@{data.from_warehouse_id}",
        after={"to_warehouse_id": data.to_warehouse_id, "quantity": data.quantity, "reference": reference},
    )
    return (
        await _stock(session, data.sku_id, data.from_warehouse_id),
        await _stock(session, data.sku_id, data.to_warehouse_id),
    )


async def set_safety_stock(
    session: AsyncSession, *, data: SetSafetyStock, actor: identity.Actor
) -> StockRead:
    """Set the low-stock line of a SKU in a warehouse.

    Raises:
        SkuNotFound, WarehouseNotFound.
    """
    await catalog.get_sku_refs(session, sku_ids=[data.sku_id])
    await get_warehouse(session, warehouse_id=data.warehouse_id)
    await ensure_stock_row(session, sku_id=data.sku_id, warehouse_id=data.warehouse_id)
    before = await _stock(session, data.sku_id, data.warehouse_id)
    await session.execute(
        update(Stock)
        .where(Stock.sku_id == data.sku_id, Stock.warehouse_id == data.warehouse_id)
        .values(safety_stock=data.safety_stock, updated_at=clock.now())
    )
    after = await _stock(session, data.sku_id, data.warehouse_id)
    await identity.record_audit(
        session,
        actor=actor,
        action="stock.set_safety",
        object_type="stock",
        object_id=f"{data.sku_id}@{data.warehouse_id}",
        before={"safety_stock": before.safety_stock},
        after={"safety_stock": after.safety_stock},
    )
    return after


async def list_stock(
    session: AsyncSession,
    *,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    low_only: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
    sku_ids: Collection[int] | None = None,
) -> Page[StockRead]:
    """Stock rows, most recently changed first by id order; ``low_only`` gives the low-stock list
    (available at or below safety stock, in active warehouses); ``sku_ids`` keeps the rows of
    these SKUs only (an empty collection finds nothing).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    stmt = select(Stock).order_by(Stock.id.desc()).limit(size + 1)
    after = id_cursor(cursor)
    if after is not None:
        stmt = stmt.where(Stock.id < after)
    if sku_id is not None:
        stmt = stmt.where(Stock.sku_id == sku_id)
    if warehouse_id is not None:
        stmt = stmt.where(Stock.warehouse_id == warehouse_id)
    if sku_ids is not None:
        wanted = sorted(set(sku_ids))
        if not wanted:
            return Page[StockRead](items=[], next_cursor=None)
        stmt = stmt.where(Stock.sku_id.in_(wanted))
    if low_only:
        stmt = _low(stmt)
    rows = list((await session.execute(stmt)).scalars())
    items = [_read(row) for row in rows[:size]]
    return Page[StockRead](
        items=items, next_cursor=encode_cursor(rows[size - 1].id) if len(rows) > size else None
    )


def _low(stmt: Select[Any]) -> Select[Any]:
    """Only the low-stock rows: available at or below safety stock, in active warehouses."""
    return stmt.join(Warehouse, Warehouse.id == Stock.warehouse_id).where(
        Warehouse.is_active.is_(True), Stock.on_hand - Stock.reserved <= Stock.safety_stock
    )


async def count_low_stock(session: AsyncSession) -> int:
    """How many stock rows are low (the console's to-do): the rows ``list_stock(low_only=True)``
    lists."""
    return int((await session.execute(_low(select(func.count()).select_from(Stock)))).scalar_one())


async def get_stock_levels(session: AsyncSession, *, sku_ids: list[int]) -> dict[int, list[StockRead]]:
    """Every warehouse's level for each SKU (SKUs without stock rows map to an empty list)."""
    found: dict[int, list[StockRead]] = {sku_id: [] for sku_id in sku_ids}
    if not sku_ids:
        return found
    rows = (
        await session.execute(select(Stock).where(Stock.sku_id.in_(sku_ids)).order_by(Stock.warehouse_id))
    ).scalars()
    for row in rows:
        found[row.sku_id].append(_read(row))
    return found


async def list_ledger(
    session: AsyncSession,
    *,
    sku_id: int | None = None,
    warehouse_id: int | None = None,
    reference: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
    kind: LedgerKind | None = None,
) -> Page[LedgerEntryRead]:
    """Ledger entries, newest first; ``kind`` keeps one kind of movement (receipts, transfers ...).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    stmt = select(LedgerEntry).order_by(LedgerEntry.id.desc()).limit(size + 1)
    after = id_cursor(cursor)
    if after is not None:
        stmt = stmt.where(LedgerEntry.id < after)
    if sku_id is not None:
        stmt = stmt.where(LedgerEntry.sku_id == sku_id)
    if warehouse_id is not None:
        stmt = stmt.where(LedgerEntry.warehouse_id == warehouse_id)
    if reference:
        stmt = stmt.where(LedgerEntry.reference == reference)
    if kind is not None:
        stmt = stmt.where(LedgerEntry.kind == kind.value)
    rows = list((await session.execute(stmt)).scalars())
    items = [LedgerEntryRead.model_validate(row) for row in rows[:size]]
    return Page[LedgerEntryRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )
