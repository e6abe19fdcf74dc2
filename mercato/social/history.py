"""The status history of a flash-sale session, a bargaining offer or a bargain
(``social_status_change``), oldest first, for the console's detail pages and the staff API."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.social.models import StatusChange
from mercato.social.schemas import StatusChangeRead

MAX_CHANGES = 500


async def list_status_changes(
    session: AsyncSession,
    *,
    subject: Literal["flash_session", "group_offer", "bargain_offer", "bargain"],
    subject_id: int,
) -> list[StatusChangeRead]:
    """Every recorded status move of the subject, oldest first (empty for an unknown id)."""
    rows = (
        await session.execute(
            select(StatusChange)
            .where(StatusChange.subject == subject, StatusChange.subject_id == subject_id)
            .order_by(StatusChange.id)
            .limit(MAX_CHANGES)
        )
    ).scalars()
    return [
        StatusChangeRead(
            from_status=row.from_status,
            to_status=row.to_status,
            actor_id=row.actor_id,
            actor_label=row.actor_label,
            reason=row.reason,
            created_at=row.created_at,
        )
        for row in rows
    ]
