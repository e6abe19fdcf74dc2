"""Bad input from the issue, over the API: a refund larger than what was paid, a return after the
window, grading more units than were returned, more units than were bought. Each is a clear 4xx
with a stable code, and nothing changes: rows, claims, stock, payment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from httpx import AsyncClient

from mercato.core import clock, events
from tests.api.aftersales.support import Purchase, bought, staff
from tests.service.aftersales.support import payment_of, rows, stock

ADMIN = "/api/v1/admin/aftersales"
EN = {"Accept-Language": "en"}


pytestmark = pytest.mark.usefixtures("handlers")


async def state(purchase: Purchase) -> dict[str, Any]:
    payment = await payment_of(purchase.order)
    return {
        **(await rows()),
        "stock": await stock(purchase.red, purchase.warehouse_id),
        "payment": (payment.status, payment.refunded_amount),
    }


async def test_a_refund_larger_than_what_was_paid(client: AsyncClient) -> None:
    purchase = await bought(client)
    refunder = await staff("finance@example.com", "orders.refund")
    partial = await client.post(  # 65 of the 70 元 refunded directly: 5 元 left on the payment
        f"/api/v1/admin/payments/{purchase.order.payment_id}/refunds",
        json={"amount": 6500, "reason": "price adjustment"},
        headers={**refunder, "Idempotency-Key": "adjust-0001"},
    )
    assert partial.status_code == 202, partial.text
    await events.deliver_pending()
    before = await state(purchase)

    over_share = await client.post(
        "/api/v1/aftersales",
        json=purchase.request(quantity=1, refund_amount=3001),
        headers={**purchase.auth, **EN},
    )
    over_payment = await client.post(
        "/api/v1/aftersales", json=purchase.request(quantity=1), headers={**purchase.auth, **EN}
    )
    absurd = await client.post(
        "/api/v1/aftersales", json=purchase.request(quantity=1, refund_amount=10**13), headers=purchase.auth
    )

    assert (over_share.status_code, over_share.json()["code"], over_share.json()["detail"]) == (
        422,
        "aftersales.refund_too_large",
        "The refund can be at most CN¥30.00 for these units.",
    )
    assert (over_payment.status_code, over_payment.json()["code"], over_payment.json()["detail"]) == (
        409,
        "aftersales.payment_exhausted",
        "The payment has only CN¥5.00 left to refund.",
    )
    assert (absurd.status_code, absurd.json()["errors"][0]["loc"]) == (422, ["body", "refund_amount"])
    assert await state(purchase) == before


async def test_a_return_after_the_window(client: AsyncClient) -> None:
    purchase = await bought(client)
    clock.advance(dt.timedelta(days=8))
    before = await state(purchase)

    late = await client.post("/api/v1/aftersales", json=purchase.request(), headers={**purchase.auth, **EN})

    assert (late.status_code, late.json()["code"], late.json()["detail"]) == (
        409,
        "aftersales.window_closed",
        "The after-sales window of 7 days after delivery has closed.",
    )
    assert await state(purchase) == before


async def test_more_units_than_bought(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    before = await state(purchase)

    three = await client.post("/api/v1/aftersales", json=purchase.request(quantity=3), headers=purchase.auth)
    none = await client.post("/api/v1/aftersales", json=purchase.request(quantity=0), headers=purchase.auth)
    unknown_field = await client.post(
        "/api/v1/aftersales", json=purchase.request(price_amount=1), headers=purchase.auth
    )

    assert (three.status_code, three.json()["code"]) == (422, "aftersales.quantity_exceeds_bought")
    assert [(r.status_code, r.json()["errors"][0]["loc"]) for r in (none, unknown_field)] == [
        (422, ["body", "quantity"]),
        (422, ["body", "price_amount"]),
    ]
    assert await state(purchase) == before


async def test_grading_more_units_than_were_returned(client: AsyncClient) -> None:
    purchase = await bought(client, quantity=2)
    cs = await staff("cs@example.com", "aftersales.write", "aftersales.receive")
    request_id = (
        await client.post("/api/v1/aftersales", json=purchase.request(quantity=1), headers=purchase.auth)
    ).json()["id"]
    early = await client.post(f"{ADMIN}/{request_id}/receive", json={"resellable": 1}, headers=cs)
    await client.post(f"{ADMIN}/{request_id}/approve", json={}, headers=cs)
    await client.post(
        f"/api/v1/aftersales/{request_id}/ship-back",
        json={"carrier": "EMS", "tracking_number": "EM123456789CN"},
        headers=purchase.auth,
    )
    before = await state(purchase)

    too_many = await client.post(
        f"{ADMIN}/{request_id}/receive", json={"resellable": 1, "defective": 1}, headers={**cs, **EN}
    )
    negative = await client.post(f"{ADMIN}/{request_id}/receive", json={"resellable": -1}, headers=cs)

    assert (early.status_code, early.json()["code"]) == (409, "aftersales.illegal_transition")
    assert (too_many.status_code, too_many.json()["code"], too_many.json()["detail"]) == (
        422,
        "aftersales.too_many_units_graded",
        "More units were graded (2) than were returned (1).",
    )
    assert (negative.status_code, negative.json()["errors"][0]["loc"]) == (422, ["body", "resellable"])
    assert await state(purchase) == before
