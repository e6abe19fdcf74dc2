"""Private: fulfilment's event handlers, subscribed in mercato/worker.py (run once per event;
each is idempotent anyway)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.events import EventEnvelope
from mercato.fulfillment.service.pickup import cancel_pickup_code, issue_pickup_code


async def on_order_paid(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_paid``: a store-pickup order gets its pickup code."""
    event: Any = envelope.event
    await issue_pickup_code(session, order_id=event.order_id)


async def on_order_closed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_closed``: refunded before pickup, so its code stops working."""
    event: Any = envelope.event
    await cancel_pickup_code(session, order_id=event.order_id, reason=f"order closed: {event.reason}")
