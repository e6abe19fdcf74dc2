"""The sandbox gateway end to end: pay page → job → signed notification → payment paid, once,
whatever the gateway's test options (late, twice, out of order, another amount)."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import payments
from tests.factories.payments import (
    counts,
    history,
    make_payment,
    notification_outcomes,
    outbox,
    pay_on_gateway,
    read_payment,
)
from tests.web.pages import csrf_of


async def test_paying_on_the_gateway_pays_the_payment_and_writes_payment_captured(
    client: AsyncClient,
) -> None:
    payment = await make_payment(reference="order:42", amount=12_345)

    response = await pay_on_gateway(client, payment)

    assert response.status_code == 303
    paid = await read_payment(payment.id)
    assert paid.status is payments.PaymentStatus.paid
    assert paid.captured_at is not None
    assert await outbox() == [
        (
            "payments.payment_captured.v1",
            {"payment_id": payment.id, "reference": "order:42", "amount": 12_345, "currency": "CNY"},
        )
    ]
    trade = payment.provider_payment_id
    assert await notification_outcomes(payment.id) == [(f"{trade}:paid", "paid", "captured")]
    assert await history(payment.id) == [("pending", "paid", "provider:sandbox")]


async def test_a_duplicated_notification_pays_once(client: AsyncClient) -> None:
    payment = await make_payment()

    await pay_on_gateway(client, payment, duplicate="1")

    trade = payment.provider_payment_id
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    assert await notification_outcomes(payment.id) == [(f"{trade}:paid", "paid", "captured")]
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]
    assert await history(payment.id) == [("pending", "paid", "provider:sandbox")]


async def test_an_older_pending_notification_after_paid_is_ignored(client: AsyncClient) -> None:
    payment = await make_payment()

    await pay_on_gateway(client, payment, out_of_order="1", duplicate="1")

    trade = payment.provider_payment_id
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid
    assert await notification_outcomes(payment.id) == [
        (f"{trade}:paid", "paid", "captured"),
        (f"{trade}:pending", "pending", "ignored"),
    ]
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]


async def test_a_late_notification_arrives_after_the_delay(client: AsyncClient) -> None:
    payment = await make_payment()

    await pay_on_gateway(client, payment, delay_seconds="1")

    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid


async def test_failing_on_the_gateway_fails_the_payment(client: AsyncClient) -> None:
    payment = await make_payment(reference="order:7")

    await pay_on_gateway(client, payment, outcome="fail")

    failed = await read_payment(payment.id)
    assert failed.status is payments.PaymentStatus.failed
    assert await outbox() == [
        ("payments.payment_failed.v1", {"payment_id": payment.id, "reference": "order:7"})
    ]
    assert await history(payment.id) == [("pending", "failed", "provider:sandbox")]


async def test_another_amount_flags_the_payment_for_review_and_does_not_pay(client: AsyncClient) -> None:
    payment = await make_payment(reference="order:9", amount=9900)

    await pay_on_gateway(client, payment, amount="100")

    flagged = await read_payment(payment.id)
    assert flagged.status is payments.PaymentStatus.pending
    assert flagged.needs_review is True
    reason = "amount mismatch: provider reported 100 CNY, expected 9900 CNY"
    assert flagged.review_reason == reason
    assert await outbox() == [
        (
            "payments.payment_needs_review.v1",
            {"payment_id": payment.id, "reference": "order:9", "reason": reason},
        )
    ]
    assert await history(payment.id) == []


async def test_the_page_shows_the_trade_and_refuses_a_second_payment(client: AsyncClient) -> None:
    payment = await make_payment(amount=12_345)
    assert payment.pay_url is not None
    page = await client.get(payment.pay_url, headers={"accept-language": "en"})
    await pay_on_gateway(client, payment)
    before = await counts()

    again = await client.post(
        payment.pay_url,
        data={"outcome": "pay", "csrf_token": csrf_of(page)},
        headers={"accept-language": "en"},
    )
    paid_page = await client.get(payment.pay_url)

    assert page.status_code == 200
    assert "order:42" in page.text
    assert 'data-amount="12345"' in page.text
    assert again.status_code == 409
    assert "This sandbox payment can no longer be paid." in again.text
    assert 'data-status="paid"' in paid_page.text
    assert 'name="outcome"' not in paid_page.text
    assert await counts() == before


async def test_posting_the_page_without_its_csrf_token_is_refused(client: AsyncClient) -> None:
    payment = await make_payment()
    assert payment.pay_url is not None
    before = await counts()

    response = await client.post(payment.pay_url, data={"outcome": "pay"})

    assert response.status_code == 403
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_an_unknown_trade_has_no_page(client: AsyncClient) -> None:
    response = await client.get("/sandbox-gateway/pay/sbx_nope")

    assert response.status_code == 404
