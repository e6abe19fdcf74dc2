"""Private: order event handlers, subscribed in mercato/worker.py (run once per event).

Besides marking orders paid, they tell ``promotions`` what became of an order (its coupon is
used, returned or kept; redemptions and the customer's facts follow): promotions never reads
orders, so the order's side of each event is looked up here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import promotions
from mercato.core.events import EventEnvelope
from mercato.orders.models import Order
from mercato.orders.service.actions import mark_order_paid


async def on_payment_captured(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``payments.payment_captured``: the order it paid for becomes paid."""
    event: Any = envelope.event
    await mark_order_paid(
        session,
        reference=event.reference,
        payment_id=event.payment_id,
        amount=event.amount,
        currency=event.currency,
    )


async def on_order_paid_for_promotions(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_paid``: its coupon is used, its redemptions paid, the customer's paid
    orders counted (``promotions.on_order_paid``)."""
    event: Any = envelope.event
    order = (
        await session.execute(select(Order.customer_id, Order.paid_at).where(Order.id == event.order_id))
    ).one()
    if order.paid_at is not None:
        await promotions.on_order_paid(
            session, order_id=event.order_id, customer_id=order.customer_id, paid_at=order.paid_at
        )


async def on_order_cancelled_for_promotions(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_cancelled``: the coupon it locked goes back (``promotions.on_order_cancelled``)."""
    event: Any = envelope.event
    await promotions.on_order_cancelled(session, order_id=event.order_id)


async def on_order_closed_for_promotions(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_closed``: an order closed without ever being paid releases its coupon like
    a cancelled one. A paid order closes only after its full refund, which the refund's own event
    reports (``on_payment_refunded_for_promotions``): nothing more here."""
    event: Any = envelope.event
    paid_at = (await session.execute(select(Order.paid_at).where(Order.id == event.order_id))).scalar_one()
    if paid_at is None:
        await promotions.on_order_cancelled(session, order_id=event.order_id)


async def on_order_delivered_for_promotions(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_delivered``: repurchase coupons (``promotions.on_order_delivered``)."""
    event: Any = envelope.event
    customer_id = (
        await session.execute(select(Order.customer_id).where(Order.id == event.order_id))
    ).scalar_one()
    await promotions.on_order_delivered(session, order_id=event.order_id, customer_id=customer_id)


async def on_payment_refunded_for_promotions(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``payments.payment_refunded``: a refund of the payment that paid an order tells promotions
    how much of the order is refunded so far and whether all of it (a full refund may return
    the coupon). Refunds of other payments (money that came for a cancelled order) do not count."""
    event: Any = envelope.event
    kind, _, raw_id = str(event.reference).partition(":")
    if kind != "order" or not raw_id.isdigit() or len(raw_id) > 18:
        return
    payment_id = (await session.execute(select(Order.payment_id).where(Order.id == int(raw_id)))).scalar()
    if payment_id is None or payment_id != event.payment_id:
        return
    await promotions.on_order_refunded(
        session, order_id=int(raw_id), refunded_amount=event.refunded_total, fully=event.is_full
    )
