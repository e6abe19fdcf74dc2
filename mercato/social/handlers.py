"""Private: social event handlers, subscribed in mercato/worker.py (run once per event).

A flash-sale order's fate (paid, cancelled, not paid in time, refunded in full before shipping)
settles its purchase and frees its buyer's limit; a group order's payment takes a seat (or is
refunded), its cancellation leaves the group; a bargain's order paid makes it bought, cancelled
or refunded gives the offer's unit back (the bargain runs again unless its time is up); orders
that are not a play's are ignored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.events import EventEnvelope
from mercato.social import invites
from mercato.social.plays import bargain_buy, flash_buy, group_buy


async def on_order_paid(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_paid``."""
    event: Any = envelope.event
    await flash_buy.on_order_paid(session, order_id=event.order_id)
    await group_buy.on_order_paid(session, order_id=event.order_id)
    await bargain_buy.on_order_paid(session, order_id=event.order_id)
    await invites.on_order_paid(session, order_id=event.order_id)  # an invitee's first: both rewarded


async def on_order_cancelled(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_cancelled``: cancelled by the shopper or staff, or not paid in time."""
    event: Any = envelope.event
    await flash_buy.on_order_released(session, order_id=event.order_id)
    await group_buy.on_order_released(session, order_id=event.order_id)
    await bargain_buy.on_order_released(session, order_id=event.order_id)


async def on_order_closed(session: AsyncSession, envelope: EventEnvelope) -> None:
    """``orders.order_closed``: refunded in full before shipping (its units went back with its
    holds)."""
    event: Any = envelope.event
    await flash_buy.on_order_released(session, order_id=event.order_id)
    await bargain_buy.on_order_released(session, order_id=event.order_id)
