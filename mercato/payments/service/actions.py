"""Named status actions: the only code that changes a payment's status.

Each checks the transition table, moves the status with one conditional UPDATE (``WHERE status =
<the status it was read in>``, so a concurrent change makes it a no-op instead of a lost update),
records a ``payments_payment_status_change`` row and writes the domain event to the outbox.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.events import record_event
from mercato.payments.events import (
    PaymentCaptured,
    PaymentClosed,
    PaymentFailed,
    PaymentNeedsReview,
    PaymentRefunded,
)
from mercato.payments.models import Payment, PaymentStatusChange
from mercato.payments.schemas import PaymentStatus
from mercato.payments.states import PAYMENT


async def _transition(
    session: AsyncSession,
    payment: Payment,
    target: PaymentStatus,
    *,
    actor: str,
    reason: str,
    values: dict[str, Any] | None = None,
) -> bool:
    """Move ``payment`` from the status it was read in to ``target``; False if it changed meanwhile.

    Raises:
        IllegalTransition (409 payments.illegal_transition): the table has no such edge.
    """
    current = PaymentStatus(payment.status)
    PAYMENT.check(current, target)
    now = clock.now()
    result = await session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status == str(current))
        .values(status=str(target), updated_at=now, **(values or {}))
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        await session.refresh(payment)
        return False
    session.add(
        PaymentStatusChange(
            payment_id=payment.id,
            from_status=str(current),
            to_status=str(target),
            actor=actor[:254],
            reason=reason[:200],
            at=now,
        )
    )
    await session.flush()
    await session.refresh(payment)
    return True


async def mark_payment_paid(session: AsyncSession, payment: Payment, *, actor: str, reason: str) -> bool:
    """pending → paid; writes ``PaymentCaptured``. False if the payment was no longer pending."""
    if not await _transition(
        session, payment, PaymentStatus.paid, actor=actor, reason=reason, values={"captured_at": clock.now()}
    ):
        return False
    await record_event(
        session,
        PaymentCaptured(
            payment_id=payment.id,
            reference=payment.reference,
            amount=payment.amount,
            currency=payment.currency,
        ),
    )
    return True


async def fail_payment(session: AsyncSession, payment: Payment, *, actor: str, reason: str) -> bool:
    """pending → failed; writes ``PaymentFailed``."""
    if not await _transition(
        session, payment, PaymentStatus.failed, actor=actor, reason=reason, values={"closed_at": clock.now()}
    ):
        return False
    await record_event(session, PaymentFailed(payment_id=payment.id, reference=payment.reference))
    return True


async def close_payment(session: AsyncSession, payment: Payment, *, actor: str, reason: str) -> bool:
    """pending → closed; writes ``PaymentClosed``. The provider closed the trade first (timeout),
    or it is closed there right after the commit (``payments.close_open_payments``)."""
    if not await _transition(
        session, payment, PaymentStatus.closed, actor=actor, reason=reason, values={"closed_at": clock.now()}
    ):
        return False
    await record_event(
        session, PaymentClosed(payment_id=payment.id, reference=payment.reference, reason=reason)
    )
    return True


async def capture_late_payment(session: AsyncSession, payment: Payment, *, actor: str, reason: str) -> bool:
    """closed → paid: the money arrived after we closed the payment. No ``PaymentCaptured`` is
    written (the payable gave it up); the caller refunds it at once. False if it was no longer
    closed."""
    return await _transition(
        session, payment, PaymentStatus.paid, actor=actor, reason=reason, values={"captured_at": clock.now()}
    )


async def mark_payment_refunded(
    session: AsyncSession,
    payment: Payment,
    *,
    refund_id: int,
    amount: int,
    refunded_total: int,
    actor: str,
) -> None:
    """paid/partially_refunded → partially_refunded or refunded; writes ``PaymentRefunded``."""
    is_full = refunded_total >= payment.amount
    target = PaymentStatus.refunded if is_full else PaymentStatus.partially_refunded
    # The caller holds the payment row (refunds are recorded one at a time per payment).
    await _transition(session, payment, target, actor=actor, reason=f"refund {refund_id}")
    await record_event(
        session,
        PaymentRefunded(
            payment_id=payment.id,
            refund_id=refund_id,
            reference=payment.reference,
            amount=amount,
            currency=payment.currency,
            refunded_total=refunded_total,
            is_full=is_full,
        ),
    )


async def flag_payment(session: AsyncSession, payment: Payment, *, reason: str) -> None:
    """Mark the payment for a person to look at (status unchanged); writes ``PaymentNeedsReview``."""
    await session.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(needs_review=True, review_reason=reason[:200], updated_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    await session.refresh(payment)
    await record_event(
        session, PaymentNeedsReview(payment_id=payment.id, reference=payment.reference, reason=reason[:200])
    )
