"""Messages: the signed-in customer's inbox (list, unread count, mark read); staff see the email
outbox and send a given-up email again."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from mercato import notify
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import raises

router = APIRouter(prefix=PREFIX, tags=["messages"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Reader = Annotated[StaffAuth, Depends(require("customers.read"))]
Writer = Annotated[StaffAuth, Depends(require("customers.write"))]


@router.get("/me/messages")
@raises(InvalidCursor)
async def list_my_messages(
    auth: CurrentCustomer,
    session: DbSession,
    unread: Annotated[bool, Query(description="Only unread messages")] = False,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[notify.MessageRead]:
    """The signed-in customer's messages, newest first."""
    return await notify.list_messages(
        session, customer_id=auth.customer.id, unread_only=unread, cursor=cursor, limit=limit
    )


@router.get("/me/messages/unread-count")
async def count_my_unread_messages(auth: CurrentCustomer, session: DbSession) -> notify.UnreadCount:
    """How many of the customer's messages are unread."""
    return await notify.count_unread(session, customer_id=auth.customer.id)


@router.post("/me/messages/read-all")
async def mark_all_my_messages_read(
    auth: CurrentCustomer, session: DbSession, data: notify.MarkAllRead | None = None
) -> notify.MarkedRead:
    """Mark every unread message read (or those up to ``up_to_id``, the newest one shown)."""
    return await notify.mark_all_read(
        session, customer_id=auth.customer.id, up_to_id=data.up_to_id if data is not None else None
    )


@router.get("/me/messages/{message_id}")
@raises(notify.MessageNotFound)
async def get_my_message(message_id: Id, auth: CurrentCustomer, session: DbSession) -> notify.MessageRead:
    """One of the customer's messages (another customer's is 404)."""
    return await notify.get_message(session, customer_id=auth.customer.id, message_id=message_id)


@router.post("/me/messages/{message_id}/read")
@raises(notify.MessageNotFound)
async def mark_my_message_read(
    message_id: Id, auth: CurrentCustomer, session: DbSession
) -> notify.MessageRead:
    """Mark one message read; reading it again keeps the first time (another's is 404)."""
    return await notify.mark_read(session, customer_id=auth.customer.id, message_id=message_id)


@router.get("/admin/notify/emails")
@raises(InvalidCursor)
async def list_emails(
    auth: Reader,
    session: DbSession,
    status: notify.DeliveryStatus | None = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[notify.DeliveryRead]:
    """Outgoing notification emails, newest first (recipients masked)."""
    return await notify.list_deliveries(
        session, status=status, customer_id=customer_id, cursor=cursor, limit=limit
    )


@router.get("/admin/notify/emails/{delivery_id}/history")
@raises(notify.DeliveryNotFound)
async def list_email_history(
    delivery_id: Id, auth: Reader, session: DbSession
) -> list[notify.DeliveryStatusChangeRead]:
    """Every attempt and status change of one email."""
    return await notify.list_delivery_history(session, delivery_id=delivery_id)


@router.post("/admin/notify/emails/{delivery_id}/retry")
@raises(notify.DeliveryNotFound, notify.NotRetryable)
async def retry_email(
    delivery_id: Id, data: notify.RetryDelivery, auth: Writer, session: DbSession
) -> notify.DeliveryRead:
    """Send a given-up email again with a fresh set of attempts (audited)."""
    return await notify.retry_delivery(session, delivery_id=delivery_id, reason=data.reason, actor=auth.actor)
