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
for a closed or failed payment flags it (the money must go back); a late "pending" is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.payments.errors import NotificationForUnknownPayment
from mercato.payments.models import Notification as NotificationRow
from mercato.payments.models import Payment
from mercato.payments.providers.base import Notification
from mercato.payments.providers.registry import get_provider
from mercato.payments.schemas import NotificationOutcome, NotificationResult, PaymentStatus
from mercato.payments.service import actions

Outcome = NotificationOutcome
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
        trade belongs to another payment than the one the message names.
    """
    notification = get_provider(provider).parse_notification(headers, body)
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
    is_new = await insert_ignore(
        session,
        NotificationRow.__table__,
        {
            "provider": provider,
            "provider_txn_id": notification.provider_txn_id,
            "payment_id": payment.id,
            "source": source,
            "status": notification.status,
            "amount": notification.amount,
            "currency": notification.currency,
            "payload": notification.raw,
            "signature_valid": True,
            "outcome": "received",
            "received_at": clock.now(),
        },
    )
    if not is_new:
        return NotificationResult(
            payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=Outcome.duplicate
        )
    outcome = await _apply(session, payment, notification, actor=f"provider:{provider}")
    await session.execute(
        update(NotificationRow)
        .where(
            NotificationRow.provider == provider,
            NotificationRow.provider_txn_id == notification.provider_txn_id,
        )
        .values(outcome=str(outcome))
    )
    return NotificationResult(
        payment_id=payment.id, provider_txn_id=notification.provider_txn_id, outcome=outcome
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
    if PaymentStatus(payment.status) in _SETTLED:
        return Outcome.ignored  # paid already (another notification, or a query answer)
    await actions.flag_payment(
        session, payment, reason=f"paid after the payment was {payment.status}: refund the customer"
    )
    return Outcome.paid_after_close
