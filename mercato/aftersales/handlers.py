"""Private: after-sales event handlers, subscribed in mercato/worker.py (each event handled once)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.aftersales.service.refunds import record_refund_outcome
from mercato.core.events import EventEnvelope


async def on_payment_refunded(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``payments.payment_refunded``: the request that issued this refund is refunded, then
    completed. A refund issued by anyone else, or a repeat, changes nothing."""
    event: Any = envelope.event
    await record_refund_outcome(session, payment_id=event.payment_id, refund_id=event.refund_id)
