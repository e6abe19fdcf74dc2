"""Refunds, full and partial: claimed in the database, sent to the provider after the commit.

1. In the caller's transaction: the refund row is inserted (unique per payment and
   Idempotency-Key, so a retry finds it instead of refunding twice), and its amount is claimed
   with one conditional UPDATE ``refunded_amount = refunded_amount + :a WHERE status IN (paid,
   partially_refunded) AND refunded_amount + :a <= amount``: concurrent refunds can never add
   up to more than was paid.
2. After the commit the provider is asked (idempotent per refund id), and a second short
   transaction records the answer: succeeded → the payment moves to partially_refunded or
   refunded and ``PaymentRefunded`` is written; failed → the claim is given back; pending (the
   gateway accepted the refund but has not finished it, e.g. WeChat Pay ``PROCESSING``) → the
   refund stays pending, keeps its claim and remembers the gateway's refund id.
3. A pending refund is settled exactly once (one conditional UPDATE ``WHERE status =
   'pending'``) by whichever comes first: the gateway's refund notification
   (``notifications.apply_refund_notification``) or the ``payments-resume-refunds`` job, which
   asks the provider again (``query_refund`` for a refund the gateway accepted, when the
   provider can look refunds up; otherwise ``refund`` once more, idempotent per refund id).

A refund left pending by a crash or an unreachable provider is sent again by a retry with the
same key and by the same job.

Unwanted money (``refund_unwanted_payment``): a payment captured after it was closed, or for a
payable that can no longer take it (a cancelled order), is refunded in full through the same path
by the system, under the fixed key ``unwanted:<payment id>`` (so it happens once however often it
is asked for). If the gateway refuses that refund the payment is flagged for a person.
"""

from __future__ import annotations

import datetime as dt

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.core.db import after_commit, insert_ignore, uow
from mercato.core.idempotency import IdempotencyInProgress, IdempotencyKeyReused, validate_key
from mercato.payments.errors import NotRefundable, PaymentNotFound, RefundExceedsPayment, RefundNotFound
from mercato.payments.models import Payment, Refund
from mercato.payments.providers.base import RefundQuerying, RefundResult
from mercato.payments.providers.registry import get_provider
from mercato.payments.schemas import PaymentStatus, RefundRead, RefundStatus
from mercato.payments.service import actions

log = structlog.get_logger("mercato.payments")

REFUNDABLE = (str(PaymentStatus.paid), str(PaymentStatus.partially_refunded))
RESUME_AFTER = dt.timedelta(minutes=2)
SYSTEM = identity.Actor(staff_id=None, label="system")


def unwanted_key(payment_id: int) -> str:
    """The Idempotency-Key of the automatic refund of a payment's unwanted money."""
    return f"unwanted:{payment_id}"


async def _refund_by_key(session: AsyncSession, payment_id: int, key: str) -> Refund | None:
    return (
        await session.execute(
            select(Refund).where(Refund.payment_id == payment_id, Refund.idempotency_key == key)
        )
    ).scalar_one_or_none()


def _send_after_commit(session: AsyncSession, refund_id: int) -> None:
    async def send() -> None:
        await send_refund(refund_id)

    after_commit(session, send)


