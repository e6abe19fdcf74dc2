"""Shipping: staff hand a paid sub-order to a carrier; staff record tracking by hand.

``ship_sub_order`` is one transaction: the shipment row (unique per sub-order, and per carrier
and tracking number), a copy of the lines it carries, ``orders.mark_sub_order_shipped`` (which
consumes that warehouse's stock holds and moves the order to partly shipped or shipped), the
history row, the audit entry and ``ShipmentCreated``. The tracker is asked to follow the parcel
only after the commit (no network call inside the transaction).
"""

from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders
from mercato.core import clock, idempotency
from mercato.core.db import after_commit, insert_ignore
from mercato.core.errors import FieldError
from mercato.core.events import record_event
from mercato.core.i18n import N_
from mercato.fulfillment.carriers import manual
from mercato.fulfillment.carriers.base import TrackingUpdate, TrackPoint
from mercato.fulfillment.carriers.registry import CARRIERS, tracker_for
from mercato.fulfillment.errors import (
    AlreadyShipped,
    EventInFuture,
    NotShippable,
    PickupOrder,
    ShipmentFinished,
    SubOrderNotFound,
    TrackingNumberInUse,
    UnknownCarrier,
)
from mercato.fulfillment.events import ShipmentCreated
from mercato.fulfillment.models import Shipment, ShipmentItem
from mercato.fulfillment.schemas import DeliverShipment, ShipmentCreate, ShipmentRead, TrackingEventCreate
from mercato.fulfillment.service.actions import record_created
from mercato.fulfillment.service.reads import get_shipment, shipment_row
from mercato.fulfillment.service.tracking import apply_update, refresh_quietly, subscribe_quietly
from mercato.fulfillment.states import FINAL, TrackingStatus

SCOPE = "fulfillment.ship"
_SHIPPED_ALREADY = {"shipped", "delivered", "completed"}


async def ship_sub_order(
    session: AsyncSession,
    *,
    data: ShipmentCreate,
    actor: identity.Actor,
    idempotency_key: str | None = None,
) -> ShipmentRead:
    """Ship one paid sub-order with a carrier and tracking number (see the module docstring).

    A retry — the same Idempotency-Key, or the same carrier and number for the same sub-order —
    returns the shipment that exists.

    Raises:
        UnknownCarrier (422), OrderNotFound / SubOrderNotFound (404), NotShippable (409): not
        paid, cancelled or closed; PickupOrder (409); AlreadyShipped (409): shipped with another
        number; TrackingNumberInUse (409); IdempotencyKeyReused (409): the key was used for
        another shipment.
    """
    if idempotency_key is not None:
        stored = await idempotency.claim(
            session, scope=SCOPE, key=idempotency_key, payload=data.model_dump(mode="json")
        )
        if stored is not None:
            return await get_shipment(session, shipment_id=int(stored.body["shipment_id"]))
    shipment_id = await _ship(session, data=data, actor=actor)
    if idempotency_key is not None:
        await idempotency.store_response(
            session, scope=SCOPE, key=idempotency_key, status_code=201, body={"shipment_id": shipment_id}
        )
    return await get_shipment(session, shipment_id=shipment_id)


async def _existing(session: AsyncSession, data: ShipmentCreate) -> int | None:
    """The shipment of this sub-order if it is this very one (a retry); AlreadyShipped if the
    sub-order left under another number; None if it has not shipped."""
    row = (
        await session.execute(select(Shipment).where(Shipment.sub_order_id == data.sub_order_id))
    ).scalar_one_or_none()
    if row is None or row.order_id != data.order_id:  # not under this order: the order says why
        return None
    if (row.order_id, row.carrier, row.tracking_number) == (
        data.order_id,
        data.carrier,
        data.tracking_number,
    ):
        return row.id
    raise AlreadyShipped()


