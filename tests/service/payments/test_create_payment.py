"""Creating a payment: idempotent per reference and provider while pending; the trade is opened
at the provider after the commit; refusals change nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from mercato import payments
from mercato.core import clock
from mercato.core.db import uow
from mercato.payments.providers.base import PaymentToCreate, ProviderCreated, ProviderUnavailable
from mercato.payments.providers.registry import set_provider
from mercato.payments.providers.sandbox import SandboxProvider
from tests.factories.payments import body_for, counts, make_payment, read_payment, signed


class UnreachableOnCreate(SandboxProvider):
    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        raise ProviderUnavailable()


@pytest.fixture
def unreachable() -> Iterator[None]:
    set_provider("sandbox", UnreachableOnCreate())
    yield
    set_provider("sandbox", None)


async def create(
    reference: str = "order:42", amount: int = 9900, currency: str = "CNY"
) -> payments.PaymentRead:
    async with uow() as s:
        return await payments.create_payment(
            s,
            reference=reference,
            customer_id=7,
            amount=amount,
            currency=currency,
            provider="sandbox",
            expires_in=dt.timedelta(minutes=30),
        )


async def test_creates_a_pending_payment_and_opens_the_trade_after_the_commit() -> None:
    created = await create()

    payment = await read_payment(created.id)
    assert created.status is payments.PaymentStatus.pending
    assert created.pay_url is None  # the provider is asked only after the commit
    assert payment.provider_payment_id is not None
    assert payment.provider_payment_id.startswith("sbx_")
    assert payment.pay_url == f"http://127.0.0.1:8000/sandbox-gateway/pay/{payment.provider_payment_id}"
    assert (payment.reference, payment.customer_id, payment.amount, payment.currency) == (
        "order:42",
        7,
        9900,
        "CNY",
    )
    assert (await counts())["payments_sandbox_txn"] == 1


async def test_a_second_call_while_pending_returns_the_same_payment() -> None:
    first = await create()
    after_first = await counts()

    second = await create()
    third = await create()

    assert first.id == second.id == third.id
    assert await counts() == after_first


async def test_another_amount_for_a_pending_reference_is_refused() -> None:
    await create(amount=9900)
    before = await counts()

    with pytest.raises(payments.PendingPaymentDiffers):
        await create(amount=9800)

    assert await counts() == before


async def test_a_paid_reference_cannot_be_paid_again() -> None:
    payment = await make_payment()
    async with uow() as s:
        body = body_for(payment)
        await payments.handle_notification(s, provider="sandbox", headers=signed(body), body=body)
    before = await counts()

    with pytest.raises(payments.ReferenceAlreadyPaid):
        await create()

    assert await counts() == before


async def test_a_closed_payment_makes_way_for_a_new_one() -> None:
    first = await make_payment(expires_in=dt.timedelta(seconds=1))
    clock.advance(dt.timedelta(minutes=1))
    assert await payments.close_expired_payments() == 1

    second = await create()

    assert second.id != first.id
    assert second.status is payments.PaymentStatus.pending


async def test_a_provider_that_is_not_enabled_is_refused() -> None:
    before = await counts()

    with pytest.raises(payments.UnknownProvider):
        async with uow() as s:
            await payments.create_payment(
                s,
                reference="order:1",
                customer_id=None,
                amount=1,
                currency="CNY",
                provider="stripe",
                expires_in=dt.timedelta(minutes=30),
            )

    assert await counts() == before


@pytest.mark.usefixtures("unreachable")
async def test_an_unreachable_provider_leaves_the_payment_without_a_pay_url_until_a_retry() -> None:
    created = await create()
    stuck = await read_payment(created.id)
    set_provider("sandbox", None)

    retried = await create()

    assert (stuck.status, stuck.pay_url, stuck.provider_payment_id) == (
        payments.PaymentStatus.pending,
        None,
        None,
    )
    assert retried.id == created.id
    assert (await read_payment(created.id)).pay_url is not None
