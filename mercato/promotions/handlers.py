"""Private: promotions' event handlers, subscribed in mercato/worker.py (run at least once per
event, so each is idempotent by its issue key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.events import EventEnvelope
from mercato.promotions.coupons.issuance import issue_for_trigger
from mercato.promotions.schemas import IssueTrigger


async def on_customer_registered(session: AsyncSession, envelope: EventEnvelope) -> None:
    """新人礼包: the registration templates, once per customer."""
    event: Any = envelope.event
    await issue_for_trigger(
        session,
        trigger=IssueTrigger.registration,
        customer_id=event.customer_id,
        key=f"registration:{event.customer_id}",
    )
