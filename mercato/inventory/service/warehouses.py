"""Warehouses: where stock is kept, the regions each serves, and its priority and cost."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.inventory.errors import WarehouseCodeTaken, WarehouseNotFound
from mercato.inventory.models import Warehouse
from mercato.inventory.schemas import WarehouseRead, WarehouseUpdate, WarehouseWrite


def _view(warehouse: WarehouseRead) -> dict[str, Any]:
    return warehouse.model_dump(mode="json", exclude={"id"})


def _regions(regions: list[str]) -> list[str]:
    cleaned = sorted({region.strip() for region in regions if region.strip()})
    return ["*"] if "*" in cleaned or not cleaned else cleaned


async def create_warehouse(
    session: AsyncSession, *, data: WarehouseWrite, actor: identity.Actor
) -> WarehouseRead:
    """Raises: WarehouseCodeTaken (409)."""
    now = clock.now()
    values = {
        **data.model_dump(),
        "kind": str(data.kind),
        "regions": _regions(data.regions),
        "is_active": True,
        "created_at": now,
        "updated_at": now,
    }
    if not await insert_ignore(session, Warehouse.__table__, values):
        raise WarehouseCodeTaken()
    row = (await session.execute(select(Warehouse).where(Warehouse.code == data.code))).scalar_one()
    warehouse = WarehouseRead.model_validate(row)
    await identity.record_audit(
        session,
        actor=actor,
        action="warehouse.create",
        object_type="warehouse",
        object_id=str(row.id),
        after=_view(warehouse),
    )
    return warehouse


async def _row(session: AsyncSession, warehouse_id: int) -> Warehouse:
    row = await session.get(Warehouse, warehouse_id)
    if row is None:
        raise WarehouseNotFound()
    return row


async def get_warehouse(session: AsyncSession, *, warehouse_id: int) -> WarehouseRead:
    """Raises: WarehouseNotFound."""
    return WarehouseRead.model_validate(await _row(session, warehouse_id))


async def list_warehouses(session: AsyncSession, *, active_only: bool = False) -> list[WarehouseRead]:
    """Every warehouse by priority (a shop has tens, not thousands: no pagination)."""
    stmt = select(Warehouse).order_by(Warehouse.priority, Warehouse.id)
    if active_only:
        stmt = stmt.where(Warehouse.is_active.is_(True))
    return [WarehouseRead.model_validate(row) for row in (await session.execute(stmt)).scalars()]


async def update_warehouse(
    session: AsyncSession, *, warehouse_id: int, data: WarehouseUpdate, actor: identity.Actor
) -> WarehouseRead:
    """Change a warehouse's name, address detail, regions, priority, cost or active flag.

    An inactive warehouse keeps its stock but is not offered for new orders.

    Raises:
        WarehouseNotFound.
    """
    row = await _row(session, warehouse_id)
    before = WarehouseRead.model_validate(row)
    changes = data.model_dump(exclude_none=True)
    if "regions" in changes:
        changes["regions"] = _regions(changes["regions"])
    for field, value in changes.items():
        setattr(row, field, value)
    row.updated_at = clock.now()
    await session.flush()
    after = WarehouseRead.model_validate(row)
    if after != before:
        await identity.record_audit(
            session,
            actor=actor,
            action="warehouse.update",
            object_type="warehouse",
            object_id=str(warehouse_id),
            before=_view(before),
            after=_view(after),
        )
    return after
