"""Paying an order with Alipay through the API, against a local server speaking Alipay's gateway:
checkout → the cashier → Alipay's RSA2-signed notification → the order is paid. Forged,
tampered, foreign, stale and replayed notifications change nothing; a wrong amount is flagged,
not paid; refunds and closing go through the gateway."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from httpx import AsyncClient

from mercato import orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, staff_headers
from tests.factories.payments import counts, history, notification_outcomes, outbox, read_payment
from tests.providers.fake_alipay import (
    NOTIFY_URL,
    FakeAlipay,
    configure,
    rsa_pair,
    running_fake_alipay,
)

TOTAL = 7000  # two T-shirts at 30 元 and 10 元 shipping


pytestmark = pytest.mark.usefixtures("handlers")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeAlipay]:
    async with running_fake_alipay() as server:
        configure(monkeypatch, server)
        yield server


async def ordered(client: AsyncClient) -> tuple[dict[str, str], int, payments.PaymentRead]:
    """A shopper places an order paid with Alipay and opens the cashier: (auth, order id, payment)."""
    auth, address_id, _red = await shopper_with_cart(client)
    done = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": TOTAL, "provider": "alipay"},
        headers={**auth, "Idempotency-Key": "alipay-order-1"},
    )
    assert done.status_code == 200, done.text
    payment = await read_payment(done.json()["payment_id"])
    assert payment.pay_url is not None
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(payment.pay_url)).status_code == 200
    return auth, done.json()["order_id"], payment


async def opened_payment(amount: int = TOTAL) -> payments.PaymentRead:
    """An Alipay payment made through the service (no order), its cashier opened."""
    async with uow() as s:
        created = await payments.create_payment(
            s,
            reference="order:42",
            customer_id=None,
            amount=amount,
            currency="CNY",
            provider="alipay",
            expires_in=dt.timedelta(minutes=30),
        )
    payment = await read_payment(created.id)
    assert payment.pay_url is not None
    async with httpx.AsyncClient() as browser:
        assert (await browser.get(payment.pay_url)).status_code == 200
    return payment


async def order_status(order_id: int) -> orders.OrderStatus:
    async with uow(write=False) as s:
        return (await orders.read_order(s, order_id=order_id)).status


async def test_a_shopper_pays_an_order_with_alipay(client: AsyncClient, fake: FakeAlipay) -> None:
    auth, order_id, payment = await ordered(client)
    redirect = await client.get(f"/api/v1/checkout/pay/{payment.id}", headers=auth)
    trade = fake.pay(str(payment.id))
    body = fake.notification(str(payment.id))

    first = await fake.notify(client, str(payment.id), body)
    after_first = await counts()
    replayed = await fake.notify(client, str(payment.id), body)
    clock.advance(dt.timedelta(minutes=4))
    resent = await fake.notify(client, str(payment.id))  # Alipay's resend: a new notify_time, same notify_id
    after_all = await counts()
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → cart

    assert (payment.provider, payment.provider_payment_id) == ("alipay", str(payment.id))
    assert (redirect.status_code, redirect.headers["location"]) == (303, payment.pay_url)
    biz = dict(parse_qsl(urlsplit(payment.pay_url).query))
    assert (biz["method"], biz["notify_url"]) == ("alipay.trade.page.pay", NOTIFY_URL)
    assert payment.client_data["wap_url"].startswith(fake.gateway_url)
    assert (fake.trades[str(payment.id)].total, fake.trades[str(payment.id)].notify_url) == (
        TOTAL,
        NOTIFY_URL,
    )
    assert [(r.status_code, r.text) for r in (first, replayed, resent)] == [(200, "success")] * 3
    paid = await read_payment(payment.id)
    assert (paid.status, paid.needs_review) == (payments.PaymentStatus.paid, False)
    notify_id = dict(parse_qsl(body.decode()))["notify_id"]
    assert await notification_outcomes(payment.id) == [(notify_id, "paid", "captured")]
    assert await history(payment.id) == [("pending", "paid", "provider:alipay")]
    assert after_all == after_first
    assert after_first["payments_notification"] == 1
    assert [name for name, _ in await outbox()].count("payments.payment_captured.v1") == 1
    assert await order_status(order_id) is orders.OrderStatus.paid
    assert trade.status == "TRADE_SUCCESS"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("forged_signature", "payments.invalid_signature"),
        ("tampered_amount", "payments.invalid_signature"),
        ("another_app_id", "payments.invalid_notification"),
        ("stale", "payments.invalid_signature"),
        ("another_payment", "payments.unknown_payment"),
    ],
)
async def test_a_refused_notification_changes_nothing(
    client: AsyncClient, fake: FakeAlipay, case: str, code: str
) -> None:
    payment = await opened_payment()
    fake.pay(str(payment.id))
    signed_at = (clock.now() - dt.timedelta(hours=27)).astimezone(dt.timezone(dt.timedelta(hours=8)))
    body = {
        "forged_signature": lambda: fake.notification(str(payment.id), sign_with=rsa_pair().private_pem),
        "tampered_amount": lambda: fake.notification(str(payment.id)).replace(b"70.00", b"0.01"),
        "another_app_id": lambda: fake.notification(str(payment.id), app_id="2021000000009999"),
        "stale": lambda: fake.notification(
            str(payment.id), notify_time=signed_at.strftime("%Y-%m-%d %H:%M:%S")
        ),
        "another_payment": lambda: fake.notification(str(payment.id), out_trade_no="999999"),
    }[case]()
    before = await counts()

    response = await fake.notify(client, str(payment.id), body)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_a_notification_with_another_amount_is_flagged_not_paid(
    client: AsyncClient, fake: FakeAlipay
) -> None:
    payment = await opened_payment()
    fake.pay(str(payment.id))

    response = await fake.notify(
        client, str(payment.id), fake.notification(str(payment.id), total_amount="0.01")
    )
    await events.deliver_pending()

    assert (response.status_code, response.text) == (200, "success")
    flagged = await read_payment(payment.id)
    assert (flagged.status, flagged.needs_review, flagged.review_reason) == (
        payments.PaymentStatus.pending,
        True,
        "amount mismatch: provider reported 1 CNY, expected 7000 CNY",
    )
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == ["amount_mismatch"]
    assert "payments.payment_captured.v1" not in [name for name, _ in await outbox()]


async def paid_order(client: AsyncClient, fake: FakeAlipay) -> payments.PaymentRead:
    payment = await opened_payment()
    fake.pay(str(payment.id))
    assert (await fake.notify(client, str(payment.id))).text == "success"
    return await read_payment(payment.id)


async def test_staff_refund_part_then_the_rest_through_alipay(client: AsyncClient, fake: FakeAlipay) -> None:
    payment = await paid_order(client, fake)
    staff = await make_staff(email="refunds@example.com", permissions=["orders.read", "orders.refund"])
    headers = await staff_headers(staff.id)
    url = f"/api/v1/admin/payments/{payment.id}/refunds"

    part = await client.post(
        url, json={"amount": 3_000, "reason": "one returned"}, headers={**headers, "Idempotency-Key": "r1"}
    )
    retry = await client.post(
        url, json={"amount": 3_000, "reason": "one returned"}, headers={**headers, "Idempotency-Key": "r1"}
    )
    too_much = await client.post(
        url, json={"amount": 4_001, "reason": "x"}, headers={**headers, "Idempotency-Key": "r2"}
    )
    rest = await client.post(
        url, json={"amount": 4_000, "reason": "all returned"}, headers={**headers, "Idempotency-Key": "r3"}
    )

    assert [r.status_code for r in (part, retry, rest)] == [202, 202, 202]
    assert (too_much.status_code, too_much.json()["code"]) == (409, "payments.refund_exceeds_payment")
    assert retry.json()["id"] == part.json()["id"]
    detail = (await client.get(f"/api/v1/admin/payments/{payment.id}", headers=headers)).json()
    trade_no = fake.trades[str(payment.id)].trade_no
    assert [(r["amount"], r["status"], r["provider_refund_id"]) for r in detail["refunds"]] == [
        (3_000, "succeeded", f"{trade_no}:{part.json()['id']}"),
        (4_000, "succeeded", f"{trade_no}:{rest.json()['id']}"),
    ]
    assert (detail["payment"]["status"], detail["payment"]["refunded_amount"]) == ("refunded", TOTAL)
    assert fake.trades[str(payment.id)].refunds == {
        str(part.json()["id"]): 3_000,
        str(rest.json()["id"]): 4_000,
    }
    refunded = [p for name, p in await outbox() if name == "payments.payment_refunded.v1"]
    assert [(e["amount"], e["refunded_total"], e["is_full"]) for e in refunded] == [
        (3_000, 3_000, False),
        (4_000, TOTAL, True),
    ]


async def test_closing_an_unpaid_payment_closes_the_alipay_trade(
    client: AsyncClient, fake: FakeAlipay
) -> None:
    payment = await opened_payment()

    async with uow() as s:
        await payments.close_payment(s, payment_id=payment.id, actor=None, reason="order cancelled")

    closed = await read_payment(payment.id)
    assert (closed.status, fake.trades[str(payment.id)].status) == (
        payments.PaymentStatus.closed,
        "TRADE_CLOSED",
    )
    assert fake.calls[-1] == "alipay.trade.close"


async def test_a_trade_paid_before_it_could_be_closed_is_found_paid(
    client: AsyncClient, fake: FakeAlipay
) -> None:
    _auth, order_id, payment = await ordered(client)
    fake.pay(str(payment.id))  # the notification is lost

    async with uow() as s:
        await payments.close_payment(s, payment_id=payment.id, actor=None, reason="order cancelled")
    await events.deliver_pending()
    await events.deliver_pending()

    found = await read_payment(payment.id)
    assert (found.status, fake.trades[str(payment.id)].status) == (
        payments.PaymentStatus.paid,
        "TRADE_SUCCESS",
    )
    assert [(source, outcome) for source, outcome in await _sources(payment.id)] == [("query", "captured")]
    assert fake.calls[-3:] == ["alipay.trade.close", "alipay.trade.query", "alipay.trade.query"]
    assert await order_status(order_id) is orders.OrderStatus.paid


async def _sources(payment_id: int) -> list[tuple[str, str]]:
    async with uow(write=False) as s:
        return [
            (n.source, str(n.outcome)) for n in await payments.list_notifications(s, payment_id=payment_id)
        ]
