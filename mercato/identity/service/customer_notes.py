"""Operators' notes on a customer (备注): who wrote what and when, newest first; audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.identity.models import CustomerNote
from mercato.identity.schemas import Actor, CustomerNoteRead, CustomerNoteWrite
from mercato.identity.service.audit import record_audit
from mercato.identity.service.customer_tags import check_active_customer


async def add_customer_note(
    session: AsyncSession, *, customer_id: int, data: CustomerNoteWrite, actor: Actor
) -> CustomerNoteRead:
    """Write a note on the customer, signed by ``actor``.

    Raises:
        CustomerNotFound (404; deleted accounts take no notes).
    """
    await check_active_customer(session, customer_id)
    note = CustomerNote(
        customer_id=customer_id,
        author_id=actor.staff_id,
        author_label=actor.label,
        body=data.body,
        created_at=clock.now(),
    )
    session.add(note)
    await session.flush()
    await record_audit(
        session,
        actor=actor,
        action="customer.note",
        object_type="customer",
        object_id=str(customer_id),
        after={"note_id": note.id, "body": note.body},
    )
    return CustomerNoteRead.model_validate(note)


async def list_customer_notes(
    session: AsyncSession, *, customer_id: int, cursor: str | None = None, limit: int | None = None
) -> Page[CustomerNoteRead]:
    """The customer's notes, newest first.

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = (
        select(CustomerNote)
        .where(CustomerNote.customer_id == customer_id)
        .order_by(CustomerNote.id.desc())
        .limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(CustomerNote.id < after)
    rows = list((await session.execute(stmt)).scalars())
    items = [CustomerNoteRead.model_validate(row) for row in rows[:size]]
    return Page[CustomerNoteRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )
