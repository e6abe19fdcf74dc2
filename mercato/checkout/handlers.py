"""Private: checkout's event handlers, subscribed in mercato/worker.py (run once per event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import cart, payments
from mercato.core.events import EventEnvelope


async def on_order_paid(session: AsyncSession, envelope: EventEnvelope) -> None:
    """The ordered lines leave the cart, which is open again for the next purchase."""
    event: Any = envelope.event
    await cart.finish_checkout(session, reference=f"order:{event.order_id}", purchased=True)


async def on_order_cancelled(session: AsyncSession, envelope: EventEnvelope) -> None:
    """The cart thaws with its lines; a payment still open for the order is closed (``cancel_order``
    closed those it saw already; this catches one opened concurrently)."""
    event: Any = envelope.event
    reference = f"order:{event.order_id}"
    await cart.finish_checkout(session, reference=reference, purchased=False)
    opened = await payments.list_payments(session, reference=reference, status=payments.PaymentStatus.pending)
    for payment in opened.items:
        await payments.close_payment(session, payment_id=payment.id, actor=None, reason="order cancelled")


async def on_order_payment_refused(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_payment_refused``: money captured for an order that can no longer take it
    (cancelled, or paid by another payment) goes back in full, automatically."""
    event: Any = envelope.event
    await payments.refund_unwanted_payment(
        session,
        payment_id=event.payment_id,
        reason=f"order {event.order_id} cannot take this payment ({event.reason}): refunded automatically",
    )
