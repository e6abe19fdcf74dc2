"""An Idempotency-Key reused with another body is refused (409), never answered with the first
order; the same body under the same key still gets the same order."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from mercato.cart.models import Cart
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.idempotency import IdempotencyRecord
from mercato.orders.models import Order
from mercato.payments.models import Payment
from tests.factories.checkout import shopper, shopper_with_cart

EN = {"Accept-Language": "en"}


async def rows() -> dict[str, int]:
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Order, Payment, OutboxEvent, IdempotencyRecord)
        }


async def test_complete_with_a_used_key_and_another_body_is_refused(client: AsyncClient) -> None:
    auth, address_id, _red = await shopper_with_cart(client)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    body: dict[str, Any] = {"address_id": address_id, "expected_total_amount": quote["price"]["total_amount"]}
    key = {**auth, "Idempotency-Key": "same-key-0001"}
    first = await client.post("/api/v1/checkout/complete", json=body, headers=key)
    before = await rows()

    other_note = await client.post("/api/v1/checkout/complete", json={**body, "note": "改一下"}, headers=key)
    other_total = await client.post(
        "/api/v1/checkout/complete", json={**body, "expected_total_amount": 1}, headers={**key, **EN}
    )
    same = await client.post("/api/v1/checkout/complete", json=body, headers=key)

    assert first.status_code == 200, first.text
    assert (other_note.status_code, other_note.json()["code"], other_note.json()["detail"]) == (
        409,
        "core.idempotency_key_reused",
        "该幂等键已用于另一个不同的请求。",
    )
    assert (other_total.status_code, other_total.json()["code"], other_total.json()["detail"]) == (
        409,
        "core.idempotency_key_reused",
        "This Idempotency-Key was already used for a different request.",
    )
    assert (same.status_code, same.json()) == (200, first.json())
    assert await rows() == before  # nothing placed, paid, recorded or announced by the refusals
    async with uow(write=False) as s:
        notes = (await s.execute(select(Order.note))).scalars().all()
        carts = (await s.execute(select(Cart.status, Cart.checkout_reference))).all()
    assert notes == [""]
    assert carts == [("checking_out", f"order:{first.json()['order_id']}")]


async def test_buy_now_with_a_used_key_and_another_body_is_refused(client: AsyncClient) -> None:
    auth, _address_id, red = await shopper_with_cart(client, price=5000, quantity=1)
    body = {"sku_id": red, "quantity": 2, "expected_total_amount": 10000}
    key = {**auth, "Idempotency-Key": "now-key-0001"}
    first = await client.post("/api/v1/checkout/buy-now", json=body, headers=key)
    before = await rows()

    more = await client.post(
        "/api/v1/checkout/buy-now", json={**body, "quantity": 1, "expected_total_amount": 5000}, headers=key
    )
    same = await client.post("/api/v1/checkout/buy-now", json=body, headers=key)

    assert first.status_code == 200, first.text
    assert (more.status_code, more.json()["code"]) == (409, "core.idempotency_key_reused")
    assert (same.status_code, same.json()) == (200, first.json())
    assert await rows() == before
    async with uow(write=False) as s:
        quantities = (await s.execute(select(Order.total_amount))).scalars().all()
    assert quantities == [10000]


async def test_a_key_belongs_to_one_customer_and_one_action(client: AsyncClient) -> None:
    alice, address_id, red = await shopper_with_cart(client, price=5000, quantity=1)
    bob, _bob_address = await shopper(client)
    body = {"sku_id": red, "quantity": 2, "expected_total_amount": 10000}
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=alice)
    ).json()

    mine = await client.post(
        "/api/v1/checkout/buy-now", json=body, headers={**alice, "Idempotency-Key": "k-shared-1"}
    )
    theirs = await client.post(
        "/api/v1/checkout/buy-now",
        json={**body, "note": "bob"},
        headers={**bob, "Idempotency-Key": "k-shared-1"},
    )
    checkout_too = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**alice, "Idempotency-Key": "k-shared-1"},
    )

    assert [r.status_code for r in (mine, theirs, checkout_too)] == [200, 200, 200]
    assert len({r.json()["order_id"] for r in (mine, theirs, checkout_too)}) == 3
    assert (await rows())["orders_order"] == 3
