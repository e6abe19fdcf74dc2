"""Provider notifications: verify, deduplicate, then apply exactly once.

Order of work (all in the caller's transaction, the notify request's):

1. the provider checks the signature and reads the body (``InvalidSignature`` → 400, nothing
   written);
2. the payment is found by ``(provider, provider_payment_id)``; unknown, or the gateway's echo of
   our payment id (``out_trade_no``) naming another payment → 400, nothing written;
3. a ``payments_notification`` row is inserted with ``INSERT ... ON CONFLICT DO NOTHING`` on
   ``(provider, provider_txn_id)``: a duplicate or a replay inserts nothing and is answered
   "success" without any other effect, even when two copies arrive at once;
4. the notification is applied through the named actions (one conditional UPDATE each) and its
   outcome recorded on the row.

Rules: "paid" with another amount or currency flags the payment and does not pay it; "paid"
for a closed payment (its order was cancelled, or it timed out) records the late capture and
refunds it in full at once (``refunds.refund_unwanted_payment``: never kept, never silently);
"paid" for a failed payment flags it for a person; a late "pending" is ignored.

Refund notifications (``RefundNotification``: WeChat Pay ``REFUND.*``, Stripe) go through the
same steps, found by our refund id instead of the trade: the row is deduplicated the same way,
then the pending refund is settled once (``refunds.settle_refund``; a refund already settled,
by the resume job or an earlier notification, is left as it is). A refund amount other than
ours flags the payment and settles nothing; a gateway reporting success for a refund we
recorded as failed flags the payment (the claim was given back, the money is gone).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.payments.errors import NotificationForUnknownPayment
from mercato.payments.models import Notification as NotificationRow
from mercato.payments.models import Payment, Refund
from mercato.payments.providers.base import Notification, RefundNotification
from mercato.payments.providers.registry import get_provider
from mercato.payments.schemas import NotificationOutcome, NotificationResult, PaymentStatus, RefundStatus
from mercato.payments.service import actions, refunds

Outcome = NotificationOutcome
LATE_REFUND_REASON = "paid after the payment was closed: refunded automatically"
_SETTLED = {PaymentStatus.paid, PaymentStatus.partially_refunded, PaymentStatus.refunded}


async def handle_notification(
    session: AsyncSession, *, provider: str, headers: Mapping[str, str], body: bytes
) -> NotificationResult:
    """Verify and apply one notification from ``provider`` (the raw body, as received).

    Raises:
        UnknownProvider (422): the provider is not enabled.
        InvalidSignature (400): the signature, timestamp or headers do not check out.
        InvalidNotification (400): the body is not a notification.
        NotificationForUnknownPayment (400): no payment has that provider payment id, or the
        trade belongs to another payment than the one the message names; for a refund
        notification, no refund of this provider has that id, or it is another payment's.
    """
    notification = get_provider(provider).parse_notification(headers, body)
    if isinstance(notification, RefundNotification):
        return await apply_refund_notification(
            session, provider=provider, notification=notification, source="notify"
        )
    return await apply_notification(session, provider=provider, notification=notification, source="notify")


async def apply_notification(
    session: AsyncSession, *, provider: str, notification: Notification, source: str
) -> NotificationResult:
    """Apply a verified notification (or query answer) once; see the module docstring."""
    payment = (
        await session.execute(
            select(Payment).where(
                Payment.provider == provider, Payment.provider_payment_id == notification.provider_payment_id
            )
        )
    ).scalar_one_or_none()
    if payment is None or (
        notification.merchant_payment_id is not None and notification.merchant_payment_id != str(payment.id)
    ):
        raise NotificationForUnknownPayment()
    if not await _insert_row(
        session,
        provider=provider,
        txn_id=notification.provider_txn_id,
        payment_id=payment.id,
        source=source,
        status=notification.status,
        amount=notification.amount,
        currency=notification.currency,
        payload=notification.raw,
    ):
        return NotificationResult(
            payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=Outcome.duplicate
        )
    outcome = await _apply(session, payment, notification, actor=f"provider:{provider}")
    await _set_outcome(session, provider=provider, txn_id=notification.provider_txn_id, outcome=outcome)
    return NotificationResult(
        payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=outcome
    )


async def apply_refund_notification(
    session: AsyncSession, *, provider: str, notification: RefundNotification, source: str
) -> NotificationResult:
    """Apply a verified refund notification once; see the module docstring.

    Raises:
        NotificationForUnknownPayment (400): no refund of ``provider`` has that id, or the
        gateway's echo of our payment id names another payment than the refund's.
    """
    refund = await session.get(Refund, notification.refund_id)
    if refund is None or refund.provider != provider:
        raise NotificationForUnknownPayment()
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None  # a foreign key
    if notification.merchant_payment_id is not None and notification.merchant_payment_id != str(payment.id):
        raise NotificationForUnknownPayment()
    result = notification.result
    state = "pending" if result.pending else "succeeded" if result.succeeded else "failed"
    if not await _insert_row(
        session,
        provider=provider,
        txn_id=notification.provider_txn_id,
        payment_id=payment.id,
        source=source,
        status=f"refund_{state}",
        amount=notification.amount,
        currency=notification.currency,
        payload=notification.raw,
    ):
        return NotificationResult(
            payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=Outcome.duplicate
        )
    outcome = await _apply_refund(session, payment, refund, notification)
    await _set_outcome(session, provider=provider, txn_id=notification.provider_txn_id, outcome=outcome)
    return NotificationResult(
        payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=outcome
    )


async def _apply_refund(
    session: AsyncSession, payment: Payment, refund: Refund, note: RefundNotification
) -> Outcome:
    if (note.amount, note.currency) != (refund.amount, refund.currency):
        await actions.flag_payment(
            session,
            payment,
            reason=(
                f"refund {refund.id} amount mismatch: provider reported {note.amount} {note.currency}, "
                f"expected {refund.amount} {refund.currency}"
            ),
        )
        return Outcome.amount_mismatch
    if note.review_reason:
        await actions.flag_payment(session, payment, reason=f"refund {refund.id}: {note.review_reason}")
    result = note.result
    if result.pending:
        await refunds.remember_provider_refund(session, refund, result.provider_refund_id)
        return Outcome.refund_pending
    if await refunds.settle_refund(session, refund, result):
        return Outcome.refund_succeeded if result.succeeded else Outcome.refund_failed
    if result.succeeded and refund.status == RefundStatus.failed:
        await actions.flag_payment(
            session,
            payment,
            reason=f"refund {refund.id} recorded as failed but the provider refunded it: check the money",
        )
    return Outcome.ignored  # settled already (the resume job, or an earlier notification)


async def _insert_row(
    session: AsyncSession,
    *,
    provider: str,
    txn_id: str,
    payment_id: int,
    source: str,
    status: str,
    amount: int,
    currency: str,
    payload: dict[str, Any],
) -> bool:
    """Insert the notification's row unless the event is known already; True if it was new."""
    return await insert_ignore(
        session,
        NotificationRow.__table__,
        {
            "provider": provider,
            "provider_txn_id": txn_id,
            "payment_id": payment_id,
            "source": source,
            "status": status,
            "amount": amount,
            "currency": currency,
            "payload": payload,
            "signature_valid": True,
            "outcome": "received",
            "received_at": clock.now(),
        },
    )


