"""Paying an order with WeChat Pay (Native) through the API, against a local server speaking the
v3 API: checkout → the QR code → WeChat Pay's signed, encrypted notification → the order is
paid. Forged, tampered, foreign, stale and replayed notifications change nothing; a wrong
amount is flagged, not paid; a refund WeChat Pay is still processing is completed once by its
REFUND.SUCCESS notification; closing goes through the gateway."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from mercato import orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, staff_headers
from tests.factories.payments import counts, history, notification_outcomes, outbox, read_payment
from tests.providers.fake_alipay import rsa_pair
from tests.providers.fake_wechatpay import FakeWeChatPay, configure, running_fake_wechatpay

TOTAL = 7000  # two T-shirts at 30 元 and 10 元 shipping


pytestmark = pytest.mark.usefixtures("handlers")


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeWeChatPay]:
    async with running_fake_wechatpay() as server:
        configure(monkeypatch, server)
        yield server


async def placed_payment(amount: int = TOTAL) -> payments.PaymentRead:
    """A WeChat Pay payment made through the service (no order), its Native order placed."""
    async with uow() as s:
        created = await payments.create_payment(
            s,
            reference="order:42",
            customer_id=None,
            amount=amount,
            currency="CNY",
            provider="wechatpay",
            expires_in=dt.timedelta(minutes=30),
        )
    payment = await read_payment(created.id)
    assert payment.provider_payment_id is not None
    return payment


async def order_status(order_id: int) -> orders.OrderStatus:
    async with uow(write=False) as s:
        return (await orders.read_order(s, order_id=order_id)).status


async def test_a_shopper_pays_an_order_with_wechat_pay(client: AsyncClient, fake: FakeWeChatPay) -> None:
    auth, address_id, _red = await shopper_with_cart(client)
    done = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": TOTAL, "provider": "wechatpay"},
        headers={**auth, "Idempotency-Key": "wechat-order-1"},
    )
    payment = await read_payment(done.json()["payment_id"])
    redirect = await client.get(f"/api/v1/checkout/pay/{payment.id}", headers=auth)
    order = fake.pay(str(payment.id).zfill(6))  # the shopper scans the code and pays
    body = fake.transaction_notification(order.out_trade_no)
    headers = fake.headers(body)

    first = await fake.notify(client, body, headers)
    after_first = await counts()
    replayed = await fake.notify(client, body, headers)
    clock.advance(dt.timedelta(minutes=1))
    resent = await fake.notify(client, body)  # WeChat Pay's resend: signed again, the same event id
    clock.advance(dt.timedelta(minutes=5))
    replayed_late = await fake.notify(client, body, headers)
    after_all = await counts()
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → cart

    assert done.status_code == 200, done.text
    assert (payment.provider, payment.provider_payment_id) == ("wechatpay", order.out_trade_no)
    assert payment.pay_url == order.answer["code_url"]
    assert payment.client_data == {"channel": "native", "qr_code": payment.pay_url}
    assert (redirect.status_code, redirect.headers["location"]) == (303, payment.pay_url)
    assert [(r.status_code, r.text) for r in (first, replayed, resent)] == [(200, "success")] * 3
    assert (replayed_late.status_code, replayed_late.json()["code"]) == (400, "payments.invalid_signature")
    assert after_all == after_first
    paid = await read_payment(payment.id)
    assert (paid.status, paid.needs_review) == (payments.PaymentStatus.paid, False)
    assert await notification_outcomes(payment.id) == [(json.loads(body)["id"], "paid", "captured")]
    assert await history(payment.id) == [("pending", "paid", "provider:wechatpay")]
    assert [name for name, _ in await outbox()].count("payments.payment_captured.v1") == 1
    assert await order_status(done.json()["order_id"]) is orders.OrderStatus.paid


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("forged_signature", "payments.invalid_signature"),
        ("tampered_body", "payments.invalid_signature"),
        ("another_platform_serial", "payments.invalid_signature"),
        ("stale", "payments.invalid_signature"),
        ("another_mchid", "payments.invalid_notification"),
        ("encrypted_with_another_key", "payments.invalid_notification"),
        ("another_payment", "payments.unknown_payment"),
    ],
)
async def test_a_refused_notification_changes_nothing(
    client: AsyncClient, fake: FakeWeChatPay, case: str, code: str
) -> None:
    payment = await placed_payment()
    trade_no = fake.pay(str(payment.provider_payment_id)).out_trade_no
    body = fake.transaction_notification(trade_no)
    now = int(clock.now().timestamp())
    if case == "tampered_body":
        headers, body = fake.headers(body), body.replace('"id": "EV-', '"id": "EV-0', 1)
        assert '"id": "EV-0' in body
    elif case in {"another_mchid", "encrypted_with_another_key", "another_payment"}:
        body = {
            "another_mchid": lambda: fake.transaction_notification(trade_no, mchid="1900009999"),
            "encrypted_with_another_key": lambda: fake.transaction_notification(trade_no, key="c" * 32),
            "another_payment": lambda: fake.transaction_notification(trade_no, out_trade_no="999999"),
        }[case]()
        headers = fake.headers(body)
    else:
        headers = {
            "forged_signature": lambda: fake.headers(body, key=rsa_pair().private_pem),
            "another_platform_serial": lambda: fake.headers(
                body, serial="PUB_KEY_ID_0000000000000000000000000000"
            ),
            "stale": lambda: fake.headers(body, timestamp=now - 301),
        }[case]()
    before = await counts()

    response = await fake.notify(client, body, headers)

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_a_notification_with_another_amount_is_flagged_not_paid(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await placed_payment()
    trade_no = fake.pay(str(payment.provider_payment_id)).out_trade_no
    body = fake.transaction_notification(trade_no, amount={"total": 1, "payer_total": 1, "currency": "CNY"})

    response = await fake.notify(client, body)

    assert (response.status_code, response.text) == (200, "success")
    flagged = await read_payment(payment.id)
    assert (flagged.status, flagged.needs_review, flagged.review_reason) == (
        payments.PaymentStatus.pending,
        True,
        "amount mismatch: provider reported 1 CNY, expected 7000 CNY",
    )
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == ["amount_mismatch"]
    assert "payments.payment_captured.v1" not in [name for name, _ in await outbox()]


async def test_a_refund_still_processing_is_completed_once_by_its_notification(
    client: AsyncClient, fake: FakeWeChatPay
) -> None:
    payment = await placed_payment()
    trade_no = fake.pay(str(payment.provider_payment_id)).out_trade_no
    assert (await fake.notify(client, fake.transaction_notification(trade_no))).text == "success"
    staff = await make_staff(email="refunds@example.com", permissions=["orders.read", "orders.refund"])
    headers = await staff_headers(staff.id)
    url = f"/api/v1/admin/payments/{payment.id}/refunds"

    part = await client.post(
        url, json={"amount": 2_000, "reason": "one"}, headers={**headers, "Idempotency-Key": "r1"}
    )
    fake.refund_status = "PROCESSING"
    rest = await client.post(
        url, json={"amount": 5_000, "reason": "rest"}, headers={**headers, "Idempotency-Key": "r2"}
    )
    while_processing = await read_payment(payment.id)
    refund_no = str(rest.json()["id"])
    fake.finish_refund(refund_no)
    body = fake.refund_notification(refund_no)
    notified = await fake.notify(client, body)
    again = await fake.notify(client, body)
    resumed = await payments.resume_pending_refunds()
    clock.advance(dt.timedelta(minutes=3))
    resumed_later = await payments.resume_pending_refunds()

    assert [r.status_code for r in (part, rest)] == [202, 202]
    assert (while_processing.status, while_processing.refunded_amount) == (
        payments.PaymentStatus.partially_refunded,
        TOTAL,  # the pending refund keeps its claim
    )
    assert [(r.text, r.status_code) for r in (notified, again)] == [("success", 200)] * 2
    assert (resumed, resumed_later) == (0, 0)
    detail = (await client.get(f"/api/v1/admin/payments/{payment.id}", headers=headers)).json()
    assert [(r["amount"], r["status"], r["provider_refund_id"]) for r in detail["refunds"]] == [
        (2_000, "succeeded", fake.refunds[str(part.json()["id"])].refund_id),
        (5_000, "succeeded", fake.refunds[refund_no].refund_id),
    ]
    assert (detail["payment"]["status"], detail["payment"]["refunded_amount"]) == ("refunded", TOTAL)
    assert [(n["status"], n["outcome"]) for n in detail["notifications"]] == [
        ("paid", "captured"),
        ("refund_succeeded", "refund_succeeded"),
    ]
    refunded = [p for name, p in await outbox() if name == "payments.payment_refunded.v1"]
    assert [(e["amount"], e["refunded_total"], e["is_full"]) for e in refunded] == [
        (2_000, 2_000, False),
        (5_000, TOTAL, True),
    ]
    assert fake.calls.count("GET /v3/refund/domestic/refunds/" + refund_no) == 0  # nothing left to ask


async def test_closing_an_unpaid_payment_closes_the_wechat_order(fake: FakeWeChatPay) -> None:
    payment = await placed_payment()

    async with uow() as s:
        await payments.close_payment(s, payment_id=payment.id, actor=None, reason="order cancelled")

    closed = await read_payment(payment.id)
    assert (closed.status, fake.orders[str(payment.provider_payment_id)].trade_state) == (
        payments.PaymentStatus.closed,
        "CLOSED",
    )
    assert fake.calls[-1] == f"POST /v3/pay/transactions/out-trade-no/{payment.provider_payment_id}/close"


async def test_an_order_paid_before_it_could_be_closed_is_found_paid(fake: FakeWeChatPay) -> None:
    payment = await placed_payment()
    fake.pay(str(payment.provider_payment_id))  # the notification is lost

    async with uow() as s:
        await payments.close_payment(s, payment_id=payment.id, actor=None, reason="order cancelled")

    found = await read_payment(payment.id)
    assert found.status is payments.PaymentStatus.paid
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == ["captured"]
    assert fake.orders[str(payment.provider_payment_id)].trade_state == "SUCCESS"
