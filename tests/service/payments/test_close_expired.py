"""Closing on timeout: the provider closes the trade first; a trade paid at the gateway whose
notification was lost is reconciled to paid instead; an unreachable provider leaves it pending."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
from mercato.payments.models import SandboxTransaction
from mercato.payments.providers.base import CloseResult, ProviderUnavailable
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from mercato.payments.schemas import SandboxOutcome, SandboxPay
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

HALF_HOUR = dt.timedelta(minutes=30)


class UnreachableOnClose(SandboxProvider):
    async def close(self, provider_payment_id: str) -> CloseResult:
        raise ProviderUnavailable()


@pytest.fixture
def unreachable() -> Iterator[None]:
    set_provider("sandbox", UnreachableOnClose())
    yield
    set_provider("sandbox", None)


async def gateway_status(trade_id: str | None) -> str:
    async with uow(write=False) as s:
        return (
            await s.execute(select(SandboxTransaction.status).where(SandboxTransaction.trade_id == trade_id))
        ).scalar_one()


async def test_a_payment_past_its_expiry_is_closed_at_the_gateway_and_here() -> None:
    payment = await make_payment(reference="order:11", expires_in=HALF_HOUR)
    fresh = await make_payment(reference="order:12", expires_in=HALF_HOUR * 2)

    clock.advance(HALF_HOUR + dt.timedelta(seconds=1))
    closed = await payments.close_expired_payments()
    again = await payments.close_expired_payments()

    assert (closed, again) == (1, 0)
    done = await read_payment(payment.id)
    assert (done.status, done.closed_at is not None) == (payments.PaymentStatus.closed, True)
    assert (await read_payment(fresh.id)).status is payments.PaymentStatus.pending
    assert await gateway_status(payment.provider_payment_id) == "closed"
    assert await outbox() == [
        (
            "payments.payment_closed.v1",
            {"payment_id": payment.id, "reference": "order:11", "reason": "not paid in time"},
        )
    ]
    assert await history(payment.id) == [("pending", "closed", "system")]


async def test_nothing_is_closed_before_its_expiry() -> None:
    await make_payment(expires_in=HALF_HOUR)
    before = await counts()

    clock.advance(HALF_HOUR - dt.timedelta(seconds=5))

    assert await payments.close_expired_payments() == 0
    assert await counts() == before


async def test_a_trade_paid_at_the_gateway_with_a_lost_notification_is_reconciled_to_paid() -> None:
    payment = await make_payment(reference="order:13", expires_in=HALF_HOUR)
    async with uow() as s:  # paid at the gateway; its notification job never ran
        assert payment.provider_payment_id is not None
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay)
        )
        s.info.pop("after_commit")

    clock.advance(HALF_HOUR + dt.timedelta(seconds=1))
    closed = await payments.close_expired_payments()

    assert closed == 0
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    trade = payment.provider_payment_id
    assert await notification_outcomes(payment.id) == [(f"{trade}:paid", "paid", "captured")]
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]


@pytest.mark.usefixtures("unreachable")
async def test_an_unreachable_provider_leaves_the_payment_pending_for_the_next_run() -> None:
    payment = await make_payment(expires_in=HALF_HOUR)
    clock.advance(HALF_HOUR + dt.timedelta(seconds=1))
    before = await counts()

    assert await payments.close_expired_payments() == 0
    assert await counts() == before
    set_provider("sandbox", None)
    assert await payments.close_expired_payments() == 1
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.closed


async def test_a_payment_flagged_for_review_is_left_for_a_person() -> None:
    payment = await make_payment(expires_in=HALF_HOUR)
    body = body_for(payment, amount=1)
    async with uow() as s:
        await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)
    clock.advance(HALF_HOUR + dt.timedelta(seconds=1))

    assert await payments.close_expired_payments() == 0
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_close_payment_asks_the_provider_after_the_commit() -> None:
    payment = await make_payment(reference="order:14")

    async with uow() as s:
        returned = await payments.close_payment(
            s, payment_id=payment.id, actor=None, reason="order cancelled"
        )

    assert returned.status is payments.PaymentStatus.pending  # as it was inside the transaction
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.closed
    assert await gateway_status(payment.provider_payment_id) == "closed"
    assert await history(payment.id) == [("pending", "closed", "system")]
