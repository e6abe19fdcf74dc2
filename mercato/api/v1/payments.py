"""Payments: the customer's view of a payment, staff lists, details and refunds, and the
endpoint where providers post their asynchronous notifications."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, status
from fastapi.responses import PlainTextResponse

from mercato import payments
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyInvalid, IdempotencyKeyReused
from mercato.core.pagination import InvalidCursor, Page
from mercato.core.schemas import ReadModel
from mercato.web.openapi import raises

router = APIRouter(prefix=f"{PREFIX}/payments", tags=["payments"])
admin_router = APIRouter(prefix=f"{PREFIX}/admin/payments", tags=["payments"])

Reader = Annotated[StaffAuth, Depends(require("orders.read"))]
Refunder = Annotated[StaffAuth, Depends(require("orders.refund"))]
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
ProviderName = Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[a-z0-9_]+$")]
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Retries with the same key return the same refund instead of refunding twice",
    ),
]


class CustomerPayment(ReadModel):
    """What the customer sees of a payment (no review notes)."""

    id: int
    reference: str
    provider: str
    amount: int
    currency: str
    status: payments.PaymentStatus
    pay_url: str | None
    client_data: dict[str, Any]
    refunded_amount: int
    expires_at: dt.datetime
    created_at: dt.datetime
    captured_at: dt.datetime | None
    closed_at: dt.datetime | None


class PaymentDetail(ReadModel):
    payment: payments.PaymentRead
    status_changes: list[payments.PaymentStatusChangeRead]
    notifications: list[payments.NotificationRead]
    refunds: list[payments.RefundRead]


@router.get("/{payment_id}")
@raises(payments.PaymentNotFound)
async def get_my_payment(payment_id: Id, auth: CurrentCustomer, session: DbSession) -> CustomerPayment:
    """One of the caller's payments (404 for anyone else's); ``pay_url`` is where to pay."""
    payment = await payments.get_payment(session, payment_id=payment_id, customer_id=auth.customer.id)
    return CustomerPayment.model_validate(payment.model_dump())


@router.post(
    "/notify/{provider}",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {"example": "success"}}}},
)
@raises(
    payments.UnknownProvider,
    payments.InvalidSignature,
    payments.InvalidNotification,
    payments.NotificationForUnknownPayment,
)
async def notify(provider: ProviderName, request: Request, session: DbSession) -> str:
    """A provider's asynchronous notification, signed over the raw body.

    Answers ``success`` when the notification was applied or had been already (a duplicate or
    a replay changes nothing); 400 problem+json for a bad signature, a stale timestamp, a
    malformed body or an unknown payment, with nothing changed.
    """
    body = await request.body()
    await payments.handle_notification(session, provider=provider, headers=request.headers, body=body)
    return "success"


@admin_router.get("")
@raises(InvalidCursor)
async def list_payments(
    auth: Reader,
    session: DbSession,
    reference: Annotated[str | None, Query(max_length=80, description="e.g. order:42")] = None,
    payment_status: Annotated[payments.PaymentStatus | None, Query(alias="status")] = None,
    needs_review: bool | None = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    limit: Annotated[int | None, Query(ge=1, le=100)] = None,
) -> Page[payments.PaymentRead]:
    """Payments, newest first."""
    return await payments.list_payments(
        session,
        reference=reference,
        status=payment_status,
        needs_review=needs_review,
        cursor=cursor,
        limit=limit,
    )


@admin_router.get("/{payment_id}")
@raises(payments.PaymentNotFound)
async def get_payment(payment_id: Id, auth: Reader, session: DbSession) -> PaymentDetail:
    """A payment with its status history, notifications and refunds."""
    return PaymentDetail(
        payment=await payments.get_payment(session, payment_id=payment_id),
        status_changes=await payments.list_status_changes(session, payment_id=payment_id),
        notifications=await payments.list_notifications(session, payment_id=payment_id),
        refunds=await payments.list_refunds(session, payment_id=payment_id),
    )


@admin_router.post("/{payment_id}/refunds", status_code=status.HTTP_202_ACCEPTED)
@raises(
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotencyInProgress,
    payments.PaymentNotFound,
    payments.NotRefundable,
    payments.RefundExceedsPayment,
)
async def refund_payment(
    payment_id: Id,
    data: payments.RefundCreate,
    idempotency_key: IdempotencyKey,
    auth: Refunder,
    session: DbSession,
) -> payments.RefundRead:
    """Refund all or part of a paid payment (202: the provider is asked once this commits).

    The same Idempotency-Key with the same body returns the same refund; with another body, 409.
    """
    return await payments.refund_payment(
        session,
        payment_id=payment_id,
        amount=data.amount,
        reason=data.reason,
        idempotency_key=idempotency_key,
        actor=auth.actor,
    )


@admin_router.get("/{payment_id}/refunds/{refund_id}")
@raises(payments.RefundNotFound)
async def get_refund(payment_id: Id, refund_id: Id, auth: Reader, session: DbSession) -> payments.RefundRead:
    return await payments.get_refund(session, payment_id=payment_id, refund_id=refund_id)
