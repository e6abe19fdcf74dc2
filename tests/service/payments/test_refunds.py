"""Refunds: claimed atomically so concurrent refunds never exceed the payment; the provider is
called after the commit; an unreachable provider leaves the refund pending until it is resumed;
a refusal gives the amount back."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.errors import DomainError
from mercato.payments.models import Payment, SandboxTransaction
from mercato.payments.providers.base import ProviderUnavailable, RefundResult
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from mercato.payments.schemas import SandboxOutcome, SandboxPay
from mercato.payments.service import actions
from tests.factories.identity import SYSTEM
from tests.factories.payments import counts, history, make_payment, outbox, read_payment


class UnreachableOnRefund(SandboxProvider):
    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        raise ProviderUnavailable()


@pytest.fixture
def unreachable() -> Iterator[None]:
    set_provider("sandbox", UnreachableOnRefund())
    yield
    set_provider("sandbox", None)


async def paid(amount: int = 10_000, *, paid_amount: int | None = None) -> payments.PaymentRead:
    """A payment paid at the sandbox gateway, its notification applied by a query."""
    payment = await make_payment(amount=amount)
    assert payment.provider_payment_id is not None
    async with uow() as s:
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay)
        )
        s.info.pop("after_commit")  # no notification job: the query below stands in for it
    return await payments.query_payment(payment_id=payment.id)


async def refund(payment_id: int, amount: int, key: str, reason: str = "returned") -> payments.RefundRead:
    async with uow() as s:
        return await payments.refund_payment(
            s, payment_id=payment_id, amount=amount, reason=reason, idempotency_key=key, actor=SYSTEM
        )


async def refund_view(payment_id: int, refund_id: int) -> payments.RefundRead:
    async with uow(write=False) as s:
        return await payments.get_refund(s, payment_id=payment_id, refund_id=refund_id)


async def test_a_full_refund_refunds_the_payment_at_the_gateway_and_here() -> None:
    payment = await paid(10_000)

    pending = await refund(payment.id, 10_000, "k1")

    done = await refund_view(payment.id, pending.id)
    assert pending.status is payments.RefundStatus.pending
    assert (done.status, done.provider_refund_id) == (
        payments.RefundStatus.succeeded,
        f"{payment.provider_payment_id}-r{pending.id}",
    )
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.refunded, 10_000)
    async with uow(write=False) as s:
        gateway = (
            await s.execute(
                select(SandboxTransaction.refunded_amount).where(
                    SandboxTransaction.trade_id == payment.provider_payment_id
                )
            )
        ).scalar_one()
    assert gateway == 10_000
    assert await history(payment.id) == [
        ("pending", "paid", "provider:sandbox"),
        ("paid", "refunded", "tests"),
    ]
    assert (await outbox())[-1] == (
        "payments.payment_refunded.v1",
        {
            "payment_id": payment.id,
            "refund_id": pending.id,
            "reference": "order:42",
            "amount": 10_000,
            "currency": "CNY",
            "refunded_total": 10_000,
            "is_full": True,
        },
    )


async def test_concurrent_refunds_never_add_up_to_more_than_was_paid() -> None:
    payment = await paid(10_000)

    async def attempt(n: int) -> str:
        try:
            await refund(payment.id, 3_000, f"k{n}")
        except DomainError as exc:
            return exc.code
        return "ok"

    results = await asyncio.gather(*(attempt(n) for n in range(6)))

    assert sorted(results) == ["ok"] * 3 + ["payments.refund_exceeds_payment"] * 3
    final = await read_payment(payment.id)
    assert (final.status, final.refunded_amount) == (payments.PaymentStatus.partially_refunded, 9_000)
    assert (await counts())["payments_refund"] == 3


async def test_an_over_refund_is_refused_and_changes_nothing() -> None:
    payment = await paid(10_000)
    await refund(payment.id, 4_000, "k1")
    before = await counts()

    with pytest.raises(payments.RefundExceedsPayment) as caught:
        await refund(payment.id, 6_001, "k2")

    assert caught.value.params == {"refundable": 6_000}
    assert await counts() == before


async def test_the_same_key_returns_the_same_refund() -> None:
    payment = await paid()
    first = await refund(payment.id, 1_000, "same")
    before = await counts()

    again = await refund(payment.id, 1_000, "same")

    assert (again.id, again.status) == (first.id, payments.RefundStatus.succeeded)
    assert await counts() == before


@pytest.mark.usefixtures("unreachable")
async def test_an_unreachable_provider_leaves_the_refund_pending_until_it_is_resumed() -> None:
    payment = await paid(10_000)

    pending = await refund(payment.id, 2_000, "k1")
    stuck = await refund_view(payment.id, pending.id)
    clock.advance(dt.timedelta(minutes=5))
    assert await payments.resume_pending_refunds() == 0  # still unreachable
    set_provider("sandbox", None)
    resumed = await payments.resume_pending_refunds()

    assert stuck.status is payments.RefundStatus.pending
    assert (await read_payment(payment.id)).refunded_amount == 2_000  # claimed all along
    assert resumed == 1
    assert (await refund_view(payment.id, pending.id)).status is payments.RefundStatus.succeeded
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.partially_refunded


async def test_a_refund_the_gateway_refuses_fails_and_gives_the_amount_back() -> None:
    payment = await make_payment(amount=10_000)
    assert payment.provider_payment_id is not None
    async with uow() as s:  # the customer paid less at the gateway (flagged), then the shop paid it by hand
        await payments.submit_sandbox_payment(
            s, trade_id=payment.provider_payment_id, data=SandboxPay(outcome=SandboxOutcome.pay, amount=5_000)
        )
        s.info.pop("after_commit")
    async with uow() as s:
        row = await s.get(Payment, payment.id)
        assert row is not None
        await actions.mark_payment_paid(s, row, actor="tests", reason="checked by hand")

    failed = await refund(payment.id, 8_000, "k1")

    view = await refund_view(payment.id, failed.id)
    assert (view.status, view.failure_reason) == (
        payments.RefundStatus.failed,
        "refund exceeds the paid amount",
    )
    after = await read_payment(payment.id)
    assert (after.status, after.refunded_amount) == (payments.PaymentStatus.paid, 0)
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]


async def test_a_pending_payment_cannot_be_refunded() -> None:
    payment = await make_payment()
    before = await counts()

    with pytest.raises(payments.NotRefundable):
        await refund(payment.id, 1, "k")

    assert await counts() == before
