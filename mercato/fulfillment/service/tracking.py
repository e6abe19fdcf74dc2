"""Tracking: subscribing parcels with their provider, applying what it reports (pushes, queries,
staff entries) to the timeline, the shipment's status and, once signed for, the order.

Order of work for a push (all in the notify request's transaction):

1. the tracker checks the signature and reads the body (``InvalidPushSignature`` /
   ``InvalidPush`` → 400, nothing written);
2. the shipment is found by its tracking number (unknown → 400, nothing written);
3. each timeline entry is inserted with ``INSERT ... ON CONFLICT DO NOTHING`` on
   ``(shipment_id, fingerprint)``, the fingerprint being a hash of its time and text, so a repeated
   or overlapping push (Kuaidi100 sends the whole timeline each time) adds only what is new;
4. the status moves along ``states.SHIPMENT`` unless the push is older than what we already have;
   signed for (签收) → ``orders.mark_sub_order_delivered`` in the same transaction;
5. ``TrackingUpdated`` is written when anything changed.

Subscribing and querying are network calls: they run after the commit or in a job, each in
its own short transactions around the call, never inside one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders
from mercato.core import clock
from mercato.core.db import insert_ignore, uow
from mercato.core.events import record_event
from mercato.fulfillment.carriers import manual
from mercato.fulfillment.carriers.base import Parcel, TrackerRefused, TrackingUpdate, TrackPoint
from mercato.fulfillment.carriers.registry import get_tracker
from mercato.fulfillment.errors import CarrierUnavailable, TrackerNotEnabled, UnknownTrackingNumber
from mercato.fulfillment.events import TrackingUpdated
from mercato.fulfillment.models import Shipment, TrackingEvent
from mercato.fulfillment.schemas import ShipmentRead
from mercato.fulfillment.service.actions import move_shipment
from mercato.fulfillment.service.reads import get_shipment, shipment_row
from mercato.fulfillment.states import FINAL, TrackingStatus

log = structlog.get_logger(__name__)

MAX_SUBSCRIBE_ATTEMPTS = 8
RESUBSCRIBE_AFTER_STOP = dt.timedelta(minutes=30)  # Kuaidi100: subscribe an aborted parcel again later


def fingerprint(point: TrackPoint) -> str:
    """What makes a timeline entry the same entry: its time and its words."""
    stamp = point.occurred_at.astimezone(dt.UTC).isoformat()
    return hashlib.sha256(f"{stamp}\n{point.context}".encode()).hexdigest()


def carrier_actor(tracker: str) -> identity.Actor:
    return identity.Actor(staff_id=None, label=f"carrier:{tracker}")


async def apply_update(
    session: AsyncSession,
    *,
    shipment_id: int,
    update_: TrackingUpdate,
    source: str,
    actor: identity.Actor,
) -> tuple[int, bool]:
    """Add the new timeline entries and move the status (see the module docstring); return how
    many entries were new and whether the status moved."""
    row = await shipment_row(session, shipment_id)
    now = clock.now()
    added = 0
    for point in update_.events:
        added += await insert_ignore(
            session,
            TrackingEvent.__table__,
            {
                "shipment_id": shipment_id,
                "occurred_at": point.occurred_at,
                "context": point.context,
                "status": str(point.status),
                "carrier_status": point.carrier_status,
                "location": point.location,
                "source": source,
                "fingerprint": fingerprint(point),
                "created_at": now,
            },
        )
    newest = max((p.occurred_at for p in update_.events), default=None)
    stale = newest is not None and row.last_event_at is not None and newest < row.last_event_at
    target = update_.status
    came_from = None
    if target is not None and not stale:
        came_from = await move_shipment(
            session,
            shipment_id=shipment_id,
            target=target,
            actor=actor,
            reason=f"{source}: {update_.carrier_state or target}",
            carrier_state=update_.carrier_state,
            **({"delivered_at": now} if target is TrackingStatus.delivered else {}),
        )
    if newest is not None:
        await session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id)
            .values(
                last_event_at=case(
                    (or_(Shipment.last_event_at.is_(None), Shipment.last_event_at < newest), newest),
                    else_=Shipment.last_event_at,
                ),
                updated_at=now,
            )
        )
    if came_from is not None and target is TrackingStatus.delivered:
        try:
            await orders.mark_sub_order_delivered(
                session,
                order_id=row.order_id,
                sub_order_id=row.sub_order_id,
                actor=actor,
                reason=orders.SIGNED_FOR_BY_HAND
                if source == manual.NAME
                else orders.SIGNED_FOR % {"source": source},
            )
        except orders.CannotDeliver:  # the sub-order was never marked shipped: staff must look
            log.error("fulfillment.delivered_not_shipped", shipment_id=shipment_id, order_id=row.order_id)
    if added or came_from is not None:
        status = (
            await session.execute(select(Shipment.status).where(Shipment.id == shipment_id))
        ).scalar_one()
        await record_event(
            session,
            TrackingUpdated(
                shipment_id=shipment_id,
                order_id=row.order_id,
                sub_order_id=row.sub_order_id,
                status=status,
                added_events=added,
            ),
        )
    return added, came_from is not None


async def _find(session: AsyncSession, tracker: str, reported: TrackingUpdate) -> Shipment:
    rows = list(
        (
            await session.execute(
                select(Shipment).where(
                    Shipment.tracking_number == reported.tracking_number, Shipment.tracker == tracker
                )
            )
        ).scalars()
    )
    if len(rows) > 1:  # the same number at two carriers: the push names its carrier
        rows = [r for r in rows if r.carrier == reported.carrier]
    if len(rows) != 1:
        raise UnknownTrackingNumber()
    return rows[0]


async def handle_tracking_push(
    session: AsyncSession, *, tracker: str, form: Mapping[str, str]
) -> dict[str, Any]:
    """Verify and apply one push from ``tracker``; return the answer the provider expects.

    A repeated push changes nothing and is answered the same way.

    Raises:
        TrackerNotEnabled (400), InvalidPushSignature (400), InvalidPush (400),
        UnknownTrackingNumber (400): nothing is written.
    """
    client = get_tracker(tracker)
    reported = client.parse_push(form)
    shipment = await _find(session, tracker, reported)
    await apply_update(
        session, shipment_id=shipment.id, update_=reported, source=tracker, actor=carrier_actor(tracker)
    )
    if reported.stopped:  # the provider gave up on it: subscribe again in a while
        await session.execute(
            update(Shipment)
            .where(Shipment.id == shipment.id, Shipment.status.not_in([str(s) for s in FINAL]))
            .values(subscribed_at=None, next_subscribe_at=clock.now() + RESUBSCRIBE_AFTER_STOP)
        )
    return client.push_answer()


def _phone_tail(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-4:] if len(digits) >= 4 else ""


async def _parcel(session: AsyncSession, row: Shipment) -> Parcel:
    order = await orders.read_order(session, order_id=row.order_id)
    return Parcel(
        carrier=row.carrier, tracking_number=row.tracking_number, phone_tail=_phone_tail(order.address.phone)
    )


def _retry_delay(attempts: int) -> dt.timedelta:
    return dt.timedelta(minutes=min(2**attempts, 360))


async def _subscription_failed(shipment_id: int, *, error: str, give_up: bool) -> None:
    async with uow() as session:
        attempts = (
            await session.execute(
                update(Shipment)
                .where(Shipment.id == shipment_id)
                .values(
                    subscribe_attempts=MAX_SUBSCRIBE_ATTEMPTS if give_up else Shipment.subscribe_attempts + 1,
                    last_error=error[:300],
                )
                .returning(Shipment.subscribe_attempts)
            )
        ).scalar_one()
        await session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id)
            .values(next_subscribe_at=clock.now() + _retry_delay(attempts))
        )


async def subscribe_tracking(shipment_id: int) -> bool:
    """Ask the shipment's tracker to follow it (after the commit that created it, and from the
    ``fulfillment-subscribe-tracking`` job); idempotent. Returns whether it is now subscribed by
    this call. Failures are recorded on the shipment and retried later with a growing delay; a
    refusal is not retried."""
    async with uow(write=False) as session:
        row = (await session.execute(select(Shipment).where(Shipment.id == shipment_id))).scalar_one_or_none()
        if row is None or row.tracker == manual.NAME or row.subscribed_at is not None or row.status in FINAL:
            return False
        tracker, parcel = row.tracker, await _parcel(session, row)
    try:
        await get_tracker(tracker).subscribe(parcel)
    except (CarrierUnavailable, TrackerNotEnabled) as exc:
        await _subscription_failed(shipment_id, error=exc.code, give_up=False)
        return False
    except TrackerRefused as exc:
        log.warning("fulfillment.subscription_refused", shipment_id=shipment_id, error=str(exc))
        await _subscription_failed(shipment_id, error=str(exc), give_up=True)
        return False
    async with uow() as session:
        await session.execute(
            update(Shipment)
            .where(Shipment.id == shipment_id, Shipment.subscribed_at.is_(None))
            .values(
                subscribed_at=clock.now(),
                subscribe_attempts=Shipment.subscribe_attempts + 1,
                next_subscribe_at=None,
                last_error="",
            )
        )
    return True


async def subscribe_quietly(shipment_id: int) -> None:
    """``subscribe_tracking`` after a commit: the staff member's request has succeeded whatever
    the provider says, and the job retries what failed."""
    try:
        await subscribe_tracking(shipment_id)
    except Exception:  # an after-commit step must never turn a committed request into an error
        log.exception("fulfillment.subscribe_failed", shipment_id=shipment_id)


async def subscribe_due_shipments(*, limit: int = 100) -> int:
    """Subscribe parcels not followed yet (new, failed before, or given up by the provider);
    the ``fulfillment-subscribe-tracking`` job. Returns how many were subscribed."""
    now = clock.now()
    async with uow(write=False) as session:
        due = list(
            (
                await session.execute(
                    select(Shipment.id)
                    .where(
                        Shipment.tracker != manual.NAME,
                        Shipment.subscribed_at.is_(None),
                        Shipment.status.not_in([str(s) for s in FINAL]),
                        Shipment.subscribe_attempts < MAX_SUBSCRIBE_ATTEMPTS,
                        or_(Shipment.next_subscribe_at.is_(None), Shipment.next_subscribe_at <= now),
                    )
                    .order_by(Shipment.id)
                    .limit(limit)
                )
            ).scalars()
        )
    return sum([await subscribe_tracking(shipment_id) for shipment_id in due])


async def refresh_tracking(*, shipment_id: int) -> ShipmentRead:
    """Ask the tracker for the parcel's status now (Kuaidi100's real-time query) and apply the
    answer; a manual shipment is returned as it is. Owns its transactions.

    Raises:
        ShipmentNotFound (404), CarrierUnavailable (503): nothing changed.
    """
    async with uow(write=False) as session:
        row = await shipment_row(session, shipment_id)
        tracker, parcel = row.tracker, await _parcel(session, row)
    if tracker != manual.NAME:
        reported = await get_tracker(tracker).query(parcel)
        async with uow() as session:
            await apply_update(
                session,
                shipment_id=shipment_id,
                update_=reported,
                source=tracker,
                actor=carrier_actor(tracker),
            )
    async with uow(write=False) as session:
        return await get_shipment(session, shipment_id=shipment_id)


async def refresh_quietly(shipment_id: int) -> None:
    """``refresh_tracking`` after a commit; a provider failure is logged, nothing changes."""
    try:
        await refresh_tracking(shipment_id=shipment_id)
    except Exception:  # an after-commit step must never turn a committed request into an error
        log.exception("fulfillment.refresh_failed", shipment_id=shipment_id)
