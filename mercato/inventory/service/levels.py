"""The one way a stock level changes: a single conditional UPDATE plus its ledger entry.

Every operation (receipt, adjustment, transfer, reserve, release, expiry, shipment) is a pair of
deltas on ``(on_hand, reserved)``. The UPDATE applies them only if the invariants still hold
afterwards — ``0 <= reserved + dr <= on_hand + dh`` — so there is never a read-then-write and no
interleaving of concurrent requests can oversell: on PostgreSQL a competing UPDATE waits for the
row and re-checks the condition on the committed values; on SQLite writers are serialised by
``BEGIN IMMEDIATE``. The CHECK constraints on the table are the backstop.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.events import record_event
from mercato.inventory.events import StockLevelChanged, StockRanLow
from mercato.inventory.models import LedgerEntry, Stock, Warehouse
from mercato.inventory.schemas import LedgerKind


@dataclass(frozen=True)
class Change:
    """The outcome of one applied change."""

    ledger_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


async def ensure_stock_row(session: AsyncSession, *, sku_id: int, warehouse_id: int) -> None:
    """Create the (SKU, warehouse) row with zero levels unless it exists (one atomic statement)."""
    await insert_ignore(
        session,
        Stock.__table__,
        {
            "sku_id": sku_id,
            "warehouse_id": warehouse_id,
            "on_hand": 0,
            "reserved": 0,
            "safety_stock": 0,
            "updated_at": clock.now(),
        },
    )


async def apply_change(
    session: AsyncSession,
    *,
    sku_id: int,
    warehouse_id: int,
    kind: LedgerKind,
    on_hand_delta: int = 0,
    reserved_delta: int = 0,
    reason: str = "",
    reference: str = "",
    actor_label: str = "",
) -> Change | None:
    """Apply the deltas if the invariants hold afterwards; write the ledger entry and events.

    Returns ``None`` (and changes nothing) when the row does not exist or the change would break
    an invariant; the caller turns that into its own error (sold out, below reserved ...).
    """
    row = (
        await session.execute(
            update(Stock)
            .where(
                Stock.sku_id == sku_id,
                Stock.warehouse_id == warehouse_id,
                Stock.reserved + reserved_delta >= 0,
                Stock.on_hand + on_hand_delta >= Stock.reserved + reserved_delta,
            )
            .values(
                on_hand=Stock.on_hand + on_hand_delta,
                reserved=Stock.reserved + reserved_delta,
                updated_at=clock.now(),
            )
            .returning(Stock.on_hand, Stock.reserved, Stock.safety_stock)
        )
    ).one_or_none()
    if row is None:
        return None
    on_hand, reserved, safety_stock = row
    entry = LedgerEntry(
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        kind=str(kind),
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand,
        reserved_after=reserved,
        reason=reason,
        reference=reference,
        actor_label=actor_label,
        created_at=clock.now(),
    )
    session.add(entry)
    await session.flush()
    change = Change(ledger_id=entry.id, on_hand=on_hand, reserved=reserved)
    before = change.available - (on_hand_delta - reserved_delta)
    if change.available <= safety_stock < before:
        await record_event(
            session,
            StockRanLow(
                sku_id=sku_id,
                warehouse_id=warehouse_id,
                available=change.available,
                safety_stock=safety_stock,
            ),
        )
    if on_hand_delta != reserved_delta:  # available changed
        await record_event(
            session,
            StockLevelChanged(
                sku_id=sku_id, available=await sellable_units(session, sku_id=sku_id), version=entry.id
            ),
        )
    return change


async def sellable_units(session: AsyncSession, *, sku_id: int) -> int:
    """Available units of a SKU over all active warehouses."""
    total = (
        await session.execute(
            select(func.coalesce(func.sum(Stock.on_hand - Stock.reserved), 0))
            .join(Warehouse, Warehouse.id == Stock.warehouse_id)
            .where(Stock.sku_id == sku_id, Warehouse.is_active.is_(True))
        )
    ).scalar_one()
    return int(total)


async def available_units(session: AsyncSession, *, sku_ids: list[int]) -> dict[int, int]:
    """Available units of each SKU over all active warehouses (0 for SKUs without stock)."""
    found = dict.fromkeys(sku_ids, 0)
    if not sku_ids:
        return found
    rows = await session.execute(
        select(Stock.sku_id, func.sum(Stock.on_hand - Stock.reserved))
        .join(Warehouse, Warehouse.id == Stock.warehouse_id)
        .where(Stock.sku_id.in_(sku_ids), Warehouse.is_active.is_(True))
        .group_by(Stock.sku_id)
    )
    for sku_id, units in rows:
        found[sku_id] = int(units)
    return found