async def refund_payment(
    session: AsyncSession,
    *,
    payment_id: int,
    amount: int,
    reason: str,
    idempotency_key: str,
    actor: identity.Actor,
) -> RefundRead:
    """Give back ``amount`` (minor units) of a paid payment; audited.

    The refund is returned ``pending``: the provider is asked after the commit. A retry with the
    same ``idempotency_key`` and the same amount and reason returns the same refund (and sends
    it again if it is still pending).

    Raises:
        IdempotencyKeyInvalid (422), IdempotencyKeyReused (409): the key is malformed, or was
            used for another amount or reason.
        PaymentNotFound (404).
        NotRefundable (409 payments.not_refundable): the payment is not paid.
        RefundExceedsPayment (409 payments.refund_exceeds_payment): more than is left to refund.
    """
    validate_key(idempotency_key)
    if amount < 1:
        raise ValueError("amount must be positive")
    payment = await session.get(Payment, payment_id)
    if payment is None:
        raise PaymentNotFound()
    existing = await _refund_by_key(session, payment_id, idempotency_key)
    if existing is not None:
        if (existing.amount, existing.reason) != (amount, reason):
            raise IdempotencyKeyReused()
        if existing.status == RefundStatus.pending:
            _send_after_commit(session, existing.id)
        return RefundRead.model_validate(existing)
    if payment.status not in REFUNDABLE:
        raise NotRefundable()
    now = clock.now()
    if not await insert_ignore(
        session,
        Refund.__table__,
        {
            "payment_id": payment_id,
            "provider": payment.provider,
            "amount": amount,
            "currency": payment.currency,
            "reason": reason,
            "status": str(RefundStatus.pending),
            "failure_reason": "",
            "idempotency_key": idempotency_key,
            "actor": actor.label,
            "created_at": now,
        },
    ):
        raise IdempotencyInProgress()  # the same key, concurrently: the other request refunds
    claimed = await session.execute(
        update(Payment)
        .where(
            Payment.id == payment_id,
            Payment.status.in_(REFUNDABLE),
            Payment.refunded_amount + amount <= Payment.amount,
        )
        .values(refunded_amount=Payment.refunded_amount + amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:
        await session.refresh(payment)
        if payment.status not in REFUNDABLE:
            raise NotRefundable()
        raise RefundExceedsPayment(refundable=payment.amount - payment.refunded_amount)
    refund = await _refund_by_key(session, payment_id, idempotency_key)
    assert refund is not None  # inserted above, in this transaction
    view = RefundRead.model_validate(refund)
    await identity.record_audit(
        session,
        actor=actor,
        action="payment.refund",
        object_type="payment",
        object_id=str(payment_id),
        after=view.model_dump(mode="json", include={"id", "amount", "currency", "reason"}),
    )
    _send_after_commit(session, refund.id)
    return view


async def refund_unwanted_payment(
    session: AsyncSession, *, payment_id: int, reason: str
) -> RefundRead | None:
    """Give back, in full, money nobody can take any more (captured after the payment was closed,
    or for a cancelled order); audited as the system. Sent after the commit like any refund.

    Idempotent: the refund is keyed ``unwanted:<payment id>``, so a repeat returns the refund
    already made (and sends it again while it is pending). Returns None when there is nothing to
    refund (unknown payment, not paid, or refunded in full already).
    """
    key = unwanted_key(payment_id)
    existing = await _refund_by_key(session, payment_id, key)
    if existing is not None:
        if existing.status == RefundStatus.pending:
            _send_after_commit(session, existing.id)
        return RefundRead.model_validate(existing)
    payment = await session.get(Payment, payment_id)
    if payment is None or payment.status not in REFUNDABLE or payment.refunded_amount >= payment.amount:
        log.warning("payments.unwanted_not_refundable", payment_id=payment_id)
        return None
    log.warning("payments.refunding_unwanted", payment_id=payment_id, reason=reason)
    return await refund_payment(
        session,
        payment_id=payment_id,
        amount=payment.amount - payment.refunded_amount,
        reason=reason[:200],
        idempotency_key=key,
        actor=SYSTEM,
    )


async def get_refund(session: AsyncSession, *, payment_id: int, refund_id: int) -> RefundRead:
    """Raises: RefundNotFound (404): no such refund of that payment."""
    row = await session.get(Refund, refund_id)
    if row is None or row.payment_id != payment_id:
        raise RefundNotFound()
    return RefundRead.model_validate(row)


async def send_refund(refund_id: int) -> RefundStatus:
    """Ask the provider for a pending refund and record the answer (owns its transactions).

    A refund the gateway already accepted is looked up (``query_refund``) when the provider can;
    otherwise it is asked for again, which the provider answers idempotently. A provider that
    cannot be reached leaves the refund pending for a later retry.
    """
    async with uow(write=False) as session:
        refund = await session.get(Refund, refund_id)
        if refund is None:
            raise RefundNotFound()
        if refund.status != RefundStatus.pending:
            return RefundStatus(refund.status)
        payment = await session.get(Payment, refund.payment_id)
        assert payment is not None  # a foreign key
        trade_id, provider_name, amount = payment.provider_payment_id, refund.provider, refund.amount
        accepted = refund.provider_refund_id is not None
    if trade_id is None:
        result = RefundResult(succeeded=False, failure_reason="the payment has no provider trade")
    else:
        try:
            provider = get_provider(provider_name)
            if accepted and isinstance(provider, RefundQuerying):
                result = await provider.query_refund(trade_id, refund_id)
            else:
                result = await provider.refund(trade_id, refund_id, amount)
        except Exception as exc:
            log.warning("payments.refund_failed", refund_id=refund_id, error=repr(exc))
            return RefundStatus.pending
    async with uow() as session:
        return await _record(session, refund_id, result)


async def _record(session: AsyncSession, refund_id: int, result: RefundResult) -> RefundStatus:
    """Record the provider's answer about a pending refund; return the refund's status after it."""
    refund = await session.get(Refund, refund_id)
    if refund is None:
        raise RefundNotFound()
    if result.pending:
        await remember_provider_refund(session, refund, result.provider_refund_id)
    else:
        await settle_refund(session, refund, result)
    await session.refresh(refund)
    return RefundStatus(refund.status)


async def remember_provider_refund(
    session: AsyncSession, refund: Refund, provider_refund_id: str | None
) -> None:
    """Keep the gateway's id of a refund it accepted but has not finished (status unchanged)."""
    if provider_refund_id is None or refund.provider_refund_id is not None:
        return
    await session.execute(
        update(Refund)
        .where(
            Refund.id == refund.id,
            Refund.status == str(RefundStatus.pending),
            Refund.provider_refund_id.is_(None),
        )
        .values(provider_refund_id=provider_refund_id)
        .execution_options(synchronize_session=False)
    )


async def settle_refund(session: AsyncSession, refund: Refund, result: RefundResult) -> bool:
    """Move a pending refund to succeeded or failed; True if this call did (exactly once).

    Succeeded: the payment moves to partially_refunded or refunded and ``PaymentRefunded`` is
    written. Failed: the claim on the payment is given back. False when the refund was settled
    already (by a concurrent sender, a notification or the resume job): nothing is changed.
    """
    if result.pending:
        raise ValueError("a pending result does not settle a refund")
    now = clock.now()
    # Lock the payment row first (PostgreSQL): two refunds of one payment recorded at once then
    # queue here, so the second one's total below includes the first.
    await session.execute(update(Payment).where(Payment.id == refund.payment_id).values(updated_at=now))
    status = RefundStatus.succeeded if result.succeeded else RefundStatus.failed
    values: dict[str, object] = {
        "status": str(status),
        "failure_reason": result.failure_reason[:200],
        "completed_at": now,
    }
    if result.provider_refund_id is not None:
        values["provider_refund_id"] = result.provider_refund_id
    done = await session.execute(
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == str(RefundStatus.pending))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(refund)
    if getattr(done, "rowcount", 0) != 1:
        return False  # settled already
    payment = await session.get(Payment, refund.payment_id)
    assert payment is not None  # a foreign key
    if status is RefundStatus.failed:
        await session.execute(
            update(Payment)
            .where(Payment.id == payment.id)
            .values(refunded_amount=Payment.refunded_amount - refund.amount)
        )
        if refund.idempotency_key == unwanted_key(payment.id):  # nobody else will give it back
            await actions.flag_payment(
                session,
                payment,
                reason=f"automatic refund {refund.id} failed ({result.failure_reason}): refund the customer",
            )
        return True
    total = (
        await session.execute(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(
                Refund.payment_id == payment.id, Refund.status == str(RefundStatus.succeeded)
            )
        )
    ).scalar_one()
    await session.refresh(payment)
    await actions.mark_payment_refunded(
        session,
        payment,
        refund_id=refund.id,
        amount=refund.amount,
        refunded_total=int(total),
        actor=refund.actor,
    )
    return True


async def resume_pending_refunds(*, limit: int = 100) -> int:
    """Send refunds still pending a while after they were claimed (job ``payments-resume-refunds``)."""
    async with uow(write=False) as session:
        ids = list(
            (
                await session.execute(
                    select(Refund.id)
                    .where(
                        Refund.status == str(RefundStatus.pending),
                        Refund.created_at <= clock.now() - RESUME_AFTER,
                    )
                    .order_by(Refund.id)
                    .limit(limit)
                )
            ).scalars()
        )
    done = 0
    for refund_id in ids:
        if await send_refund(refund_id) is not RefundStatus.pending:
            done += 1
    return done
