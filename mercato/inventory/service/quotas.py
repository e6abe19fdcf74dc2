"""Quota holds: units carved out of stock for one purpose (a flash sale's session item) and
handed to orders one by one.

A quota hold is an ordinary reservation under the purpose's reference (``carve_quota``): normal
sales can no longer take its units, and ``verify_stock`` counts it like any hold. An order takes
units from it with ``take_from_hold``: one conditional UPDATE moves them from the quota hold to
the order's own new hold (``reserved`` on the stock row does not change, so the hot row a rush
would fight over is the quota hold alone, and never the stock row). A quota hold whose units are
all handed out stays active with quantity 0, so units an unpaid order gives back (released or
expired, ``reservations._close``) return to it while it is active and are sold again; once the
quota hold itself is released (the session ended or was cancelled) they go back to free stock.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.inventory.errors import InsufficientStock, NotDeliverable
from mercato.inventory.models import Reservation, Stock, Warehouse
from mercato.inventory.schemas import Allocation, ReservationRead, ReservationStatus, WarehouseKind
from mercato.inventory.service.reservations import ReservationRace, reserve_stock
from mercato.inventory.service.warehouses import list_warehouses

_ACTIVE = str(ReservationStatus.active)


async def carve_quota(
    session: AsyncSession, *, reference: str, sku_id: int, quantity: int, until: dt.datetime
) -> list[ReservationRead]:
    """Hold ``quantity`` units of ``sku_id`` for ``reference`` until ``until`` (then the expiry
    job gives what is left back to free stock): from the first warehouse (priority, cost) that
    has them all, else split across warehouses in that order; stores' stock is left alone.
    Repeating it is a no-op (the holds exist already).

    Raises:
        InsufficientStock (409): fewer units are available than the quota.
        NotDeliverable (409): no active warehouse carries the SKU.
    """
    existing = await list_quota(session, reference=reference)
    if existing:
        return existing
    warehouses = [
        w for w in await list_warehouses(session, active_only=True) if w.kind is not WarehouseKind.store
    ]
    rows = await session.execute(
        select(Stock.warehouse_id, Stock.on_hand - Stock.reserved).where(Stock.sku_id == sku_id)
    )
    available = {warehouse_id: int(units) for warehouse_id, units in rows}
    carrying = [
        w for w in sorted(warehouses, key=lambda w: (w.priority, w.cost_amount, w.id)) if w.id in available
    ]
    if not carrying:
        raise NotDeliverable(sku_id=sku_id, province="*")
    whole = next((w for w in carrying if available[w.id] >= quantity), None)
    parts: list[tuple[int, int]] = []
    if whole is not None:
        parts.append((whole.id, quantity))
    else:
        left = quantity
        for w in carrying:
            take = min(max(available[w.id], 0), left)
            if take:
                parts.append((w.id, take))
                left -= take
        if left:
            raise InsufficientStock(sku_id=sku_id)
    return [
        await reserve_stock(
            session,
            reference=reference,
            sku_id=sku_id,
            warehouse_id=warehouse_id,
            quantity=units,
            hold_for=until - clock.now(),
        )
        for warehouse_id, units in sorted(parts)
    ]


async def list_quota(session: AsyncSession, *, reference: str) -> list[ReservationRead]:
    rows = (
        await session.execute(
            select(Reservation).where(Reservation.reference == reference).order_by(Reservation.id)
        )
    ).scalars()
    return [ReservationRead.model_validate(row) for row in rows]


async def held_units(session: AsyncSession, *, references: list[str]) -> dict[str, int]:
    """Units still held under each reference (active holds only; 0 when none): a quota's unsold
    units, in one query for many."""
    if not references:
        return {}
    rows = await session.execute(
        select(Reservation.reference, func.sum(Reservation.quantity))
        .where(Reservation.reference.in_(references), Reservation.status == _ACTIVE)
        .group_by(Reservation.reference)
    )
    found = {reference: int(units or 0) for reference, units in rows}
    return {reference: found.get(reference, 0) for reference in references}


async def _serving_holds(
    session: AsyncSession, *, source: str, sku_id: int, province: str
) -> list[tuple[int, int, int]]:
    """(hold id, warehouse id, units left) of the active quota holds of ``source`` for ``sku_id``
    whose warehouse serves ``province``, first warehouse (priority, cost) first.

    Raises:
        NotDeliverable (409): the quota has holds, none from a warehouse serving ``province``.
    """
    candidates = (
        await session.execute(
            select(Reservation.id, Reservation.warehouse_id, Reservation.quantity, Warehouse.regions)
            .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
            .where(
                Reservation.reference == source,
                Reservation.sku_id == sku_id,
                Reservation.status == _ACTIVE,
            )
            .order_by(Warehouse.priority, Warehouse.cost_amount, Warehouse.id)
        )
    ).all()
    serving = [(h, w, units) for h, w, units, regions in candidates if _serves(regions, province)]
    if candidates and not serving:
        raise NotDeliverable(sku_id=sku_id, province=province)
    return serving


async def plan_from_hold(
    session: AsyncSession, *, source: str, sku_id: int, quantity: int, province: str
) -> Allocation:
    """Where ``take_from_hold`` would take the units from now (reads only): a sold-out quota is
    refused before anything is written.

    Raises:
        InsufficientStock (409): no serving warehouse of the quota has that many units left.
        NotDeliverable (409): none of the quota's warehouses serves ``province``.
    """
    for _hold_id, warehouse_id, units in await _serving_holds(
        session, source=source, sku_id=sku_id, province=province
    ):
        if units >= quantity:
            return Allocation(sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity)
    raise InsufficientStock(sku_id=sku_id)


async def take_from_hold(
    session: AsyncSession,
    *,
    source: str,
    reference: str,
    sku_id: int,
    quantity: int,
    province: str,
    hold_for: dt.timedelta,
    warehouse_id: int | None = None,
) -> list[Allocation]:
    """Move ``quantity`` units of ``sku_id`` from the active quota hold ``source`` to a new hold
    for ``reference`` (an order), from one warehouse of the quota that serves ``province`` (only
    ``warehouse_id`` when given: the one ``plan_from_hold`` chose): one conditional UPDATE
    (``quantity >= wanted``), so a quota is never handed out twice. The new hold remembers
    ``source``: released or expired, its units go back to the quota.

    Raises:
        InsufficientStock (409): the quota has fewer units left (sold out).
        NotDeliverable (409): none of the quota's warehouses serves ``province``.
        ReservationRace (409): ``reference`` already holds this SKU there.
    """
    if quantity < 1:
        raise ValueError("quantity must be positive")
    serving = [
        (hold_id, warehouse)
        for hold_id, warehouse, _units in await _serving_holds(
            session, source=source, sku_id=sku_id, province=province
        )
        if warehouse_id is None or warehouse == warehouse_id
    ]
    for hold_id, warehouse_id in serving:
        taken = (
            await session.execute(
                update(Reservation)
                .where(
                    Reservation.id == hold_id,
                    Reservation.status == _ACTIVE,
                    Reservation.quantity >= quantity,
                )
                .values(quantity=Reservation.quantity - quantity)
                .returning(Reservation.id)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if taken is None:
            continue
        now = clock.now()
        inserted = await insert_ignore(
            session,
            Reservation.__table__,
            {
                "reference": reference,
                "sku_id": sku_id,
                "warehouse_id": warehouse_id,
                "quantity": quantity,
                "status": _ACTIVE,
                "expires_at": now + hold_for,
                "created_at": now,
                "source": source,
            },
        )
        if not inserted:
            raise ReservationRace()
        return [Allocation(sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity)]
    raise InsufficientStock(sku_id=sku_id)


def _serves(regions: list[str] | None, province: str) -> bool:
    return "*" in (regions or ()) or province in (regions or ())