async def _set_outcome(session: AsyncSession, *, provider: str, txn_id: str, outcome: Outcome) -> None:
    await session.execute(
        update(NotificationRow)
        .where(NotificationRow.provider == provider, NotificationRow.provider_txn_id == txn_id)
        .values(outcome=str(outcome))
    )


async def _apply(session: AsyncSession, payment: Payment, note: Notification, *, actor: str) -> Outcome:
    why = f"{note.status} notification {note.provider_txn_id}"
    if note.status == "paid":
        return await _apply_paid(session, payment, note, actor=actor, why=why)
    if note.status == "failed" and payment.status == PaymentStatus.pending:
        if await actions.fail_payment(session, payment, actor=actor, reason=why):
            return Outcome.failed
    if note.status == "closed" and payment.status == PaymentStatus.pending:
        if await actions.close_payment(session, payment, actor=actor, reason=why):
            return Outcome.closed
    return Outcome.ignored  # a late "pending", or a state the payment already left


async def _apply_paid(
    session: AsyncSession, payment: Payment, note: Notification, *, actor: str, why: str
) -> Outcome:
    if (note.amount, note.currency) != (payment.amount, payment.currency):
        await actions.flag_payment(
            session,
            payment,
            reason=(
                f"amount mismatch: provider reported {note.amount} {note.currency}, "
                f"expected {payment.amount} {payment.currency}"
            ),
        )
        return Outcome.amount_mismatch
    if payment.status == PaymentStatus.pending and await actions.mark_payment_paid(
        session, payment, actor=actor, reason=why
    ):
        return Outcome.captured
    if payment.status == PaymentStatus.closed and await actions.capture_late_payment(
        session, payment, actor=actor, reason=f"{why} after the payment was closed"
    ):
        await refunds.refund_unwanted_payment(session, payment_id=payment.id, reason=LATE_REFUND_REASON)
        return Outcome.paid_after_close
    if PaymentStatus(payment.status) in _SETTLED:
        return Outcome.ignored  # paid already (another notification, or a query answer)
    await actions.flag_payment(
        session, payment, reason=f"paid after the payment was {payment.status}: refund the customer"
    )
    return Outcome.paid_after_close
