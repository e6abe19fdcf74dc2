"""The named order actions: each moves the status along the transition table with one
conditional UPDATE (so two racing actions cannot both win), records the change and its event."""

from __future__ import annotations

import datetime as dt
import functools

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, identity, inventory, shop
from mercato.core import clock
from mercato.core.errors import Conflict
from mercato.core.events import record_event
from mercato.orders.errors import (
    CannotCancel,
    CannotClose,
    CannotComplete,
    CannotDeliver,
    CannotDropUnits,
    CannotShip,
    OrderNotFound,
    ShippingOnHold,
)
from mercato.orders.events import (
    OrderCancelled,
    OrderClosed,
    OrderCompleted,
    OrderDelivered,
    OrderPaid,
    OrderPaymentRefused,
    OrderShipped,
)
from mercato.orders.models import Order, OrderLine, OrderStatusChange, SubOrder
from mercato.orders.service.notes import COMPLETED_AUTOMATICALLY, DELIVERED, PAYMENT_CAPTURED, SHIPPED
from mercato.orders.states import SUB_ORDER, OrderStatus, sources

log = structlog.get_logger(__name__)
_AT_OR_PAST = {
    OrderStatus.shipped: {OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed},
    OrderStatus.delivered: {OrderStatus.delivered, OrderStatus.completed},
}
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
    with_sub_orders: bool = True,
    **values: object,
) -> str | None:
    """Move the order to ``target`` if the table allows it from its current status; return the
    status it came from, or None if it was not in a status that allows the move.

    ``with_sub_orders`` moves every sub-order along (payment, cancellation, completion); the
    shipping moves leave them alone, as each sub-order ships on its own."""
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
    if with_sub_orders:
        await session.execute(
            update(SubOrder)
            .where(SubOrder.order_id == order_id, SubOrder.status.in_(sources(target, SUB_ORDER)))
            .values(status=str(target))
        )
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


