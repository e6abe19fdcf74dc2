"""The Stripe provider against a local server speaking Stripe's REST API, and webhook events
signed as Stripe documents it."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mercato import payments
from mercato.core.settings import Settings
from mercato.payments.providers.base import (
    CloseResult,
    Notification,
    PaymentToCreate,
    RefundNotification,
    RefundResult,
)
from mercato.payments.providers.stripe import (
    StripeConfig,
    StripeProvider,
    from_stripe_amount,
    to_stripe_amount,
)
from tests.providers.fake_stripe import (
    PUBLISHABLE_KEY,
    SECRET_KEY,
    WEBHOOK_SECRET,
    FakeStripe,
    running_fake_stripe,
    sign,
)
from tests.providers.local_server import free_port

SHOP = "https://shop.example.com"


@pytest.fixture
async def fake() -> AsyncIterator[FakeStripe]:
    async with running_fake_stripe() as server:
        yield server


def provider(base_url: str, *, secret_key: str = SECRET_KEY) -> StripeProvider:
    return StripeProvider(
        StripeConfig(
            secret_key=secret_key,
            publishable_key=PUBLISHABLE_KEY,
            webhook_secret=WEBHOOK_SECRET,
            api_base=base_url,
            public_base_url=SHOP,
            max_network_retries=0,
        )
    )


def to_create(payment_id: int = 7, amount: int = 9900, currency: str = "CNY") -> PaymentToCreate:
    return PaymentToCreate(
        payment_id=payment_id,
        reference="order:42",
        amount=amount,
        currency=currency,
        expires_at=dt.datetime(2026, 11, 27, 12, 30, tzinfo=dt.UTC),
    )


def delivered(event: dict[str, Any], **signing: Any) -> tuple[dict[str, str], bytes]:
    body = json.dumps(event).encode()
    return {"Stripe-Signature": sign(body, **signing), "Content-Type": "application/json"}, body


async def test_create_opens_one_intent_per_payment(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)

    first = await stripe.create(to_create())
    again = await stripe.create(to_create())

    [intent] = fake.intents.values()
    assert (first, again) == (again, first)
    assert first.provider_payment_id == intent["id"]
    assert first.pay_url == f"{SHOP}/pay/stripe/7"
    assert first.client_data == {
        "publishable_key": PUBLISHABLE_KEY,
        "client_secret": intent["client_secret"],
        "payment_intent": intent["id"],
        "amount": 9900,
        "currency": "cny",
        "return_url": f"{SHOP}/pay/stripe/7",
    }
    sent = {
        "amount": "9900",
        "currency": "cny",
        "automatic_payment_methods": {"enabled": "true"},
        "metadata": {"payment_id": "7", "reference": "order:42"},
    }
    assert fake.requests == [
        ("POST", "/v1/payment_intents", sent, "mercato-payment-7"),
        ("POST", "/v1/payment_intents", sent, "mercato-payment-7"),
    ]


async def test_amounts_are_sent_in_stripes_unit_of_the_currency(fake: FakeStripe) -> None:
    created = await provider(fake.base_url).create(to_create(payment_id=8, amount=500, currency="JPY"))

    assert fake.intents[created.provider_payment_id]["amount"] == 500
    assert [to_stripe_amount(a, c) for a, c in [(9900, "CNY"), (500, "JPY"), (5120, "KWD"), (5, "ISK")]] == [
        9900,
        500,
        5120,
        500,
    ]
    assert [from_stripe_amount(a, c) for a, c in [(9900, "cny"), (500, "isk"), (550, "isk")]] == [
        9900,
        5,
        None,
    ]


@pytest.mark.parametrize("case", ["wrong key", "server error", "unreachable"])
async def test_refusals_and_outages_are_provider_unavailable(fake: FakeStripe, case: str) -> None:
    base_url = f"http://127.0.0.1:{free_port()}" if case == "unreachable" else fake.base_url
    fake.fail_with = 500 if case == "server error" else None
    stripe = provider(base_url, secret_key="sk_test_wrong" if case == "wrong key" else SECRET_KEY)

    with pytest.raises(payments.ProviderUnavailable):
        await stripe.create(to_create())

    assert fake.intents == {}


async def test_a_signed_event_becomes_a_notification(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    intent = fake.pay(created.provider_payment_id)
    event = fake.event("payment_intent.succeeded", intent)
    headers, body = delivered(event)

    notification = stripe.parse_notification(headers, body)

    assert notification == Notification(
        provider_txn_id=event["id"],
        provider_payment_id=intent["id"],
        status="paid",
        amount=9900,
        currency="CNY",
        raw=event,
        merchant_payment_id="7",
    )


def _tamper(body: bytes) -> bytes:
    return body.replace(b'"amount_received": 9900', b'"amount_received": 1')


@pytest.mark.parametrize(
    "case",
    ["other secret", "tampered body", "stale", "no header", "no v1 signature", "garbled header", "not utf-8"],
)
async def test_forged_tampered_and_stale_webhooks_are_refused(fake: FakeStripe, case: str) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    event = fake.event("payment_intent.succeeded", fake.pay(created.provider_payment_id))
    body = json.dumps(event).encode()
    header = {
        "other secret": sign(body, secret="whsec_someone_else"),
        "tampered body": sign(body),
        "stale": sign(body, timestamp=int(time.time()) - 301),
        "no header": "",
        "no v1 signature": sign(body).replace("v1=", "v0="),
        "garbled header": "t=soon,v1=zz",
        "not utf-8": sign(body),
    }[case]
    if case == "tampered body":
        body = _tamper(body)
    if case == "not utf-8":
        body = body[:-1] + b"\xff}"
    headers = {"Stripe-Signature": header} if header else {}

    with pytest.raises(payments.InvalidSignature):
        stripe.parse_notification(headers, body)


async def test_a_signature_within_the_tolerance_is_accepted(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    event = fake.event("payment_intent.succeeded", fake.pay(created.provider_payment_id))
    headers, body = delivered(event, timestamp=int(time.time()) - 290)

    assert stripe.parse_notification(headers, body).provider_txn_id == event["id"]


@pytest.mark.parametrize(
    "payload",
    [
        {"object": "customer", "id": "cus_1"},
        {"object": "event", "id": "evt_1", "type": "customer.created", "data": {"object": {"id": "cus_1"}}},
        {"object": "event", "id": "evt_2", "type": "payment_intent.succeeded", "data": {"object": "x"}},
        [],
    ],
)
async def test_signed_bodies_that_are_not_events_we_handle_are_invalid(
    fake: FakeStripe, payload: object
) -> None:
    body = json.dumps(payload).encode()

    with pytest.raises(payments.InvalidNotification):
        provider(fake.base_url).parse_notification({"stripe-signature": sign(body)}, body)


async def test_payment_intent_events_map_to_statuses(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    intent_id = created.provider_payment_id
    declined = fake.event("payment_intent.payment_failed", fake.decline(intent_id))
    processing = fake.event("payment_intent.processing", fake.intents[intent_id])
    canceled = fake.event("payment_intent.canceled", {**fake.intents[intent_id], "status": "canceled"})
    short = fake.event("payment_intent.succeeded", fake.pay(intent_id, amount=9800))

    read = [stripe.parse_notification(*delivered(e)) for e in (declined, processing, canceled, short)]

    assert [(n.status, n.amount, n.currency) for n in read if isinstance(n, Notification)] == [
        ("failed", 9900, "CNY"),
        ("pending", 9900, "CNY"),
        ("closed", 9900, "CNY"),
        ("paid", 9800, "CNY"),
    ]


async def test_refund_events_settle_our_refund_and_charge_refunded_is_a_notice(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    fake.pay(created.provider_payment_id)
    fake.refund_status = "pending"
    pending = await stripe.refund(created.provider_payment_id, 31, 2000)
    assert pending.provider_refund_id is not None
    refund = fake.refunds[pending.provider_refund_id]
    updated = fake.event("refund.updated", fake.settle_refund(refund["id"]))
    failed = fake.event(
        "refund.failed", {**refund, "status": "failed", "failure_reason": "lost_or_stolen_card"}
    )
    charge = fake.event("charge.refunded", fake.charges[refund["charge"]])

    read = [stripe.parse_notification(*delivered(e)) for e in (updated, failed, charge)]

    assert pending == RefundResult.pending_refund(refund["id"])
    assert read[0] == RefundNotification(
        provider_txn_id=updated["id"],
        refund_id=31,
        result=RefundResult(succeeded=True, provider_refund_id=refund["id"]),
        amount=2000,
        currency="CNY",
        raw=updated,
        merchant_payment_id="7",
    )
    assert isinstance(read[1], RefundNotification)
    assert read[1].result == RefundResult(
        succeeded=False, provider_refund_id=refund["id"], failure_reason="stripe: lost_or_stolen_card"
    )
    assert read[1].review_reason == (
        "Stripe could not refund the customer (lost_or_stolen_card): pay it back another way"
    )
    assert isinstance(read[2], Notification)
    assert (read[2].status, read[2].amount, read[2].provider_payment_id) == (
        "refunded",
        2000,
        created.provider_payment_id,
    )


async def test_query_reports_the_intents_status(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    first = await stripe.create(to_create(payment_id=1))
    second = await stripe.create(to_create(payment_id=2))

    waiting = await stripe.query(first.provider_payment_id)
    fake.decline(first.provider_payment_id)
    declined = await stripe.query(first.provider_payment_id)
    fake.pay(first.provider_payment_id)
    paid = await stripe.query(first.provider_payment_id)
    await stripe.close(second.provider_payment_id)
    closed = await stripe.query(second.provider_payment_id)

    assert [
        (n.provider_txn_id.split(":")[1], n.status, n.amount) for n in (waiting, declined, paid, closed)
    ] == [
        ("requires_payment_method", "pending", 9900),
        ("requires_payment_method", "pending", 9900),
        ("succeeded", "paid", 9900),
        ("canceled", "closed", 9900),
    ]
    assert paid.merchant_payment_id == "1"


async def test_refunds_full_and_partial_once_per_refund_id(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    fake.pay(created.provider_payment_id)
    trade = created.provider_payment_id

    partial = await stripe.refund(trade, 11, 3000)
    retried = await stripe.refund(trade, 11, 3000)
    rest = await stripe.refund(trade, 12, 6900)
    nothing_left = await stripe.refund(trade, 13, 1)

    assert partial == retried
    assert (partial.succeeded, rest.succeeded) == (True, True)
    assert nothing_left == RefundResult(succeeded=False, failure_reason="stripe: charge_already_refunded")
    assert [(r["amount"], r["metadata"], r["status"]) for r in fake.refunds.values()] == [
        (3000, {"refund_id": "11", "payment_id": "7"}, "succeeded"),
        (6900, {"refund_id": "12", "payment_id": "7"}, "succeeded"),
    ]
    assert [key for method, path, _, key in fake.requests if path == "/v1/refunds"] == [
        "mercato-refund-11",
        "mercato-refund-11",
        "mercato-refund-12",
        "mercato-refund-13",
    ]


async def test_a_pending_refund_is_looked_up_not_asked_again(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    created = await stripe.create(to_create())
    fake.pay(created.provider_payment_id)
    fake.refund_status = "pending"

    asked = await stripe.refund(created.provider_payment_id, 21, 9900)
    still = await stripe.query_refund(created.provider_payment_id, 21)
    assert asked.provider_refund_id is not None
    fake.settle_refund(asked.provider_refund_id)
    done = await stripe.query_refund(created.provider_payment_id, 21)

    assert (asked.pending, still.pending) == (True, True)
    assert done == RefundResult(succeeded=True, provider_refund_id=asked.provider_refund_id)
    with pytest.raises(payments.ProviderUnavailable):
        await stripe.query_refund(created.provider_payment_id, 22)  # never asked for


async def test_close_cancels_the_intent_unless_it_was_paid(fake: FakeStripe) -> None:
    stripe = provider(fake.base_url)
    unpaid = await stripe.create(to_create(payment_id=1))
    paid = await stripe.create(to_create(payment_id=2))
    fake.pay(paid.provider_payment_id)

    closed = await stripe.close(unpaid.provider_payment_id)
    closed_again = await stripe.close(unpaid.provider_payment_id)
    refused = await stripe.close(paid.provider_payment_id)

    assert (closed, closed_again) == (CloseResult(closed=True), CloseResult(closed=True))
    assert refused == CloseResult(closed=False, already_paid=True)
    assert fake.intents[unpaid.provider_payment_id]["status"] == "canceled"
    assert fake.intents[paid.provider_payment_id]["status"] == "succeeded"


def test_check_names_what_an_enabled_stripe_is_missing() -> None:
    enabled = ["sandbox", "stripe"]
    keys = {
        "stripe_secret_key": SECRET_KEY,
        "stripe_publishable_key": PUBLISHABLE_KEY,
        "stripe_webhook_secret": WEBHOOK_SECRET,
    }

    missing = Settings(payment_providers=enabled).problems()
    configured = Settings(payment_providers=enabled, **keys).problems()  # type: ignore[arg-type]

    assert [p for p in missing if "STRIPE" in p] == [
        "MERCATO_STRIPE_SECRET_KEY: required when 'stripe' is in MERCATO_PAYMENT_PROVIDERS",
        "MERCATO_STRIPE_PUBLISHABLE_KEY: required when 'stripe' is in MERCATO_PAYMENT_PROVIDERS",
        "MERCATO_STRIPE_WEBHOOK_SECRET: required when 'stripe' is in MERCATO_PAYMENT_PROVIDERS",
    ]
    assert [p for p in configured if "STRIPE" in p] == []
