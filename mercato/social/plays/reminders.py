"""Reminders of flash-sale sessions ("提醒我"): a message when a session starts, sent once."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.events import record_event
from mercato.social.events import FlashSaleStarting
from mercato.social.models import FlashReminder, FlashSession
from mercato.social.schemas import FlashSessionStatus

#: Reminders go out this long before the start; a session that started longer ago than ``LATE``
#: (the job was down) is not announced any more: it may be sold out.
AHEAD = dt.timedelta(minutes=1)
LATE = dt.timedelta(minutes=10)


async def send_due_reminders(session: AsyncSession, *, limit: int = 1000) -> int:
    """Record a ``FlashSaleStarting`` event for each unsent reminder of a session starting now
    (the ``social-flash`` job); each reminder is marked sent by one conditional UPDATE, so two
    runs never send it twice. Returns how many were sent."""
    now = clock.now()
    due = (
        await session.execute(
            select(
                FlashReminder.session_id, FlashReminder.customer_id, FlashSession.name, FlashSession.starts_at
            )
            .join(FlashSession, FlashSession.id == FlashReminder.session_id)
            .where(
                FlashReminder.sent_at.is_(None),
                FlashSession.status == str(FlashSessionStatus.published),
                FlashSession.starts_at <= now + AHEAD,
                FlashSession.starts_at > now - LATE,
            )
            .limit(limit)
        )
    ).all()
    sent = 0
    for session_id, customer_id, name, starts_at in due:
        marked = (
            await session.execute(
                update(FlashReminder)
                .where(
                    FlashReminder.session_id == session_id,
                    FlashReminder.customer_id == customer_id,
                    FlashReminder.sent_at.is_(None),
                )
                .values(sent_at=now)
                .returning(FlashReminder.customer_id)
                .execution_options(synchronize_session=False)
            )
        ).scalar_one_or_none()
        if marked is None:
            continue
        await record_event(
            session,
            FlashSaleStarting(
                customer_id=customer_id,
                session_id=session_id,
                session_name=name,
                starts_at=starts_at.isoformat(),
            ),
        )
        sent += 1
    return sent
