"""The named order actions: each moves the status along the transition table with one
conditional UPDATE (so two racing actions cannot both win), records the change and its event."""

from __future__ import annotations

import structlog
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, inventory
from mercato.core import clock
from mercato.core.events import record_event
from mercato.orders.errors import CannotCancel, OrderNotFound
from mercato.orders.events import OrderCancelled, OrderPaid
from mercato.orders.models import Order, OrderStatusChange, SubOrder
from mercato.orders.states import OrderStatus, sources

log = structlog.get_logger(__name__)
SYSTEM = identity.Actor(staff_id=None, label="system")


async def _move(
    session: AsyncSession,
    *,
    order_id: int,
    target: OrderStatus,
    actor_id: int | None,
    actor_label: str,
    reason: str,
    customer_id: int | None = None,
    **values: object,
) -> str | None:
    """Move the order to ``target`` if the table allows it from its current status; return the
    status it came from, or None if it was not in a status that allows the move."""
    now = clock.now()
    stmt = update(Order).where(Order.id == order_id, Order.status.in_(sources(target)))
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    current = (await session.execute(select(Order.status).where(Order.id == order_id))).scalar_one_or_none()
    moved = (
        await session.execute(
            stmt.values(status=str(target), updated_at=now, **values)
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return None
    await session.execute(update(SubOrder).where(SubOrder.order_id == order_id).values(status=str(target)))
    session.add(
        OrderStatusChange(
            order_id=order_id,
            from_status=current or "",
            to_status=str(target),
            actor_id=actor_id,
            actor_label=actor_label,
            reason=reason,
            created_at=now,
        )
    )
    await session.flush()
    return current


async def cancel_order(
    session: AsyncSession,
    *,
    order_id: int,
    reason: str,
    actor: identity.Actor,
    customer_id: int | None = None,
) -> None:
    """Cancel an unpaid order and give its stock back; a staff member's cancel is audited.

    ``customer_id`` limits it to that customer's order (a shopper cancelling their own).

    Raises:
        OrderNotFound (404), CannotCancel (409): already paid, shipped or closed.
    """
    exists = select(Order.id).where(Order.id == order_id)
    if customer_id is not None:
        exists = exists.where(Order.customer_id == customer_id)
    if (await session.execute(exists)).scalar_one_or_none() is None:
        raise OrderNotFound()
    came_from = await _move(
        session,
        order_id=order_id,
        target=OrderStatus.cancelled,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        reason=reason,
        customer_id=customer_id,
        closed_at=clock.now(),
    )
    if came_from is None:
        raise CannotCancel()
    if actor.staff_id is not None:
        await identity.record_audit(
            session,
            actor=actor,
            action="order.cancel",
            object_type="order",
            object_id=str(order_id),
            before={"status": came_from},
            after={"status": str(OrderStatus.cancelled), "reason": reason},
        )
    await inventory.release_reservations(
        session, reference=f"order:{order_id}", reason=f"order cancelled: {reason}"
    )
    await record_event(session, OrderCancelled(order_id=order_id, reason=reason))


async def mark_order_paid(
    session: AsyncSession, *, reference: str, payment_id: int, amount: int, currency: str
) -> bool:
    """A payment for ``order:<id>`` was captured: the order is paid if it still waits for it and
    the amount matches. Returns whether it moved (a repeat, or a payment for a cancelled order,
    does nothing here and is logged: the payments side flags money that arrived too late)."""
    kind, _, raw_id = reference.partition(":")
    if kind != "order" or not raw_id.isdigit():
        return False
    order_id = int(raw_id)
    order = (
        await session.execute(select(Order.total_amount, Order.currency).where(Order.id == order_id))
    ).one_or_none()
    if order is None or (order.total_amount, order.currency) != (amount, currency):
        log.warning("orders.payment_mismatch", order_id=order_id, payment_id=payment_id)
        return False
    came_from = await _move(
        session,
        order_id=order_id,
        target=OrderStatus.paid,
        actor_id=None,
        actor_label="payments",
        reason=f"payment {payment_id} captured",
        paid_at=clock.now(),
        payment_id=payment_id,
    )
    if came_from is None:
        log.warning("orders.paid_after_close", order_id=order_id, payment_id=payment_id)
        return False
    await record_event(session, OrderPaid(order_id=order_id, payment_id=payment_id))
    return True


async def cancel_unpaid_orders(session: AsyncSession, *, limit: int = 200) -> int:
    """Cancel orders past their payment deadline (the ``orders-cancel-unpaid`` job)."""
    due = (
        await session.execute(
            select(Order.id)
            .where(Order.status == str(OrderStatus.pending_payment), Order.pay_by <= clock.now())
            .order_by(Order.pay_by)
            .limit(limit)
        )
    ).scalars()
    cancelled = 0
    for order_id in list(due):
        try:
            await cancel_order(session, order_id=order_id, reason="not paid in time", actor=SYSTEM)
        except CannotCancel:
            continue  # paid at the last moment
        cancelled += 1
    return cancelled
