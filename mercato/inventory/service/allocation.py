"""Warehouse choice for a destination: which warehouses a line ships from.

Rules, in order: the warehouse must be active, serve the destination province and hold
available units; one warehouse that can ship the whole line beats splitting it; among equals the
lowest ``priority``, then the lowest handling ``cost_amount``, then the oldest warehouse wins.
When no single warehouse can, the line is split across warehouses in that order.

For store pickup (到店自提) the shopper names the store: only that warehouse is considered,
whatever region it serves, and a line it cannot hold is refused rather than split.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.inventory.errors import InsufficientStock, NotAtStore, NotDeliverable
from mercato.inventory.models import Stock
from mercato.inventory.schemas import Allocation, DemandLine, WarehouseKind, WarehouseRead
from mercato.inventory.service.warehouses import list_warehouses


def choose_warehouses(
    *,
    lines: Sequence[DemandLine],
    province: str,
    warehouses: Sequence[WarehouseRead],
    available: Mapping[tuple[int, int], int],
    pickup_at: int | None = None,
) -> list[Allocation]:
    """Pure: allocate every line, or raise.

    ``available`` maps (sku_id, warehouse_id) to available units; ``pickup_at`` restricts the
    choice to that one warehouse (store pickup).

    Raises:
        NotDeliverable: no active warehouse serving ``province`` carries the SKU (has a stock row).
        NotAtStore: the pickup store does not carry the SKU.
        InsufficientStock: together they have fewer units than the line needs.
    """
    demand: dict[int, int] = {}
    for line in lines:
        demand[line.sku_id] = demand.get(line.sku_id, 0) + line.quantity
    serving = sorted(
        (
            w
            for w in warehouses
            if w.is_active and (w.id == pickup_at if pickup_at is not None else w.serves(province))
        ),
        key=lambda w: (w.priority, w.cost_amount, w.id),
    )
    allocations: list[Allocation] = []
    for sku_id, quantity in demand.items():
        carried = [(w, available[(sku_id, w.id)]) for w in serving if (sku_id, w.id) in available]
        if not carried and pickup_at is not None:
            raise NotAtStore(sku_id=sku_id)
        if not carried:  # no warehouse serving the destination carries the SKU at all
            raise NotDeliverable(sku_id=sku_id, province=province)
        stocked = [(w, units) for w, units in carried if units > 0]
        if not stocked:
            raise InsufficientStock(sku_id=sku_id)  # sold out where it would ship from
        whole = next((w for w, units in stocked if units >= quantity), None)
        if whole is not None:
            allocations.append(Allocation(sku_id=sku_id, warehouse_id=whole.id, quantity=quantity))
            continue
        if sum(units for _w, units in stocked) < quantity:
            raise InsufficientStock(sku_id=sku_id)
        left = quantity
        for warehouse, units in stocked:
            take = min(units, left)
            allocations.append(Allocation(sku_id=sku_id, warehouse_id=warehouse.id, quantity=take))
            left -= take
            if left == 0:
                break
    return allocations


async def allocate(
    session: AsyncSession, *, lines: Sequence[DemandLine], province: str, pickup_at: int | None = None
) -> list[Allocation]:
    """Choose warehouses for ``lines`` shipped to ``province`` (or picked up at the warehouse
    ``pickup_at``) from current stock.

    This is a proposal: reserving the allocations (``reserve_allocations``) is what holds units;
    if stock moved in between, the reservation answers ``inventory.insufficient_stock``.

    Raises:
        NotDeliverable, NotAtStore, InsufficientStock.
    """
    warehouses = await list_warehouses(session, active_only=True)
    sku_ids = sorted({line.sku_id for line in lines})
    rows = await session.execute(
        select(Stock.sku_id, Stock.warehouse_id, Stock.on_hand - Stock.reserved).where(
            Stock.sku_id.in_(sku_ids)
        )
    )
    available = {(sku_id, warehouse_id): int(units) for sku_id, warehouse_id, units in rows}
    return choose_warehouses(
        lines=lines, province=province, warehouses=warehouses, available=available, pickup_at=pickup_at
    )


async def stores_holding(session: AsyncSession, *, lines: Sequence[DemandLine]) -> list[WarehouseRead]:
    """The active stores (到店自提) whose available units cover every one of ``lines`` now, so
    a pickup there would be allocated; none for no lines. Like ``allocate``, a proposal: placing
    holds the units, or refuses if they went meanwhile."""
    demand: dict[int, int] = {}
    for line in lines:
        demand[line.sku_id] = demand.get(line.sku_id, 0) + line.quantity
    stores = [w for w in await list_warehouses(session, active_only=True) if w.kind is WarehouseKind.store]
    if not demand or not stores:
        return []
    rows = await session.execute(
        select(Stock.sku_id, Stock.warehouse_id, Stock.on_hand - Stock.reserved).where(
            Stock.sku_id.in_(sorted(demand)), Stock.warehouse_id.in_([w.id for w in stores])
        )
    )
    available = {(sku_id, warehouse_id): int(units) for sku_id, warehouse_id, units in rows}
    return [
        w
        for w in stores
        if all(available.get((sku_id, w.id), 0) >= quantity for sku_id, quantity in demand.items())
    ]
