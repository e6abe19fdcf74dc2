"""Named status moves: the only code that changes a shipment's or a pickup code's status.

Each is one conditional UPDATE whose WHERE lists the statuses the transition table allows the
move from (so two racing moves cannot both win), plus a ``fulfillment_status_change`` row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.fulfillment.models import PickupCode, Shipment, StatusChange
from mercato.fulfillment.states import PICKUP, SHIPMENT, PickupStatus, TrackingStatus


async def move_shipment(
    session: AsyncSession,
    *,
    shipment_id: int,
    target: TrackingStatus,
    actor: identity.Actor,
    reason: str,
    **values: Any,
) -> str | None:
    """Move the shipment to ``target`` if the table allows it from where it is; return the status
    it came from, or None when it did not move (already there, or final)."""
    current = (
        await session.execute(select(Shipment.status).where(Shipment.id == shipment_id))
    ).scalar_one_or_none()
    if current is None or current == target:
        return None
    now = clock.now()
    moved = (
        await session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.status.in_(SHIPMENT.sources(target)))
            .values(status=str(target), updated_at=now, **values)
            .returning(Shipment.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return None
    await _record(
        session,
        from_status=current,
        to_status=str(target),
        actor=actor,
        reason=reason,
        shipment_id=shipment_id,
    )
    return current


async def move_pickup_code(
    session: AsyncSession,
    *,
    pickup_code_id: int,
    target: PickupStatus,
    actor: identity.Actor,
    reason: str,
    **values: Any,
) -> bool:
    """Move an open pickup code to ``target`` (its open hash is released); False if it was not
    open any more (a concurrent verification or cancellation won)."""
    moved = (
        await session.execute(
            update(PickupCode)
            .where(PickupCode.id == pickup_code_id, PickupCode.status.in_(PICKUP.sources(target)))
            .values(status=str(target), open_code_hash=None, **values)
            .returning(PickupCode.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return False
    await _record(
        session,
        from_status=str(PickupStatus.open),
        to_status=str(target),
        actor=actor,
        reason=reason,
        pickup_code_id=pickup_code_id,
    )
    return True


async def record_created(
    session: AsyncSession,
    *,
    status: str,
    actor: identity.Actor,
    reason: str,
    shipment_id: int | None = None,
    pickup_code_id: int | None = None,
) -> None:
    """The first history row of a new shipment or pickup code (from nothing to ``status``)."""
    await _record(
        session,
        from_status="",
        to_status=status,
        actor=actor,
        reason=reason,
        shipment_id=shipment_id,
        pickup_code_id=pickup_code_id,
    )


async def _record(
    session: AsyncSession,
    *,
    from_status: str,
    to_status: str,
    actor: identity.Actor,
    reason: str,
    shipment_id: int | None = None,
    pickup_code_id: int | None = None,
) -> None:
    """One ``fulfillment_status_change`` row: who moved which shipment or pickup code, when, why."""
    session.add(
        StatusChange(
            shipment_id=shipment_id,
            pickup_code_id=pickup_code_id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor.staff_id,
            actor_label=actor.label[:200],
            reason=reason[:300],
            created_at=clock.now(),
        )
    )
    await session.flush()
