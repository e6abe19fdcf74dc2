"""The audit log of staff writes: appended in the same transaction as the write, listed with filters.

Entries are never updated or deleted by the application; the log keeps who (staff id and
label), what (action), which object (type and id), the state before and after, the IP, the
request id and the time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.identity.models import AuditEntry
from mercato.identity.schemas import Actor, AuditEntryRead


async def record_audit(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log, in the same transaction as the write it describes."""
    session.add(
        AuditEntry(
            actor_id=actor.staff_id,
            actor_label=actor.label,
            action=action,
            object_type=object_type,
            object_id=object_id,
            before=before,
            after=after,
            ip=actor.ip,
            request_id=actor.request_id,
            created_at=clock.now(),
        )
    )
    await session.flush()


async def list_audit_entries(
    session: AsyncSession,
    *,
    actor_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[AuditEntryRead]:
    """Newest first, filtered by any combination of actor, action, object and time range.

    ``action`` matches exactly, or as a prefix when it ends with a dot (``"role."``).
    ``since`` is inclusive and ``until`` exclusive.

    Raises:
        InvalidCursor (400 core.invalid_cursor).
    """
    size = clamp_limit(limit)
    after_id = id_cursor(cursor)
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(size + 1)
    if after_id is not None:
        stmt = stmt.where(AuditEntry.id < after_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        if action.endswith("."):
            stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
        else:
            stmt = stmt.where(AuditEntry.action == action)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if since is not None:
        stmt = stmt.where(AuditEntry.created_at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.created_at < until)
    rows = list((await session.execute(stmt)).scalars())
    items = [AuditEntryRead.model_validate(row) for row in rows[:size]]
    next_cursor = encode_cursor(items[-1].id) if len(rows) > size else None
    return Page[AuditEntryRead](items=items, next_cursor=next_cursor)
