"""Reading shipments: one with its content, timeline and history; lists for staff; an order's
parcels for its shopper; the carriers a shop can ship with."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import orders
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.fulfillment.carriers.registry import CARRIERS, tracker_for
from mercato.fulfillment.errors import ShipmentNotFound
from mercato.fulfillment.models import Shipment, ShipmentItem, StatusChange, TrackingEvent
from mercato.fulfillment.schemas import (
    CarrierRead,
    CustomerShipment,
    ShipmentItemRead,
    ShipmentRead,
    ShipmentSummary,
    StatusChangeRead,
    TrackingEventRead,
)
from mercato.fulfillment.states import TrackingStatus


def list_carriers() -> list[CarrierRead]:
    """The courier companies staff can ship with, and who follows each one's parcels."""
    return [CarrierRead(code=c.code, name=c.name, tracker=tracker_for(c.code)) for c in CARRIERS.values()]


def _summary(row: Shipment) -> ShipmentSummary:
    carrier = CARRIERS.get(row.carrier)
    return ShipmentSummary(
        id=row.id,
        order_id=row.order_id,
        sub_order_id=row.sub_order_id,
        warehouse_id=row.warehouse_id,
        carrier=row.carrier,
        carrier_name=carrier.name if carrier else row.carrier,
        tracking_number=row.tracking_number,
        tracker=row.tracker,
        status=TrackingStatus(row.status),
        shipped_at=row.shipped_at,
        delivered_at=row.delivered_at,
        last_event_at=row.last_event_at,
    )


async def _items(session: AsyncSession, shipment_id: int) -> list[ShipmentItemRead]:
    rows = await session.execute(
        select(ShipmentItem).where(ShipmentItem.shipment_id == shipment_id).order_by(ShipmentItem.id)
    )
    return [ShipmentItemRead.model_validate(r) for r in rows.scalars()]


async def _events(session: AsyncSession, shipment_id: int) -> list[TrackingEventRead]:
    """The timeline, newest first (as carriers show it)."""
    rows = await session.execute(
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id.desc())
    )
    return [TrackingEventRead.model_validate(r) for r in rows.scalars()]


async def shipment_row(session: AsyncSession, shipment_id: int) -> Shipment:
    row = (
        await session.execute(
            select(Shipment).where(Shipment.id == shipment_id).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise ShipmentNotFound()
    return row


async def get_shipment(session: AsyncSession, *, shipment_id: int) -> ShipmentRead:
    """A shipment with its items, timeline and status history (staff).

    Raises:
        ShipmentNotFound.
    """
    row = await shipment_row(session, shipment_id)
    history = await session.execute(
        select(StatusChange).where(StatusChange.shipment_id == shipment_id).order_by(StatusChange.id)
    )
    return ShipmentRead(
        **_summary(row).model_dump(),
        shipped_by=row.shipped_by,
        subscribed_at=row.subscribed_at,
        last_error=row.last_error,
        items=await _items(session, shipment_id),
        events=await _events(session, shipment_id),
        history=[StatusChangeRead.model_validate(h) for h in history.scalars()],
    )


async def list_shipments(
    session: AsyncSession,
    *,
    order_id: int | None = None,
    status: TrackingStatus | None = None,
    carrier: str | None = None,
    tracking_number: str | None = None,
    warehouse_id: int | None = None,
    shipped_from: dt.datetime | None = None,
    shipped_before: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[ShipmentSummary]:
    """Shipments newest first, with filters (``shipped_from`` inclusive, ``shipped_before`` not).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Shipment).order_by(Shipment.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Shipment.id < after)
    if order_id is not None:
        stmt = stmt.where(Shipment.order_id == order_id)
    if status is not None:
        stmt = stmt.where(Shipment.status == str(status))
    if carrier:
        stmt = stmt.where(Shipment.carrier == carrier)
    if tracking_number:
        stmt = stmt.where(Shipment.tracking_number == tracking_number.strip().upper())
    if warehouse_id is not None:
        stmt = stmt.where(Shipment.warehouse_id == warehouse_id)
    if shipped_from is not None:
        stmt = stmt.where(Shipment.shipped_at >= shipped_from)
    if shipped_before is not None:
        stmt = stmt.where(Shipment.shipped_at < shipped_before)
    rows = list((await session.execute(stmt)).scalars())
    items = [_summary(row) for row in rows[:size]]
    return Page[ShipmentSummary](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def list_order_shipments(
    session: AsyncSession, *, order_id: int, customer_id: int | None = None
) -> list[CustomerShipment]:
    """The parcels of an order with their timelines, oldest parcel first; ``customer_id`` scopes
    it to that shopper's orders (another's is "not found").

    Raises:
        OrderNotFound (404).
    """
    await orders.read_order(session, order_id=order_id, customer_id=customer_id)
    rows = await session.execute(select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id))
    found = []
    for row in rows.scalars().all():
        summary = _summary(row)
        found.append(
            CustomerShipment(
                id=row.id,
                sub_order_id=row.sub_order_id,
                carrier=row.carrier,
                carrier_name=summary.carrier_name,
                tracking_number=row.tracking_number,
                status=summary.status,
                shipped_at=row.shipped_at,
                delivered_at=row.delivered_at,
                items=await _items(session, row.id),
                events=await _events(session, row.id),
            )
        )
    return found
