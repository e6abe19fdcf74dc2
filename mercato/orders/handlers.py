"""Private: order event handlers, subscribed in mercato/worker.py (run once per event)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.events import EventEnvelope
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