async def release_ship_hold(
    session: AsyncSession, *, order_id: int, actor: identity.Actor, reason: str
) -> bool:
    """A held order may ship now (its group is complete): one conditional UPDATE, written on its
    timeline. Returns False when it was not held (a repeat changes nothing).

    Raises: OrderNotFound (404).
    """
    status = (await session.execute(select(Order.status).where(Order.id == order_id))).scalar_one_or_none()
    if status is None:
        raise OrderNotFound()
    released = (
        await session.execute(
            update(Order)
            .where(Order.id == order_id, Order.ship_hold.is_(True))
            .values(ship_hold=False, updated_at=clock.now())
            .returning(Order.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if released is None:
        return False
    session.add(
        OrderStatusChange(
            order_id=order_id,
            from_status=status,
            to_status=status,
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason,
            created_at=clock.now(),
        )
    )
    await session.flush()
    return True


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
    the amount matches; its holds then last until shipped and its units count as sold (the
    catalog's ``sales_count``). Returns whether it moved.

    A repeat of the payment that paid the order does nothing. Any other payment for an order
    that can no longer take it (cancelled, or paid already by another payment) writes
    ``OrderPaymentRefused``: the money must go back (``checkout`` refunds it).
    """
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
        reason=PAYMENT_CAPTURED % {"payment_id": payment_id},
        paid_at=clock.now(),
        payment_id=payment_id,
    )
    if came_from is None:
        now_at = (
            await session.execute(select(Order.status, Order.payment_id).where(Order.id == order_id))
        ).one()
        if now_at.payment_id != payment_id:
            log.warning("orders.paid_after_close", order_id=order_id, payment_id=payment_id)
            await record_event(
                session,
                OrderPaymentRefused(
                    order_id=order_id, payment_id=payment_id, reason=f"the order is {now_at.status}"
                ),
            )
        return False
    held = await inventory.keep_reservations(session, reference=f"order:{order_id}")
    sold: dict[int, int] = {}
    for product_id, units in await session.execute(
        select(OrderLine.product_id, OrderLine.quantity).where(OrderLine.order_id == order_id)
    ):
        sold[product_id] = sold.get(product_id, 0) + units
    await catalog.record_sales(session, sold=sold)
    ordered = sum(sold.values())
    if held != ordered:  # the holds lapsed before the money came: staff must restock or refund
        log.error("orders.paid_without_stock", order_id=order_id, held=held, ordered=ordered)
    await record_event(session, OrderPaid(order_id=order_id, payment_id=payment_id))
    return True


async def list_overdue_unpaid_orders(session: AsyncSession, *, limit: int = 200) -> list[int]:
    """Unpaid orders past their payment deadline, oldest deadline first (for the
    ``orders-cancel-unpaid`` job, run by ``checkout``: the cancel closes the payment too)."""
    due = await session.execute(
        select(Order.id)
        .where(Order.status == str(OrderStatus.pending_payment), Order.pay_by <= clock.now())
        .order_by(Order.pay_by)
        .limit(limit)
    )
    return list(due.scalars())


async def _move_sub_order(
    session: AsyncSession,
    *,
    order_id: int,
    sub_order_id: int,
    target: OrderStatus,
    actor: identity.Actor,
    reason: str,
    refused: type[Conflict],
    **values: object,
) -> str | None:
    """Move one sub-order along ``SUB_ORDER`` with one conditional UPDATE.

    Returns the status it came from, or None when it is already at or past ``target`` (a repeat
    changes nothing); raises ``refused`` when it is somewhere the move is not allowed from. The
    caller records the step (``_record_part_step``) once it knows whether the order moved too."""
    current = (
        await session.execute(
            select(SubOrder.status).where(SubOrder.id == sub_order_id, SubOrder.order_id == order_id)
        )
    ).scalar_one_or_none()
    if current is None:
        raise OrderNotFound()
    moved = (
        await session.execute(
            update(SubOrder)
            .where(SubOrder.id == sub_order_id, SubOrder.status.in_(sources(target, SUB_ORDER)))
            .values(status=str(target), **values)
            .returning(SubOrder.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        now_at = (
            await session.execute(select(SubOrder.status).where(SubOrder.id == sub_order_id))
        ).scalar_one()
        if now_at in _AT_OR_PAST[target]:
            return None
        raise refused()
    return current


async def _record_part_step(
    session: AsyncSession,
    *,
    order_id: int,
    sub_order_id: int,
    came_from: str,
    target: OrderStatus,
    actor: identity.Actor,
    reason: str,
    order_moved: bool | None,
) -> None:
    """Record a sub-order's step in the order's timeline.

    An order of several parts (warehouses) records each part's step (``sub_order_id`` set),
    before the order's own. An order of one part records the step once, as the order's: called
    with ``order_moved=None`` before the order's move it records nothing, and after it (True or
    False) only when the order did not move along with its one part."""
    one_part = len(await _sub_statuses(session, order_id)) == 1
    if order_moved is not (False if one_part else None):
        return
    await _add_part_change(
        session,
        order_id=order_id,
        sub_order_id=sub_order_id,
        came_from=came_from,
        target=target,
        actor=actor,
        reason=reason,
    )


async def _add_part_change(
    session: AsyncSession,
    *,
    order_id: int,
    sub_order_id: int,
    came_from: str,
    target: OrderStatus,
    actor: identity.Actor,
    reason: str,
) -> None:
    session.add(
        OrderStatusChange(
            order_id=order_id,
            sub_order_id=sub_order_id,
            from_status=came_from,
            to_status=str(target),
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason,
            created_at=clock.now(),
        )
    )
    await session.flush()


async def _sub_statuses(session: AsyncSession, order_id: int) -> list[str]:
    return list(
        (await session.execute(select(SubOrder.status).where(SubOrder.order_id == order_id))).scalars()
    )


async def mark_sub_order_shipped(
    session: AsyncSession, *, order_id: int, sub_order_id: int, actor: identity.Actor, reason: str = SHIPPED
) -> bool:
    """One warehouse's part of a paid order left: its held units leave stock (the ledger books a
    shipment), and the order is partly shipped, or shipped once every part has left. Returns
    False when that sub-order had already shipped (a repeat changes nothing).

    Raises:
        OrderNotFound (404), CannotShip (409): not paid, or cancelled or closed;
        ShippingOnHold (409): held until its group is complete (``release_ship_hold``).
    """
    held = (await session.execute(select(Order.ship_hold).where(Order.id == order_id))).scalar_one_or_none()
    if held:
        raise ShippingOnHold()
    now = clock.now()
    came_from = await _move_sub_order(
        session,
        order_id=order_id,
        sub_order_id=sub_order_id,
        target=OrderStatus.shipped,
        actor=actor,
        reason=reason,
        refused=CannotShip,
        shipped_at=now,
    )
    if came_from is None:
        return False
    record_step = functools.partial(
        _record_part_step,
        session,
        order_id=order_id,
        sub_order_id=sub_order_id,
        came_from=came_from,
        target=OrderStatus.shipped,
        actor=actor,
        reason=reason,
    )
    await record_step(order_moved=None)
    warehouse_id = (
        await session.execute(select(SubOrder.warehouse_id).where(SubOrder.id == sub_order_id))
    ).scalar_one()
    await inventory.consume_reservations(session, reference=f"order:{order_id}", warehouse_id=warehouse_id)
    statuses = await _sub_statuses(session, order_id)
    fully = all(s != OrderStatus.paid for s in statuses)
    target = OrderStatus.shipped if fully else OrderStatus.partially_shipped
    moved = await _move(
        session,
        order_id=order_id,
        target=target,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        reason=reason,
        with_sub_orders=False,
        shipped_at=now if fully else None,
    )
    await record_step(order_moved=moved is not None)
    await record_event(session, OrderShipped(order_id=order_id, sub_order_id=sub_order_id, fully=fully))
    return True


async def mark_sub_order_delivered(
    session: AsyncSession,
    *,
    order_id: int,
    sub_order_id: int,
    actor: identity.Actor,
    reason: str = DELIVERED,
) -> bool:
    """One shipped part arrived; once every part has, the order is delivered and completes
    ``order_auto_complete_days`` later. Returns False for a repeat.

    Raises:
        OrderNotFound (404), CannotDeliver (409): that part has not shipped.
    """
    now = clock.now()
    came_from = await _move_sub_order(
        session,
        order_id=order_id,
        sub_order_id=sub_order_id,
        target=OrderStatus.delivered,
        actor=actor,
        reason=reason,
        refused=CannotDeliver,
        delivered_at=now,
    )
    if came_from is None:
        return False
    record_step = functools.partial(
        _record_part_step,
        session,
        order_id=order_id,
        sub_order_id=sub_order_id,
        came_from=came_from,
        target=OrderStatus.delivered,
        actor=actor,
        reason=reason,
    )
    await record_step(order_moved=None)
    moved: str | None = None
    if all(s in (OrderStatus.delivered, OrderStatus.closed) for s in await _sub_statuses(session, order_id)):
        moved = await _move(
            session,
            order_id=order_id,
            target=OrderStatus.delivered,
            actor_id=actor.staff_id,
            actor_label=actor.label,
            reason=reason,
            with_sub_orders=False,
            delivered_at=now,
        )
        if moved is not None:
            await record_event(session, OrderDelivered(order_id=order_id))
    await record_step(order_moved=moved is not None)
    return True


async def complete_delivered_orders(session: AsyncSession, *, limit: int = 200) -> int:
    """Complete orders delivered ``order_auto_complete_days`` ago (the ``orders-complete-delivered``
    job): the after-sales window has closed. Returns how many completed."""
    days = (await shop.get_settings(session)).order_auto_complete_days
    due_before = clock.now() - dt.timedelta(days=days)
    due = (
        await session.execute(
            select(Order.id)
            .where(Order.status == str(OrderStatus.delivered), Order.delivered_at <= due_before)
            .order_by(Order.delivered_at)
            .limit(limit)
        )
    ).scalars()
    completed = 0
    for order_id in list(due):
        moved = await _move(
            session,
            order_id=order_id,
            target=OrderStatus.completed,
            actor_id=None,
            actor_label=SYSTEM.label,
            reason=COMPLETED_AUTOMATICALLY,
            closed_at=clock.now(),
        )
        if moved is not None:
            await record_event(session, OrderCompleted(order_id=order_id))
            completed += 1
    return completed


async def _close_now(
    session: AsyncSession,
    *,
    order_id: int,
    target: OrderStatus,
    actor: identity.Actor,
    reason: str,
    refused: type[Conflict],
) -> bool:
    """Move the order to a final ``target`` now; False when it is already there.

    Raises:
        OrderNotFound (404), ``refused`` (409): its status does not allow the move.
    """
    status = (await session.execute(select(Order.status).where(Order.id == order_id))).scalar_one_or_none()
    if status is None:
        raise OrderNotFound()
    moved = await _move(
        session,
        order_id=order_id,
        target=target,
        actor_id=actor.staff_id,
        actor_label=actor.label,
        reason=reason,
        closed_at=clock.now(),
    )
    if moved is None:
        if status == target:
            return False
        raise refused()
    return True


async def complete_order(session: AsyncSession, *, order_id: int, actor: identity.Actor, reason: str) -> bool:
    """Complete a delivered order now (store pickup verified at the counter, or the shopper
    confirms receipt 确认收货) instead of waiting for ``complete_delivered_orders``. Returns False
    when it was already completed.

    Raises:
        OrderNotFound (404), CannotComplete (409): not delivered yet.
    """
    if not await _close_now(
        session,
        order_id=order_id,
        target=OrderStatus.completed,
        actor=actor,
        reason=reason,
        refused=CannotComplete,
    ):
        return False
    await record_event(session, OrderCompleted(order_id=order_id))
    return True


async def close_paid_order(
    session: AsyncSession, *, order_id: int, actor: identity.Actor, reason: str
) -> bool:
    """A paid order was refunded in full before anything shipped: it closes and its held stock
    goes back on sale. Returns False when it was already closed.

    Raises:
        OrderNotFound (404), CannotClose (409): not paid, or something has shipped.
    """
    if not await _close_now(
        session, order_id=order_id, target=OrderStatus.closed, actor=actor, reason=reason, refused=CannotClose
    ):
        return False
    await inventory.release_reservations(
        session, reference=f"order:{order_id}", reason=f"order closed: {reason}"
    )
    await record_event(session, OrderClosed(order_id=order_id, reason=reason))
    return True


async def drop_units_before_shipping(
    session: AsyncSession,
    *,
    order_id: int,
    order_line_id: int,
    quantity: int,
    actor: identity.Actor,
    reason: str,
) -> None:
    """Part of a paid line was refunded before it shipped: those units will not ship and their
    held stock goes back on sale now. A sub-order left with nothing to ship closes. (Refunding
    the whole order instead is ``close_paid_order``.)

    Raises:
        OrderNotFound (404), CannotDropUnits (409): the part has shipped, or fewer units are left.
    """
    line = (
        await session.execute(
            select(OrderLine.sub_order_id, OrderLine.sku_id).where(
                OrderLine.id == order_line_id, OrderLine.order_id == order_id
            )
        )
    ).one_or_none()
    if line is None:
        raise OrderNotFound()
    sub = (
        await session.execute(
            select(SubOrder.status, SubOrder.warehouse_id).where(SubOrder.id == line.sub_order_id)
        )
    ).one()
    if sub.status != OrderStatus.paid:
        raise CannotDropUnits()
    dropped = (
        await session.execute(
            update(OrderLine)
            .where(
                OrderLine.id == order_line_id, OrderLine.refunded_quantity + quantity <= OrderLine.quantity
            )
            .values(refunded_quantity=OrderLine.refunded_quantity + quantity)
            .returning(OrderLine.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if dropped is None:
        raise CannotDropUnits()
    await inventory.release_units(
        session,
        reference=f"order:{order_id}",
        sku_id=line.sku_id,
        warehouse_id=sub.warehouse_id,
        quantity=quantity,
        reason=f"refunded before shipping: {reason}",
    )
    left = (
        await session.execute(
            select(func.sum(OrderLine.quantity - OrderLine.refunded_quantity)).where(
                OrderLine.sub_order_id == line.sub_order_id
            )
        )
    ).scalar_one()
    if not left:
        came_from = await _move_sub_order(
            session,
            order_id=order_id,
            sub_order_id=line.sub_order_id,
            target=OrderStatus.closed,
            actor=actor,
            reason=f"nothing left to ship: {reason}",
            refused=CannotDropUnits,
        )
        if came_from is not None:
            await _add_part_change(
                session,
                order_id=order_id,
                sub_order_id=line.sub_order_id,
                came_from=came_from,
                target=OrderStatus.closed,
                actor=actor,
                reason=f"nothing left to ship: {reason}",
            )
