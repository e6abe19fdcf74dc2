"""The notify endpoint: "success" for applied and duplicate notifications; 400 and nothing
changed for a bad signature, a tampered body, a stale timestamp, garbage or an unknown payment."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from httpx import AsyncClient

from mercato import payments
from mercato.core import clock
from tests.factories.payments import (
    body_for,
    counts,
    make_payment,
    notification_outcomes,
    notify,
    outbox,
    read_payment,
    signed,
)


async def test_a_signed_notification_is_answered_success_and_pays(client: AsyncClient) -> None:
    payment = await make_payment()

    response = await notify(client, body_for(payment))

    assert (response.status_code, response.text) == (200, "success")
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.paid


async def test_a_replayed_notification_is_answered_success_and_changes_nothing(client: AsyncClient) -> None:
    payment = await make_payment()
    body = body_for(payment)
    headers = signed(body)
    first = await notify(client, body, headers)
    after_first = await counts()

    replays = [await notify(client, body, headers) for _ in range(3)]
    resent = await notify(client, body)  # the gateway's own resend: new nonce and timestamp

    assert first.status_code == 200
    assert [(r.status_code, r.text) for r in [*replays, resent]] == [(200, "success")] * 4
    assert await counts() == after_first
    assert after_first["payments_notification"] == 1
    assert [name for name, _ in await outbox()] == ["payments.payment_captured.v1"]


def _tampered(body: bytes) -> bytes:
    payload = json.loads(body)
    payload["amount"] = 1
    return json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()


@pytest.mark.parametrize(
    "_case",
    [
        "signature_of_another_body",
        "wrong_secret",
        "stale_timestamp",
        "future_timestamp",
        "no_headers",
        "malformed_signature",
        "short_nonce",
    ],
)
async def test_a_notification_that_fails_its_check_is_refused_and_changes_nothing(
    client: AsyncClient, _case: str
) -> None:
    payment = await make_payment()
    body = body_for(payment)
    now = int(clock.now().timestamp())
    headers = {
        "signature_of_another_body": signed(body),
        "wrong_secret": signed(body, secret="not-the-secret"),
        "stale_timestamp": signed(body, timestamp=now - 301),
        "future_timestamp": signed(body, timestamp=now + 360),  # a minute of slack for a slow run
        "no_headers": {"content-type": "application/json"},
        "malformed_signature": {**signed(body), "Sandbox-Signature": "abc"},
        "short_nonce": {**signed(body), "Sandbox-Nonce": "abc"},
    }[_case]
    sent = _tampered(body) if _case == "signature_of_another_body" else body
    before = await counts()

    response = await notify(client, sent, headers)

    assert response.status_code == 400
    assert response.json()["code"] == "payments.invalid_signature"
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


async def test_a_notification_signed_four_minutes_ago_is_still_accepted(client: AsyncClient) -> None:
    payment = await make_payment()
    body = body_for(payment)
    headers = signed(body)

    clock.advance(dt.timedelta(minutes=4))
    response = await notify(client, body, headers)

    assert response.status_code == 200


async def test_a_replay_after_the_window_is_refused(client: AsyncClient) -> None:
    payment = await make_payment()
    body = body_for(payment)
    headers = signed(body)
    await notify(client, body, headers)
    before = await counts()

    clock.advance(dt.timedelta(minutes=6))
    response = await notify(client, body, headers)

    assert (response.status_code, response.json()["code"]) == (400, "payments.invalid_signature")
    assert await counts() == before


async def test_a_notification_for_an_unknown_payment_is_refused_and_changes_nothing(
    client: AsyncClient,
) -> None:
    payment = await make_payment()
    body = body_for(payment).replace(payment.provider_payment_id.encode(), b"sbx_unknown")  # type: ignore[union-attr]
    before = await counts()

    response = await notify(client, body)

    assert (response.status_code, response.json()["code"]) == (400, "payments.unknown_payment")
    assert await counts() == before


async def test_a_notification_naming_another_payment_than_its_trade_is_refused(client: AsyncClient) -> None:
    payment = await make_payment()
    other = await make_payment(reference="order:43")
    body = body_for(payment).replace(
        f'"out_trade_no":"{payment.id}"'.encode(), f'"out_trade_no":"{other.id}"'.encode()
    )
    assert body != body_for(payment)
    before = await counts()

    response = await notify(client, body)

    assert (response.status_code, response.json()["code"]) == (400, "payments.unknown_payment")
    assert await counts() == before
    assert (await read_payment(payment.id)).status is payments.PaymentStatus.pending


@pytest.mark.parametrize(
    ("_case", "body"),
    [
        ("not_json", b"{not json"),
        ("not_an_object", b"[1, 2]"),
        ("no_amount", b'{"id": "x", "trade_id": "y", "status": "paid", "currency": "CNY"}'),
        ("unknown_status", b'{"id": "x", "trade_id": "y", "status": "odd", "amount": 1, "currency": "CNY"}'),
        ("float_amount", b'{"id": "x", "trade_id": "y", "status": "paid", "amount": 1.5, "currency": "CNY"}'),
    ],
)
async def test_a_signed_body_that_is_not_a_notification_is_refused(
    client: AsyncClient, _case: str, body: bytes
) -> None:
    await make_payment()
    before = await counts()

    response = await notify(client, body)

    assert (response.status_code, response.json()["code"]) == (400, "payments.invalid_notification")
    assert await counts() == before


async def test_a_provider_that_is_not_enabled_is_refused(client: AsyncClient) -> None:
    payment = await make_payment()
    body = body_for(payment)
    before = await counts()

    response = await client.post("/api/v1/payments/notify/alipay", content=body, headers=signed(body))

    assert (response.status_code, response.json()["code"]) == (422, "payments.unknown_provider")
    assert await counts() == before


async def test_each_notification_is_recorded_with_its_outcome(client: AsyncClient) -> None:
    payment = await make_payment()
    trade = payment.provider_payment_id

    await notify(client, body_for(payment, "pending"))
    await notify(client, body_for(payment, "paid"))
    await notify(client, body_for(payment, "pending", event_id=f"{trade}:pending-again"))

    assert await notification_outcomes(payment.id) == [
        (f"{trade}:pending", "pending", "ignored"),
        (f"{trade}:paid", "paid", "captured"),
        (f"{trade}:pending-again", "pending", "ignored"),
    ]
