"""The one way a stock level changes: a single conditional UPDATE plus its ledger entry.

Every operation (receipt, adjustment, transfer, reserve, release, expiry, shipment) is a pair of
deltas on ``(on_hand, reserved)``. The UPDATE applies them only if the invariants still hold
afterwards — ``0 <= reserved + dr <= on_hand + dh`` — so there is never a read-then-write and no
interleaving of concurrent requests can oversell: on PostgreSQL a competing UPDATE waits for the
row and re-checks the condition on the committed values; on SQLite writers are serialised by
``BEGIN IMMEDIATE``. The CHECK constraints on the table are the backstop.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.events import DomainEvent, record_event, record_events
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
        reason=reason[:200],  # a caller's note (an order's cancel reason…) is kept to the column
        reference=reference,
        actor_label=actor_label[:254],
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


@dataclass(frozen=True)
class ChangeRequest:
    """One change for ``apply_changes``."""

    sku_id: int
    warehouse_id: int
    on_hand_delta: int = 0
    reserved_delta: int = 0


async def apply_changes(
    session: AsyncSession,
    *,
    changes: Sequence[ChangeRequest],
    kind: LedgerKind,
    reason: str = "",
    reference: str = "",
    actor_label: str = "",
) -> list[Change | None]:
    """``apply_change`` for many rows at once (stocktake imports): the same conditional UPDATE per
    row, then every ledger row in one INSERT and the events in one flush — one
    ``StockLevelChanged`` per SKU, versioned by its last ledger entry.

    Returns one result per request, ``None`` where the invariants refused the change (nothing
    else is written for it); the caller decides whether that aborts the whole batch.
    """
    now = clock.now()
    applied: list[tuple[int, ChangeRequest, int, int, int]] = []
    results: list[Change | None] = []
    for index, request in enumerate(changes):
        row = (
            await session.execute(
                update(Stock)
                .where(
                    Stock.sku_id == request.sku_id,
                    Stock.warehouse_id == request.warehouse_id,
                    Stock.reserved + request.reserved_delta >= 0,
                    Stock.on_hand + request.on_hand_delta >= Stock.reserved + request.reserved_delta,
                )
                .values(
                    on_hand=Stock.on_hand + request.on_hand_delta,
                    reserved=Stock.reserved + request.reserved_delta,
                    updated_at=now,
                )
                .returning(Stock.on_hand, Stock.reserved, Stock.safety_stock)
                .execution_options(synchronize_session=False)
            )
        ).one_or_none()
        results.append(None)
        if row is not None:
            applied.append((index, request, row[0], row[1], row[2]))
    if not applied:
        return results
    ids = (
        (
            await session.execute(
                insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True),
                [
                    {
                        "sku_id": request.sku_id,
                        "warehouse_id": request.warehouse_id,
                        "kind": str(kind),
                        "on_hand_delta": request.on_hand_delta,
                        "reserved_delta": request.reserved_delta,
                        "on_hand_after": on_hand,
                        "reserved_after": reserved,
                        "reason": reason,
                        "reference": reference,
                        "actor_label": actor_label,
                        "created_at": now,
                    }
                    for _index, request, on_hand, reserved, _safety in applied
                ],
            )
        )
        .scalars()
        .all()
    )
    events: list[DomainEvent] = []
    versions: dict[int, int] = {}
    for (index, request, on_hand, reserved, safety), ledger_id in zip(applied, ids, strict=True):
        change = Change(ledger_id=ledger_id, on_hand=on_hand, reserved=reserved)
        results[index] = change
        before = change.available - (request.on_hand_delta - request.reserved_delta)
        if change.available <= safety < before:
            events.append(
                StockRanLow(
                    sku_id=request.sku_id,
                    warehouse_id=request.warehouse_id,
                    available=change.available,
                    safety_stock=safety,
                )
            )
        if request.on_hand_delta != request.reserved_delta:
            versions[request.sku_id] = max(versions.get(request.sku_id, 0), ledger_id)
    units = await available_units(session, sku_ids=sorted(versions))
    events += [
        StockLevelChanged(sku_id=sku_id, available=units[sku_id], version=version)
        for sku_id, version in sorted(versions.items())
    ]
    await record_events(session, events)
    return results


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


async def has_sellable_stock(session: AsyncSession, *, sku_ids: list[int]) -> bool:
    """Whether any of the SKUs (say, a product's active ones) has units to sell in an active
    warehouse; a listing whose SKUs have none cannot be bought."""
    units = await available_units(session, sku_ids=sku_ids)
    return any(count > 0 for count in units.values())
