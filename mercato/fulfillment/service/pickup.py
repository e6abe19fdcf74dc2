"""Store pickup (到店核销): a code per paid pickup order, shown to the shopper, checked at the store.

The code is 8 digits derived as HMAC(secret key, order id + a random nonce) mod 10^8: the row
holds the nonce and a keyed hash of the code (to find it), so neither a database copy nor a log
line reveals a code, yet the shopper can be shown theirs again at any time. While open, the
hash is also kept in a unique column, so no two open codes are the same; on a clash a new nonce
is drawn.

Verification at the counter is one transaction: the code moves open → verified with one
conditional UPDATE (a second verification, even a concurrent one, gets a clear 409), each
sub-order is shipped and delivered through ``orders`` (the store's holds are consumed) and the
order completes, audited. Wrong codes and codes for another store are counted per store and
per staff member in the rate limiter (like sign-in failures) and refused past the limit.
"""

from __future__ import annotations

import secrets
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders
from mercato.core import clock
from mercato.core.cache import Limit, get_rate_limiter
from mercato.core.db import insert_ignore
from mercato.core.events import record_event
from mercato.core.security import sign
from mercato.core.settings import get_settings
from mercato.fulfillment.errors import (
    PickupAlreadyVerified,
    PickupAttemptsExceeded,
    PickupCodeInvalid,
    PickupCodeNotFound,
    PickupNotAllowed,
    WrongStore,
)
from mercato.fulfillment.events import PickupCodeIssued, PickupVerified
from mercato.fulfillment.models import PickupCode
from mercato.fulfillment.schemas import PickupCodeRead, PickupVerification
from mercato.fulfillment.service.actions import move_pickup_code, record_created
from mercato.fulfillment.states import PickupStatus

CODE_DIGITS = 8
FAILS_PER_STORE = Limit("fulfillment.pickup.store_15m", "10/15minutes")
FAILS_PER_STAFF = Limit("fulfillment.pickup.staff_15m", "10/15minutes")
SYSTEM = identity.Actor(staff_id=None, label="system")


def _derive(order_id: int, nonce: str) -> str:
    digest = sign(get_settings().effective_secret_key(), f"fulfillment:pickup:{order_id}:{nonce}")
    return str(int(digest, 16) % 10**CODE_DIGITS).zfill(CODE_DIGITS)


def code_hash(code: str) -> str:
    return sign(get_settings().effective_secret_key(), f"fulfillment:pickup-code:{code}")


async def issue_pickup_code(session: AsyncSession, *, order_id: int) -> bool:
    """Give a paid store-pickup order its code (from ``orders.order_paid``); idempotent. Returns
    whether a code was issued now (False: not a pickup order, not paid, or it has one)."""
    order = await orders.read_order(session, order_id=order_id)
    if order.delivery != "pickup" or order.pickup_store_id is None or order.status != orders.OrderStatus.paid:
        return False
    for _attempt in range(5):
        nonce = secrets.token_hex(16)
        digest = code_hash(_derive(order_id, nonce))
        if await insert_ignore(
            session,
            PickupCode.__table__,
            {
                "order_id": order_id,
                "customer_id": order.customer_id,
                "store_id": order.pickup_store_id,
                "nonce": nonce,
                "code_hash": digest,
                "open_code_hash": digest,
                "status": str(PickupStatus.open),
                "issued_at": clock.now(),
            },
        ):
            code_id = (
                await session.execute(select(PickupCode.id).where(PickupCode.order_id == order_id))
            ).scalar_one()
            await record_created(
                session,
                status=str(PickupStatus.open),
                actor=SYSTEM,
                reason="order paid",
                pickup_code_id=code_id,
            )
            await record_event(session, PickupCodeIssued(order_id=order_id, store_id=order.pickup_store_id))
            return True
        if (await session.execute(select(PickupCode.id).where(PickupCode.order_id == order_id))).first():
            return False  # issued already (a redelivered event)
    raise RuntimeError("no free pickup code after 5 draws")  # 10^8 codes: practically unreachable


async def get_pickup_code(
    session: AsyncSession, *, order_id: int, customer_id: int | None = None
) -> PickupCodeRead:
    """The order's pickup code; the digits only while it can be used. ``customer_id`` scopes it
    to that shopper's orders.

    Raises:
        OrderNotFound (404): not the shopper's order; PickupCodeNotFound (404): not a pickup
        order, or not paid yet.
    """
    await orders.read_order(session, order_id=order_id, customer_id=customer_id)
    row = (
        await session.execute(select(PickupCode).where(PickupCode.order_id == order_id))
    ).scalar_one_or_none()
    if row is None:
        raise PickupCodeNotFound()
    status = PickupStatus(row.status)
    return PickupCodeRead(
        order_id=row.order_id,
        store_id=row.store_id,
        status=status,
        code=_derive(row.order_id, row.nonce) if status is PickupStatus.open else None,
        issued_at=row.issued_at,
        verified_at=row.verified_at,
    )