async def _ship(session: AsyncSession, *, data: ShipmentCreate, actor: identity.Actor) -> int:
    carrier = CARRIERS.get(data.carrier)
    if carrier is None:
        raise UnknownCarrier(
            fields=[
                FieldError(("body", "carrier"), UnknownCarrier.code, N_("Choose a carrier from the list."))
            ]
        )
    retried = await _existing(session, data)
    if retried is not None:
        return retried
    order = await orders.read_order(session, order_id=data.order_id)
    sub = next((s for s in order.sub_orders if s.id == data.sub_order_id), None)
    if sub is None:
        raise SubOrderNotFound()
    if order.delivery == "pickup":
        raise PickupOrder()
    if sub.status != orders.OrderStatus.paid:
        raise AlreadyShipped() if sub.status in _SHIPPED_ALREADY else NotShippable()
    taken = await session.execute(
        select(Shipment.id).where(
            Shipment.carrier == data.carrier, Shipment.tracking_number == data.tracking_number
        )
    )
    if taken.first() is not None:
        raise TrackingNumberInUse()
    now = clock.now()
    tracker = tracker_for(carrier.code)
    if not await insert_ignore(
        session,
        Shipment.__table__,
        {
            "order_id": order.id,
            "sub_order_id": sub.id,
            "warehouse_id": sub.warehouse_id,
            "customer_id": order.customer_id,
            "carrier": carrier.code,
            "tracking_number": data.tracking_number,
            "tracker": tracker,
            "status": str(TrackingStatus.shipped),
            "carrier_state": "",
            "shipped_by": actor.label[:200],
            "shipped_at": now,
            "subscribe_attempts": 0,
            "last_error": "",
            "updated_at": now,
        },
    ):  # a concurrent request shipped this sub-order, or took the number, first
        retried = await _existing(session, data)
        if retried is None:
            raise TrackingNumberInUse()
        return retried
    shipment_id = (
        await session.execute(select(Shipment.id).where(Shipment.sub_order_id == sub.id))
    ).scalar_one()
    session.add_all(
        [
            ShipmentItem(
                shipment_id=shipment_id,
                order_line_id=line.id,
                sku_id=line.sku_id,
                title=line.title[:200],
                quantity=line.quantity - line.refunded_quantity,
            )
            for line in order.lines
            if line.sub_order_id == sub.id and line.quantity > line.refunded_quantity  # refunded: not shipped
        ]
    )
    reason = orders.SHIPPED_WITH % {"carrier": carrier.code, "tracking_number": data.tracking_number}
    try:
        moved = await orders.mark_sub_order_shipped(
            session, order_id=order.id, sub_order_id=sub.id, actor=actor, reason=reason
        )
    except orders.CannotShip:
        raise NotShippable() from None
    if not moved:
        raise AlreadyShipped()
    await record_created(
        session, status=str(TrackingStatus.shipped), actor=actor, reason=reason, shipment_id=shipment_id
    )
    await identity.record_audit(
        session,
        actor=actor,
        action="shipment.create",
        object_type="shipment",
        object_id=str(shipment_id),
        after={
            "order_id": order.id,
            "sub_order_id": sub.id,
            "carrier": carrier.code,
            "tracking_number": data.tracking_number,
        },
    )
    await record_event(
        session,
        ShipmentCreated(
            shipment_id=shipment_id,
            order_id=order.id,
            sub_order_id=sub.id,
            carrier=carrier.code,
            tracking_number=data.tracking_number,
        ),
    )
    if tracker != manual.NAME:
        after_commit(session, functools.partial(subscribe_quietly, shipment_id))
    return shipment_id


async def add_tracking_event(
    session: AsyncSession, *, shipment_id: int, data: TrackingEventCreate, actor: identity.Actor
) -> ShipmentRead:
    """Record a tracking step by hand (the ``manual`` tracker, or a correction): it joins the
    timeline and moves the status; ``delivered`` delivers the sub-order. Audited.

    Raises:
        ShipmentNotFound (404), EventInFuture (422), ShipmentFinished (409): delivered or
        returned already.
    """
    row = await shipment_row(session, shipment_id)
    if row.status in FINAL:
        raise ShipmentFinished()
    now = clock.now()
    occurred_at = data.occurred_at or now
    if occurred_at > now:
        raise EventInFuture(
            fields=[
                FieldError(
                    ("body", "occurred_at"),
                    EventInFuture.code,
                    N_("A tracking step cannot be in the future."),
                )
            ]
        )
    point = TrackPoint(
        occurred_at=occurred_at, context=data.context, status=data.status, location=data.location
    )
    await apply_update(
        session,
        shipment_id=shipment_id,
        update_=TrackingUpdate(
            carrier=row.carrier, tracking_number=row.tracking_number, status=data.status, events=(point,)
        ),
        source=manual.NAME,
        actor=actor,
    )
    await identity.record_audit(
        session,
        actor=actor,
        action="shipment.track",
        object_type="shipment",
        object_id=str(shipment_id),
        before={"status": row.status},
        after={"status": str(data.status), "context": data.context, "occurred_at": occurred_at.isoformat()},
    )
    return await get_shipment(session, shipment_id=shipment_id)


async def mark_shipment_delivered(
    session: AsyncSession, *, shipment_id: int, data: DeliverShipment, actor: identity.Actor
) -> ShipmentRead:
    """Record by hand that the parcel was signed for: a ``delivered`` step, and the sub-order is
    delivered. A repeat changes nothing.

    Raises:
        ShipmentNotFound (404), ShipmentFinished (409): it came back to the shop.
    """
    row = await shipment_row(session, shipment_id)
    if row.status == TrackingStatus.delivered:
        return await get_shipment(session, shipment_id=shipment_id)
    return await add_tracking_event(
        session,
        shipment_id=shipment_id,
        data=TrackingEventCreate(status=TrackingStatus.delivered, context=data.context),
        actor=actor,
    )


async def request_tracking_refresh(
    session: AsyncSession, *, shipment_id: int, actor: identity.Actor
) -> ShipmentRead:
    """Ask the tracker for the parcel's status once this request has committed (the answer is
    applied in its own transaction; read the shipment again to see it). Returns the shipment as
    it is now.

    Raises:
        ShipmentNotFound (404).
    """
    view = await get_shipment(session, shipment_id=shipment_id)
    if view.tracker != manual.NAME:
        await identity.record_audit(
            session,
            actor=actor,
            action="shipment.refresh",
            object_type="shipment",
            object_id=str(shipment_id),
        )
        after_commit(session, functools.partial(refresh_quietly, shipment_id))
    return view
