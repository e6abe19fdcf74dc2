"""Applying notifications: exactly once under duplicates and concurrency; a wrong amount or
currency is flagged for review and never marks the payment paid; money for a closed payment is
captured and refunded at once (flagged if the gateway refuses the refund)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import update

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
from mercato.payments.models import SandboxTransaction
from tests.factories.payments import (
    body_for,
    counts,
    history,
    make_payment,
    notification_outcomes,
    outbox,
    read_payment,
    signed,
)


async def handle(body: bytes) -> payments.NotificationResult:
    async with uow() as s:
        return await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)


async def test_paid_marks_the_payment_paid_and_writes_payment_captured() -> None:
    payment = await make_payment(reference="order:5", amount=700)

    result = await handle(body_for(payment))

    assert result.outcome is payments.NotificationOutcome.captured
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    assert await outbox() == [
        (
            "payments.payment_captured.v1",
            {"payment_id": payment.id, "reference": "order:5", "amount": 700, "currency": "CNY"},
        )
    ]


async def test_the_same_notification_twice_is_a_duplicate() -> None:
    payment = await make_payment()
    body = body_for(payment)
    await handle(body)
    before = await counts()

    again = await handle(body)

    assert again.outcome is payments.NotificationOutcome.duplicate
    assert await counts() == before


async def test_concurrent_copies_of_one_notification_pay_once() -> None:
    payment = await make_payment()
    body = body_for(payment)

    results = await asyncio.gather(*(handle(body) for _ in range(8)))

    assert sorted(r.outcome for r in results) == ["captured"] + ["duplicate"] * 7
    assert (await counts())["payments_notification"] == 1
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]
    assert await history(payment.id) == [("pending", "paid", "provider:sandbox")]


async def test_a_second_paid_event_for_a_paid_payment_is_ignored() -> None:
    payment = await make_payment()
    await handle(body_for(payment))

    other = await handle(body_for(payment, event_id="another-event"))

    assert other.outcome is payments.NotificationOutcome.ignored
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]
    assert (await read_payment(payment.id)).needs_review is False


@pytest.mark.parametrize(
    ("_case", "amount", "currency", "reason"),
    [
        ("less", 9899, "CNY", "amount mismatch: provider reported 9899 CNY, expected 9900 CNY"),
        ("more", 9901, "CNY", "amount mismatch: provider reported 9901 CNY, expected 9900 CNY"),
        ("currency", 9900, "USD", "amount mismatch: provider reported 9900 USD, expected 9900 CNY"),
    ],
)
async def test_a_mismatch_flags_the_payment_and_does_not_pay(
    _case: str, amount: int, currency: str, reason: str
) -> None:
    payment = await make_payment(reference="order:3", amount=9900)

    result = await handle(body_for(payment, amount=amount, currency=currency))

    assert result.outcome is payments.NotificationOutcome.amount_mismatch
    flagged = await read_payment(payment.id)
    assert (flagged.status, flagged.needs_review, flagged.review_reason) == (
        payments.PaymentStatus.pending,
        True,
        reason,
    )
    assert await outbox() == [
        (
            "payments.payment_needs_review.v1",
            {"payment_id": payment.id, "reference": "order:3", "reason": reason},
        )
    ]
    assert await history(payment.id) == []


async def paid_at_the_gateway(payment: payments.PaymentRead) -> None:
    """The gateway took the money (its own books), whatever we know of it yet."""
    async with uow() as s:
        await s.execute(
            update(SandboxTransaction)
            .where(SandboxTransaction.trade_id == payment.provider_payment_id)
            .values(status="paid", paid_amount=payment.amount)
        )


async def test_paid_after_the_payment_was_closed_is_captured_and_refunded_at_once() -> None:
    payment = await make_payment(reference="order:8", expires_in=dt.timedelta(minutes=30))
    clock.advance(dt.timedelta(minutes=31))
    assert await payments.close_expired_payments() == 1
    await paid_at_the_gateway(payment)  # paid there as it closed

    result = await handle(body_for(payment))

    assert result.outcome is payments.NotificationOutcome.paid_after_close
    refunded = await read_payment(payment.id)
    assert (refunded.status, refunded.refunded_amount, refunded.needs_review) == (
        payments.PaymentStatus.refunded,
        9900,
        False,
    )
    async with uow(write=False) as s:
        [refund] = await payments.list_refunds(s, payment_id=payment.id)
    assert (refund.amount, refund.status, refund.reason, refund.actor) == (
        9900,
        payments.RefundStatus.succeeded,
        "paid after the payment was closed: refunded automatically",
        "system",
    )
    assert await outbox() == [
        (
            "payments.payment_closed.v1",
            {"payment_id": payment.id, "reference": "order:8", "reason": "not paid in time"},
        ),
        (
            "payments.payment_refunded.v1",
            {
                "payment_id": payment.id,
                "refund_id": refund.id,
                "reference": "order:8",
                "amount": 9900,
                "currency": "CNY",
                "refunded_total": 9900,
                "is_full": True,
            },
        ),
    ]  # no payment_captured: the payable gave it up
    assert await history(payment.id) == [
        ("pending", "closed", "system"),
        ("closed", "paid", "provider:sandbox"),
        ("paid", "refunded", "system"),
    ]


async def test_paid_after_close_that_the_gateway_will_not_refund_is_flagged() -> None:
    payment = await make_payment(reference="order:8", expires_in=dt.timedelta(minutes=30))
    clock.advance(dt.timedelta(minutes=31))
    assert await payments.close_expired_payments() == 1

    result = await handle(body_for(payment))  # the gateway's own books say the trade is closed

    assert result.outcome is payments.NotificationOutcome.paid_after_close
    flagged = await read_payment(payment.id)
    async with uow(write=False) as s:
        [refund] = await payments.list_refunds(s, payment_id=payment.id)
    reason = f"automatic refund {refund.id} failed (refund exceeds the paid amount): refund the customer"
    assert (flagged.status, flagged.refunded_amount, flagged.needs_review, flagged.review_reason) == (
        payments.PaymentStatus.paid,
        0,
        True,
        reason,
    )
    assert refund.status is payments.RefundStatus.failed
    assert [name for name, _ in await outbox()] == [
        "payments.payment_closed.v1",
        "payments.payment_needs_review.v1",
    ]


async def test_failed_then_paid_is_flagged() -> None:
    payment = await make_payment()
    await handle(body_for(payment, "failed"))

    result = await handle(body_for(payment, "paid"))

    assert result.outcome is payments.NotificationOutcome.paid_after_close
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.failed
    assert await notification_outcomes(payment.id) == [
        (f"{payment.provider_payment_id}:failed", "failed", "failed"),
        (f"{payment.provider_payment_id}:paid", "paid", "paid_after_close"),
    ]


async def test_a_closed_notification_closes_a_pending_payment() -> None:
    payment = await make_payment(reference="order:4")

    result = await handle(body_for(payment, "closed"))

    assert result.outcome is payments.NotificationOutcome.closed
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.closed
    assert [name for name, _ in await outbox()] == ["payments.payment_closed.v1"]


async def test_an_unknown_payment_is_refused_and_nothing_is_written() -> None:
    payment = await make_payment()
    body = body_for(payment).replace(b"sbx_", b"xyz_")
    before = await counts()

    with pytest.raises(payments.NotificationForUnknownPayment):
        await handle(body)

    assert await counts() == before
