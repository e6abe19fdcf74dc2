"""Reservations: units held for an order until shipped (consumed), cancelled (released) or
timed out (expired). Holds are keyed by ``(reference, sku, warehouse)``: asking again with the
same reference returns the existing hold instead of taking more units.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.errors import Conflict
from mercato.inventory.errors import InsufficientStock
from mercato.inventory.models import Reservation
from mercato.inventory.schemas import Allocation, LedgerKind, ReservationRead, ReservationStatus
from mercato.inventory.service.levels import apply_change
from mercato.inventory.states import sources

DEFAULT_HOLD = dt.timedelta(minutes=30)


class ReservationRace(Conflict):
    """Two requests reserved for the same reference at once; the later one is rolled back."""

    code = "inventory.reservation_in_progress"
    message = "Stock for this reference is being reserved by another request; retry."


async def _existing(
    session: AsyncSession, reference: str, sku_id: int, warehouse_id: int
) -> Reservation | None:
    return (
        await session.execute(
            select(Reservation).where(
                Reservation.reference == reference,
                Reservation.sku_id == sku_id,
                Reservation.warehouse_id == warehouse_id,
            )
        )
    ).scalar_one_or_none()


async def reserve_stock(
    session: AsyncSession,
    *,
    reference: str,
    sku_id: int,
    warehouse_id: int,
    quantity: int,
    hold_for: dt.timedelta = DEFAULT_HOLD,
) -> ReservationRead:
    """Hold ``quantity`` available units, or refuse without holding any.

    Raises:
        InsufficientStock (409 inventory.insufficient_stock): fewer units are available (or the
        SKU has no stock in that warehouse).
        ReservationRace (409): the same reference is being reserved concurrently.
    """
    if quantity < 1:
        raise ValueError("quantity must be positive")
    existing = await _existing(session, reference, sku_id, warehouse_id)
    if existing is not None:
        return ReservationRead.model_validate(existing)
    change = await apply_change(
        session,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        kind=LedgerKind.reserve,
        reserved_delta=quantity,
        reference=reference,
    )
    if change is None:
        raise InsufficientStock(sku_id=sku_id)
    now = clock.now()
    inserted = await insert_ignore(
        session,
        Reservation.__table__,
        {
            "reference": reference,
            "sku_id": sku_id,
            "warehouse_id": warehouse_id,
            "quantity": quantity,
            "status": str(ReservationStatus.active),
            "expires_at": now + hold_for,
            "created_at": now,
        },
    )
    if not inserted:
        raise ReservationRace()
    row = await _existing(session, reference, sku_id, warehouse_id)
    assert row is not None
    return ReservationRead.model_validate(row)


async def reserve_allocations(
    session: AsyncSession,
    *,
    reference: str,
    allocations: Sequence[Allocation],
    hold_for: dt.timedelta = DEFAULT_HOLD,
) -> list[ReservationRead]:
    """Reserve every allocation or none (an error rolls the caller's transaction back).

    Rows are locked in (SKU, warehouse) order so two orders never deadlock on PostgreSQL.
    """
    ordered = sorted(allocations, key=lambda a: (a.sku_id, a.warehouse_id))
    return [
        await reserve_stock(
            session,
            reference=reference,
            sku_id=a.sku_id,
            warehouse_id=a.warehouse_id,
            quantity=a.quantity,
            hold_for=hold_for,
        )
        for a in ordered
    ]


async def _close(
    session: AsyncSession,
    *,
    target: ReservationStatus,
    where: Sequence[object],
    kind: LedgerKind,
    reason: str,
) -> list[ReservationRead]:
    """Move matching active holds to ``target`` (one conditional UPDATE) and book the stock."""
    rows = (
        await session.execute(
            update(Reservation)
            .where(Reservation.status.in_(sources(target)), *where)  # type: ignore[arg-type]
            .values(status=str(target), closed_at=clock.now())
            .returning(Reservation)
            .execution_options(synchronize_session=False)
        )
    ).scalars()
    closed = [ReservationRead.model_validate(row) for row in rows]
    for hold in sorted(closed, key=lambda r: (r.sku_id, r.warehouse_id)):
        if hold.quantity == 0:  # an emptied quota hold: nothing to give back
            continue
        if target is not ReservationStatus.consumed and await _back_to_source(
            session,
            source=hold.source,
            sku_id=hold.sku_id,
            warehouse_id=hold.warehouse_id,
            quantity=hold.quantity,
        ):
            continue
        shipped = hold.quantity if target is ReservationStatus.consumed else 0
        change = await apply_change(
            session,
            sku_id=hold.sku_id,
            warehouse_id=hold.warehouse_id,
            kind=kind,
            on_hand_delta=-shipped,
            reserved_delta=-hold.quantity,
            reason=reason,
            reference=hold.reference,
        )
        if change is None:  # the active holds always sum to ``reserved``; verify would flag this
            raise RuntimeError(f"stock row of reservation {hold.id} cannot give back its units")
    return closed


async def _back_to_source(
    session: AsyncSession, *, source: str | None, sku_id: int, warehouse_id: int, quantity: int
) -> bool:
    """Give ``quantity`` units back to the quota hold ``source`` they were taken from, if it is
    still active (one UPDATE); the stock row's ``reserved`` stays as it is. False: no such hold
    (none, or it ended), and the caller gives the units back to free stock instead."""
    if source is None:
        return False
    returned = (
        await session.execute(
            update(Reservation)
            .where(
                Reservation.reference == source,
                Reservation.sku_id == sku_id,
                Reservation.warehouse_id == warehouse_id,
                Reservation.status == str(ReservationStatus.active),
            )
            .values(quantity=Reservation.quantity + quantity)
            .returning(Reservation.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    return returned is not None


async def release_reservations(
    session: AsyncSession, *, reference: str, reason: str = ""
) -> list[ReservationRead]:
    """Give back every active hold of ``reference`` (order cancelled). Repeating it is a no-op."""
    return await _close(
        session,
        target=ReservationStatus.released,
        where=[Reservation.reference == reference],
        kind=LedgerKind.release,
        reason=reason,
    )


async def consume_reservations(
    session: AsyncSession, *, reference: str, sku_id: int | None = None, warehouse_id: int | None = None
) -> list[ReservationRead]:
    """The held units shipped: on hand and reserved both go down. Repeating it is a no-op.

    ``sku_id`` and ``warehouse_id`` limit it to those holds (a partial shipment).
    """
    where: list[object] = [Reservation.reference == reference]
    if sku_id is not None:
        where.append(Reservation.sku_id == sku_id)
    if warehouse_id is not None:
        where.append(Reservation.warehouse_id == warehouse_id)
    return await _close(
        session, target=ReservationStatus.consumed, where=where, kind=LedgerKind.ship, reason="shipped"
    )


async def release_units(
    session: AsyncSession, *, reference: str, sku_id: int, warehouse_id: int, quantity: int, reason: str = ""
) -> int:
    """Give back ``quantity`` units of one active hold (part of an order refunded before it
    shipped); the hold keeps the rest, or is released when nothing is left. Returns the units
    given back (0 when there was no such hold). One conditional UPDATE: never below zero."""
    if quantity < 1:
        raise ValueError("quantity must be positive")
    where = (
        Reservation.reference == reference,
        Reservation.sku_id == sku_id,
        Reservation.warehouse_id == warehouse_id,
        Reservation.status == str(ReservationStatus.active),
    )
    shrunk = (
        await session.execute(
            update(Reservation)
            .where(*where, Reservation.quantity > quantity)
            .values(quantity=Reservation.quantity - quantity)
            .returning(Reservation.source)
            .execution_options(synchronize_session=False)
        )
    ).one_or_none()
    if shrunk is None:
        closed = await _close(
            session,
            target=ReservationStatus.released,
            where=[*where, Reservation.quantity == quantity],
            kind=LedgerKind.release,
            reason=reason,
        )
        return sum(hold.quantity for hold in closed)
    if await _back_to_source(
        session, source=shrunk.source, sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity
    ):
        return quantity
    change = await apply_change(
        session,
        sku_id=sku_id,
        warehouse_id=warehouse_id,
        kind=LedgerKind.release,
        reserved_delta=-quantity,
        reason=reason,
        reference=reference,
    )
    if change is None:  # the active holds always sum to ``reserved``; verify would flag this
        raise RuntimeError(f"stock of SKU {sku_id} cannot give back {quantity} held units")
    return quantity


async def keep_reservations(session: AsyncSession, *, reference: str) -> int:
    """Keep the active holds of ``reference`` until they are shipped or released: they no longer
    expire (the order was paid). Returns how many units are held; repeating it is a no-op."""
    held = (
        await session.execute(
            update(Reservation)
            .where(Reservation.reference == reference, Reservation.status == str(ReservationStatus.active))
            .values(expires_at=None)
            .returning(Reservation.quantity)
            .execution_options(synchronize_session=False)
        )
    ).scalars()
    return sum(held)


async def expire_reservations(session: AsyncSession, *, limit: int = 500) -> int:
    """Give back holds past their expiry (the scheduled job); return how many expired.

    Each hold is closed by its own conditional UPDATE, so a hold consumed or released at the same
    moment is never also expired.
    """
    due = (
        await session.execute(
            select(Reservation.id)
            .where(Reservation.status == str(ReservationStatus.active), Reservation.expires_at <= clock.now())
            .order_by(Reservation.expires_at)
            .limit(limit)
        )
    ).scalars()
    expired = 0
    for reservation_id in list(due):
        closed = await _close(
            session,
            target=ReservationStatus.expired,
            where=[Reservation.id == reservation_id],
            kind=LedgerKind.expire,
            reason="hold expired",
        )
        expired += len(closed)
    return expired


async def list_reservations(session: AsyncSession, *, reference: str) -> list[ReservationRead]:
    rows = (
        await session.execute(
            select(Reservation).where(Reservation.reference == reference).order_by(Reservation.id)
        )
    ).scalars()
    return [ReservationRead.model_validate(row) for row in rows]
