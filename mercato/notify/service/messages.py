"""In-app messages: written once per fact (``dedupe_key``) in the customer's language, listed
and marked read by their customer only; the email goes into the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import structlog
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, shop
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.settings import get_settings
from mercato.notify.errors import MessageNotFound
from mercato.notify.models import Delivery, DeliveryStatusChange, Message
from mercato.notify.schemas import MarkedRead, MessageKind, MessageRead, UnreadCount
from mercato.notify.service.emails import queue_email
from mercato.notify.templating import check_params, message_locale, render

log = structlog.get_logger("mercato.notify")


async def _find(
    session: AsyncSession, customer_id: int, kind: MessageKind, dedupe_key: str
) -> Message | None:
    return (
        await session.execute(
            select(Message).where(
                Message.customer_id == customer_id,
                Message.kind == str(kind),
                Message.dedupe_key == dedupe_key,
            )
        )
    ).scalar_one_or_none()


async def notify_customer(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: MessageKind,
    params: Mapping[str, Any],
    dedupe_key: str,
    link: str | None = None,
) -> MessageRead | None:
    """Tell a customer something, once: an in-app message in their language and, if they have
    an email address, an email sent by a job after the caller's transaction commits.

    Idempotent by ``(customer_id, kind, dedupe_key)``: ``dedupe_key`` names the fact reported
    (``"refund:7"``, ``"aftersales:12:approved"``), so a repeated event or a retried call
    returns the message written the first time and sends nothing more. ``params`` are exactly
    the ones the kind's templates take (``templating.KIND_PARAMS``); ``link`` says what the
    message is about (``"order:42"``). A deleted or unknown customer is told nothing (None).

    Raises:
        ValueError: ``params`` do not match the kind, or ``dedupe_key`` is empty or too long.
    """
    kind = MessageKind(kind)
    check_params(kind, params)
    if not 0 < len(dedupe_key) <= 200 or (link is not None and len(link) > 100):
        raise ValueError("dedupe_key must be 1-200 characters and link at most 100")
    existing = await _find(session, customer_id, kind, dedupe_key)
    if existing is not None:
        return MessageRead.model_validate(existing)
    try:
        customer = await identity.get_customer(session, customer_id=customer_id)
    except identity.SessionInvalid:
        log.info("notify.customer_gone", customer_id=customer_id, kind=str(kind))
        return None
    settings = get_settings()
    current = await shop.get_settings(session)
    # identity keeps no language preference yet: every customer is written to in the shop's
    # default language (its settings); the message records which one it was.
    locale = message_locale(current.default_locale)
    rendered = render(
        kind,
        locale,
        params,
        name=customer.name,
        url=f"{settings.public_base_url}/account",  # no order page in the storefront yet
        shop_name=current.display_name(locale),
    )
    inserted = await insert_ignore(
        session,
        Message.__table__,
        {
            "customer_id": customer_id,
            "kind": str(kind),
            "dedupe_key": dedupe_key,
            "locale": rendered.locale,
            "title": rendered.title[:200],
            "body": rendered.body,
            "link": link,
            "created_at": clock.now(),
            "read_at": None,
        },
    )
    row = await _find(session, customer_id, kind, dedupe_key)
    assert row is not None  # inserted now, or by a concurrent delivery of the same fact
    if inserted and customer.email:
        await queue_email(
            session, message_id=row.id, customer_id=customer_id, recipient=customer.email, rendered=rendered
        )
    return MessageRead.model_validate(row)


async def list_messages(
    session: AsyncSession,
    *,
    customer_id: int,
    unread_only: bool = False,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[MessageRead]:
    """The customer's messages, newest first; ``unread_only`` keeps the unread ones.

    Raises:
        InvalidCursor (400).
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = (
        select(Message).where(Message.customer_id == customer_id).order_by(Message.id.desc()).limit(size + 1)
    )
    if after is not None:
        stmt = stmt.where(Message.id < after)
    if unread_only:
        stmt = stmt.where(Message.read_at.is_(None))
    rows = list((await session.execute(stmt)).scalars())
    items = [MessageRead.model_validate(row) for row in rows[:size]]
    return Page[MessageRead](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


async def count_unread(session: AsyncSession, *, customer_id: int) -> UnreadCount:
    """How many of the customer's messages are unread (the badge)."""
    count = (
        await session.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.customer_id == customer_id, Message.read_at.is_(None))
        )
    ).scalar_one()
    return UnreadCount(unread=count)


async def get_message(session: AsyncSession, *, customer_id: int, message_id: int) -> MessageRead:
    """One of the customer's messages.

    Raises:
        MessageNotFound (404): no such message, or another customer's.
    """
    row = (
        await session.execute(
            select(Message)
            .where(Message.id == message_id, Message.customer_id == customer_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise MessageNotFound()
    return MessageRead.model_validate(row)


async def mark_read(session: AsyncSession, *, customer_id: int, message_id: int) -> MessageRead:
    """Mark one of the customer's messages read (reading it again keeps the first time).

    Raises:
        MessageNotFound (404): no such message, or another customer's (which stays unread).
    """
    await session.execute(
        update(Message)
        .where(Message.id == message_id, Message.customer_id == customer_id, Message.read_at.is_(None))
        .values(read_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    return await get_message(session, customer_id=customer_id, message_id=message_id)


async def mark_all_read(
    session: AsyncSession, *, customer_id: int, up_to_id: int | None = None
) -> MarkedRead:
    """Mark the customer's unread messages read: all of them, or those up to ``up_to_id`` (so a
    message that arrived after the list was shown stays unread)."""
    stmt = update(Message).where(Message.customer_id == customer_id, Message.read_at.is_(None))
    if up_to_id is not None:
        stmt = stmt.where(Message.id <= up_to_id)
    result = await session.execute(
        stmt.values(read_at=clock.now()).execution_options(synchronize_session=False)
    )
    return MarkedRead(marked=int(getattr(result, "rowcount", 0)))


async def erase_customer_messages(session: AsyncSession, *, customer_id: int) -> int:
    """Delete everything held about a customer: messages, their emails (with the address) and the
    emails' history (``identity.customer_deleted``); return how many messages were deleted."""
    deliveries = select(Delivery.id).where(Delivery.customer_id == customer_id).scalar_subquery()
    await session.execute(
        delete(DeliveryStatusChange).where(DeliveryStatusChange.delivery_id.in_(deliveries))
    )
    await session.execute(delete(Delivery).where(Delivery.customer_id == customer_id))
    result = await session.execute(delete(Message).where(Message.customer_id == customer_id))
    return int(getattr(result, "rowcount", 0))