async def _refuse(
    error: type[PickupCodeInvalid] | type[WrongStore], *, store_id: int, actor: identity.Actor
) -> NoReturn:
    """Count a failed attempt against the store and the staff member, then refuse."""
    limiter = get_rate_limiter()
    await limiter.count(FAILS_PER_STORE, str(store_id))
    if actor.staff_id is not None:
        await limiter.count(FAILS_PER_STAFF, str(actor.staff_id))
    raise error()


async def verify_pickup(
    session: AsyncSession, *, store_id: int, code: str, actor: identity.Actor
) -> PickupVerification:
    """Hand over a pickup order at the counter of ``store_id`` against the shopper's code.

    Raises:
        PickupAttemptsExceeded (429): too many wrong codes at this store or by this staff member;
        PickupCodeInvalid (422): no such code; WrongStore (409): the code is for another store;
        PickupAlreadyVerified (409): collected already; PickupNotAllowed (409): the order was
        closed. Nothing changes on any refusal.
    """
    limiter = get_rate_limiter()
    await limiter.check(FAILS_PER_STORE, str(store_id), error=PickupAttemptsExceeded)
    if actor.staff_id is not None:
        await limiter.check(FAILS_PER_STAFF, str(actor.staff_id), error=PickupAttemptsExceeded)
    digest = code_hash(code)
    row = (
        await session.execute(select(PickupCode).where(PickupCode.open_code_hash == digest))
    ).scalar_one_or_none()
    if row is None:
        used = (
            await session.execute(
                select(PickupCode)
                .where(PickupCode.code_hash == digest)
                .order_by(PickupCode.id.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        if used is None:
            await _refuse(PickupCodeInvalid, store_id=store_id, actor=actor)
        elif used.store_id != store_id:
            await _refuse(WrongStore, store_id=store_id, actor=actor)
        elif used.status == PickupStatus.verified:
            raise PickupAlreadyVerified()
        raise PickupNotAllowed()
    if row.store_id != store_id:
        await _refuse(WrongStore, store_id=store_id, actor=actor)
    now = clock.now()
    if not await move_pickup_code(
        session,
        pickup_code_id=row.id,
        target=PickupStatus.verified,
        actor=actor,
        reason=f"verified at store {store_id}",
        verified_at=now,
        closed_at=now,
    ):
        raise PickupAlreadyVerified()  # a concurrent verification won
    order = await orders.read_order(session, order_id=row.order_id)
    try:
        for sub in order.sub_orders:
            await orders.mark_sub_order_shipped(
                session, order_id=order.id, sub_order_id=sub.id, actor=actor, reason=orders.PICKED_UP
            )
            await orders.mark_sub_order_delivered(
                session, order_id=order.id, sub_order_id=sub.id, actor=actor, reason=orders.PICKED_UP
            )
        await orders.complete_order(session, order_id=order.id, actor=actor, reason=orders.PICKUP_VERIFIED)
    except (orders.CannotShip, orders.CannotDeliver, orders.CannotComplete):
        raise PickupNotAllowed() from None
    await identity.record_audit(
        session,
        actor=actor,
        action="pickup.verify",
        object_type="order",
        object_id=str(order.id),
        before={"status": str(order.status)},
        after={"status": str(orders.OrderStatus.completed), "store_id": store_id},
    )
    await record_event(session, PickupVerified(order_id=order.id, store_id=store_id))
    return PickupVerification(
        order_id=order.id,
        order_number=order.number,
        store_id=store_id,
        status=PickupStatus.verified,
        verified_at=now,
    )


async def cancel_pickup_code(session: AsyncSession, *, order_id: int, reason: str) -> bool:
    """The order was closed before pickup (refunded): its code stops working. Idempotent."""
    row = (
        await session.execute(select(PickupCode.id).where(PickupCode.order_id == order_id))
    ).scalar_one_or_none()
    if row is None:
        return False
    return await move_pickup_code(
        session,
        pickup_code_id=row,
        target=PickupStatus.cancelled,
        actor=SYSTEM,
        reason=reason,
        closed_at=clock.now(),
    )
