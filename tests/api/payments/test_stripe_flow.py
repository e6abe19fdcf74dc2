"""Stripe through the API: checkout opens a PaymentIntent, Stripe's signed webhook pays the order,
forged / tampered / stale / replayed webhooks change nothing, refunds (full, partial, pending
then settled by a webhook) and closing an unpaid intent. Stripe is a local fake server."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import AsyncClient, Response

from mercato import orders, payments
from mercato.core import events
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, staff_headers
from tests.factories.payments import counts, history, notification_outcomes, outbox, read_payment
from tests.providers.fake_stripe import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    running_fake_stripe,
    sign,
)

SHOP = "https://shop.example.com"
NOTIFY = "/api/v1/payments/notify/stripe"


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeStripe]:
    """A running fake Stripe, and the shop configured to use it."""
    async with running_fake_stripe() as server:
        for name, value in {
            "PAYMENT_PROVIDERS": '["sandbox", "stripe"]',
            "STRIPE_SECRET_KEY": SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": PUBLISHABLE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "STRIPE_API_BASE": server.base_url,
            "BASE_URL": SHOP,
        }.items():
            monkeypatch.setenv(f"MERCATO_{name}", value)
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()


async def stripe_payment(*, amount: int = 9900, reference: str = "order:42") -> payments.PaymentRead:
    """A pending Stripe payment whose intent is open at (fake) Stripe."""
    async with uow() as session:
        created = await payments.create_payment(
            session,
            reference=reference,
            customer_id=None,
            amount=amount,
            currency="CNY",
            provider="stripe",
            expires_in=dt.timedelta(minutes=30),
        )
    payment = await read_payment(created.id)
    assert payment.provider_payment_id is not None
    return payment


def signed_event(event: dict[str, Any], **signing: Any) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event).encode()
    return body, {"Stripe-Signature": sign(body, **signing), "Content-Type": "application/json"}


async def post(client: AsyncClient, body: bytes, headers: dict[str, str]) -> Response:
    return await client.post(NOTIFY, content=body, headers=headers)


async def webhook(client: AsyncClient, fake: FakeStripe, kind: str, obj: dict[str, Any]) -> Response:
    return await post(client, *signed_event(fake.event(kind, obj)))


async def test_checkout_with_stripe_then_the_webhook_pays_the_order(
    client: AsyncClient, fake: FakeStripe, handlers: None
) -> None:
    auth, address_id, _red = await shopper_with_cart(client)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    done = await client.post(
        "/api/v1/checkout/complete",
        json={
            "address_id": address_id,
            "expected_total_amount": quote["price"]["total_amount"],
            "provider": "stripe",
        },
        headers={**auth, "Idempotency-Key": "stripe-0001"},
    )
    assert done.status_code == 200, done.text
    result = done.json()
    seen = (await client.get(f"/api/v1/payments/{result['payment_id']}", headers=auth)).json()
    redirect = await client.get(result["pay_path"], headers=auth)
    [intent] = fake.intents.values()

    paid = await webhook(client, fake, "payment_intent.succeeded", fake.pay(intent["id"]))
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → cart

    pay_url = f"{SHOP}/pay/stripe/{result['payment_id']}"
    assert (intent["amount"], intent["currency"], intent["metadata"]) == (
        7000,
        "cny",
        {"payment_id": str(result["payment_id"]), "reference": f"order:{result['order_id']}"},
    )
    assert (seen["provider"], seen["pay_url"]) == ("stripe", pay_url)
    assert seen["client_data"] == {
        "publishable_key": PUBLISHABLE_KEY,
        "client_secret": intent["client_secret"],
        "payment_intent": intent["id"],
        "amount": 7000,
        "currency": "cny",
        "return_url": pay_url,
    }
    assert (redirect.status_code, redirect.headers["location"]) == (303, pay_url)
    assert (paid.status_code, paid.text) == (200, "success")
    payment = await read_payment(result["payment_id"])
    assert (payment.status, payment.provider_payment_id) == (payments.PaymentStatus.paid, intent["id"])
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=result["order_id"])
    assert order.status is orders.OrderStatus.paid


async def test_forged_tampered_stale_and_unsigned_webhooks_change_nothing(
    client: AsyncClient, fake: FakeStripe
) -> None:
    payment = await stripe_payment()
    assert payment.provider_payment_id is not None
    event = fake.event("payment_intent.succeeded", fake.pay(payment.provider_payment_id))
    body = json.dumps(event).encode()
    before = await counts()

    forged = await post(client, body, {"Stripe-Signature": sign(body, secret="whsec_not_the_shops")})
    tampered = await post(
        client, body.replace(b'"amount_received": 9900', b'"amount_received": 99'), signed_event(event)[1]
    )
    stale = await post(client, *signed_event(event, timestamp=int(time.time()) - 301))
    unsigned = await post(client, body, {})
    stranger = await webhook(
        client, fake, "payment_intent.succeeded", {**event["data"]["object"], "id": "pi_3SomeoneElse0000"}
    )

    assert [r.status_code for r in (forged, tampered, stale, unsigned, stranger)] == [400] * 5
    assert [r.json()["code"] for r in (forged, tampered, stale, unsigned)] == [
        "payments.invalid_signature"
    ] * 4
    assert stranger.json()["code"] == "payments.unknown_payment"
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_a_replayed_webhook_is_answered_success_and_applied_once(
    client: AsyncClient, fake: FakeStripe
) -> None:
    payment = await stripe_payment()
    assert payment.provider_payment_id is not None
    event = fake.event("payment_intent.succeeded", fake.pay(payment.provider_payment_id))
    body, headers = signed_event(event)

    first = await post(client, body, headers)
    after_first = (await counts(), await outbox())
    replayed = await post(client, body, headers)
    resent = await post(client, *signed_event(event))  # Stripe's retry: same event, new signature

    assert [(r.status_code, r.text) for r in (first, replayed, resent)] == [(200, "success")] * 3
    assert (await counts(), await outbox()) == after_first
    assert await notification_outcomes(payment.id) == [(event["id"], "paid", "captured")]
    assert await history(payment.id) == [("pending", "paid", "provider:stripe")]


@pytest.mark.parametrize(("amount", "currency"), [(9800, None), (9900, "usd")])
async def test_another_amount_or_currency_is_flagged_never_paid(
    client: AsyncClient, fake: FakeStripe, amount: int, currency: str | None
) -> None:
    payment = await stripe_payment()
    assert payment.provider_payment_id is not None
    intent = fake.pay(payment.provider_payment_id, amount=amount, currency=currency)

    response = await webhook(client, fake, "payment_intent.succeeded", intent)

    after = await read_payment(payment.id)
    assert response.status_code == 200
    assert (after.status, after.needs_review) == (payments.PaymentStatus.pending, True)
    assert after.review_reason == (
        f"amount mismatch: provider reported {amount} {(currency or 'cny').upper()}, expected 9900 CNY"
    )
    assert [outcome for _, _, outcome in await notification_outcomes(payment.id)] == ["amount_mismatch"]


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("payment_intent.payment_failed", payments.PaymentStatus.failed),
        ("payment_intent.canceled", payments.PaymentStatus.closed),
        ("payment_intent.processing", payments.PaymentStatus.pending),
    ],
)
async def test_failed_canceled_and_processing_events(
    client: AsyncClient, fake: FakeStripe, kind: str, status: payments.PaymentStatus
) -> None:
    payment = await stripe_payment()
    assert payment.provider_payment_id is not None
    intent = fake.intents[payment.provider_payment_id]
    if kind == "payment_intent.payment_failed":
        intent = fake.decline(intent["id"])

    response = await webhook(client, fake, kind, {**intent, "status": intent["status"]})

    assert response.status_code == 200
    assert (await read_payment(payment.id)).status is status


async def paid_stripe_payment(client: AsyncClient, fake: FakeStripe) -> payments.PaymentRead:
    payment = await stripe_payment(amount=10_000)
    assert payment.provider_payment_id is not None
    await webhook(client, fake, "payment_intent.succeeded", fake.pay(payment.provider_payment_id))
    return await read_payment(payment.id)


@pytest.fixture
async def refunder() -> dict[str, str]:
    staff = await make_staff(email="refunds@example.com", permissions=["orders.read", "orders.refund"])
    return await staff_headers(staff.id)


async def refund(
    client: AsyncClient, staff: dict[str, str], payment_id: int, amount: int, key: str
) -> Response:
    return await client.post(
        f"/api/v1/admin/payments/{payment_id}/refunds",
        json={"amount": amount, "reason": "damaged"},
        headers={**staff, "Idempotency-Key": key},
    )


async def refunds_of(payment_id: int) -> list[tuple[int, str, str | None]]:
    async with uow(write=False) as s:
        return [
            (r.amount, r.status.value, r.provider_refund_id)
            for r in await payments.list_refunds(s, payment_id=payment_id)
        ]


async def test_refunds_partial_then_full_go_to_stripe_once_each(
    client: AsyncClient, fake: FakeStripe, refunder: dict[str, str]
) -> None:
    payment = await paid_stripe_payment(client, fake)

    partial = await refund(client, refunder, payment.id, 3000, "refund-a")
    retried = await refund(client, refunder, payment.id, 3000, "refund-a")
    middle = (await read_payment(payment.id)).status
    rest = await refund(client, refunder, payment.id, 7000, "refund-b")
    too_much = await refund(client, refunder, payment.id, 1, "refund-c")

    assert [r.status_code for r in (partial, retried, rest)] == [202, 202, 202]
    assert retried.json()["id"] == partial.json()["id"]
    assert (too_much.status_code, too_much.json()["code"]) == (409, "payments.not_refundable")
    stripe_refunds = list(fake.refunds.values())
    assert [(r["amount"], r["metadata"]["refund_id"]) for r in stripe_refunds] == [
        (3000, str(partial.json()["id"])),
        (7000, str(rest.json()["id"])),
    ]
    assert await refunds_of(payment.id) == [
        (3000, "succeeded", stripe_refunds[0]["id"]),
        (7000, "succeeded", stripe_refunds[1]["id"]),
    ]
    assert middle is payments.PaymentStatus.partially_refunded
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.refunded


async def test_a_pending_refund_is_settled_by_stripes_refund_webhook(
    client: AsyncClient, fake: FakeStripe, refunder: dict[str, str]
) -> None:
    payment = await paid_stripe_payment(client, fake)
    fake.refund_status = "pending"

    asked = await refund(client, refunder, payment.id, 4000, "refund-p")
    [stripe_refund] = fake.refunds.values()
    waiting = (await refunds_of(payment.id), (await read_payment(payment.id)).refunded_amount)
    settled = await webhook(client, fake, "refund.updated", fake.settle_refund(stripe_refund["id"]))
    again = await webhook(client, fake, "charge.refunded", fake.charges[stripe_refund["charge"]])

    assert asked.status_code == 202
    assert waiting == ([(4000, "pending", stripe_refund["id"])], 4000)
    assert [(r.status_code, r.text) for r in (settled, again)] == [(200, "success")] * 2
    assert await refunds_of(payment.id) == [(4000, "succeeded", stripe_refund["id"])]
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.partially_refunded
    assert [(status, outcome) for _, status, outcome in await notification_outcomes(payment.id)] == [
        ("paid", "captured"),
        ("refund_succeeded", "refund_succeeded"),
        ("refunded", "ignored"),
    ]


async def test_a_refund_stripe_fails_later_gives_the_claim_back_and_is_flagged(
    client: AsyncClient, fake: FakeStripe, refunder: dict[str, str]
) -> None:
    payment = await paid_stripe_payment(client, fake)
    fake.refund_status = "pending"
    await refund(client, refunder, payment.id, 4000, "refund-f")
    [stripe_refund] = fake.refunds.values()

    failed = await webhook(client, fake, "refund.failed", fake.settle_refund(stripe_refund["id"], "failed"))

    after = await read_payment(payment.id)
    assert failed.status_code == 200
    assert await refunds_of(payment.id) == [(4000, "failed", stripe_refund["id"])]
    assert (after.status, after.refunded_amount, after.needs_review) == (payments.PaymentStatus.paid, 0, True)
    assert "expired_or_canceled_card" in after.review_reason


async def test_closing_cancels_the_intent_or_finds_it_paid(client: AsyncClient, fake: FakeStripe) -> None:
    unpaid = await stripe_payment(reference="order:1")
    paid_meanwhile = await stripe_payment(reference="order:2")
    assert paid_meanwhile.provider_payment_id is not None
    fake.pay(paid_meanwhile.provider_payment_id)  # the webhook is lost

    async with uow() as s:
        for payment in (unpaid, paid_meanwhile):
            await payments.close_payment(s, payment_id=payment.id, actor=None, reason="order cancelled")

    assert (await read_payment(unpaid.id)).status is payments.PaymentStatus.closed
    assert (await read_payment(paid_meanwhile.id)).status is payments.PaymentStatus.paid
    assert unpaid.provider_payment_id is not None
    assert fake.intents[unpaid.provider_payment_id]["status"] == "canceled"
