"""Applying notifications: exactly once under duplicates and concurrency; a wrong amount or
currency, or money for a closed payment, is flagged for review and never marks the payment paid."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
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


async def test_paid_after_the_payment_was_closed_is_flagged_for_a_refund() -> None:
    payment = await make_payment(reference="order:8", expires_in=dt.timedelta(minutes=30))
    clock.advance(dt.timedelta(minutes=31))
    assert await payments.close_expired_payments() == 1

    result = await handle(body_for(payment))

    assert result.outcome is payments.NotificationOutcome.paid_after_close
    closed = await read_payment(payment.id)
    reason = "paid after the payment was closed: refund the customer"
    assert (closed.status, closed.needs_review, closed.review_reason) == (
        payments.PaymentStatus.closed,
        True,
        reason,
    )
    assert await outbox() == [
        (
            "payments.payment_closed.v1",
            {"payment_id": payment.id, "reference": "order:8", "reason": "not paid in time"},
        ),
        (
            "payments.payment_needs_review.v1",
            {"payment_id": payment.id, "reference": "order:8", "reason": reason},
        ),
    ]
    assert await history(payment.id) == [("pending", "closed", "system")]


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
