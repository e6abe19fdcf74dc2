"""Store pickup (到店核销) end to end: buy with pickup at a store, pay in the sandbox, read the code
and its QR image, hand the order over at the store counter → completed; the wrong store, a wrong
code, a replay, missing permissions and another shopper are refused with nothing changed."""

from __future__ import annotations

import io

import pytest
import segno
from httpx import AsyncClient
from sqlalchemy import select

from mercato import inventory
from mercato.core import events
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.factories.inventory import make_warehouse, receive
from tests.factories.payments import pay_on_gateway, read_payment
from tests.service.fulfillment.factories import counts, stock, verify_stock

VERIFY = "/api/v1/admin/fulfillment/pickup/verify"


pytestmark = pytest.mark.usefixtures("handlers")


async def bought_for_pickup(client: AsyncClient) -> tuple[dict[str, str], int, int, int]:
    """A shopper who bought 2 red for pickup at a store and paid in the sandbox:
    (auth, order id, red, store id)."""
    auth, address_id, red = await shopper_with_cart(client, price=3000, quantity=2)
    store = await make_warehouse("STORE-JA", kind=inventory.WarehouseKind.store, regions=["上海市"])
    await receive(red, store.id, 5)
    choice = {"address_id": address_id, "delivery": "pickup", "pickup_store_id": store.id}
    quote = (await client.post("/api/v1/checkout/confirm", json=choice, headers=auth)).json()
    placed = await client.post(
        "/api/v1/checkout/complete",
        json={**choice, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "pickup-order-1"},
    )
    assert placed.status_code == 200, placed.text
    await pay_on_gateway(client, await read_payment(placed.json()["payment_id"]))
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → the pickup code
    return auth, placed.json()["order_id"], red, store.id


async def clerk(email: str = "clerk@example.com", *permissions: str) -> dict[str, str]:
    granted = list(permissions) or ["fulfillment.pickup"]
    return await staff_headers((await make_staff(email=email, permissions=granted)).id)


async def test_a_shopper_collects_the_order_at_the_store(client: AsyncClient) -> None:
    auth, order_id, red, store = await bought_for_pickup(client)
    _other, other_auth = await signed_in_customer(client, password=None)
    counter = await clerk()
    before_stock = await stock(red, store)

    shown = await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)
    qr = await client.get(f"/api/v1/orders/{order_id}/pickup-code.svg", headers=auth)
    not_theirs = [
        await client.get(f"/api/v1/orders/{order_id}/pickup-code{suffix}", headers=other_auth)
        for suffix in ("", ".svg")
    ]
    code = shown.json()["code"]
    handed_over = await client.post(VERIFY, json={"store_id": store, "code": code}, headers=counter)
    replay = await client.post(VERIFY, json={"store_id": store, "code": code}, headers=counter)
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
    after = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()
    used_qr = await client.get(f"/api/v1/orders/{order_id}/pickup-code.svg", headers=auth)

    assert shown.status_code == 200
    assert (shown.json()["status"], shown.json()["store_id"], shown.headers["cache-control"]) == (
        "open",
        store,
        "no-store",
    )
    assert (len(code), code.isdigit()) == (8, True)
    expected_qr = io.BytesIO()
    segno.make(code, error="m").save(expected_qr, kind="svg", scale=8, border=2, xmldecl=False)
    assert (qr.status_code, qr.headers["content-type"], qr.content) == (
        200,
        "image/svg+xml",
        expected_qr.getvalue(),
    )
    assert [(r.status_code, r.json()["code"]) for r in not_theirs] == [(404, "orders.order_not_found")] * 2
    assert before_stock == (5, 2)
    assert handed_over.status_code == 200, handed_over.text
    assert (handed_over.json()["order_id"], handed_over.json()["status"]) == (order_id, "verified")
    assert (replay.status_code, replay.json()["code"]) == (409, "fulfillment.pickup_already_verified")
    assert (order["status"], [s["status"] for s in order["sub_orders"]]) == ("completed", ["completed"])
    assert [h["to_status"] for h in order["history"]] == [
        "pending_payment",
        "paid",
        "shipped",
        "delivered",
        "completed",
    ]
    assert (after["status"], after["code"]) == ("verified", None)
    assert (used_qr.status_code, used_qr.json()["code"]) == (404, "fulfillment.pickup_code_not_found")
    assert await stock(red, store) == (3, 0)  # on hand down by 2, nothing held any more
    assert await verify_stock() == []
    async with uow(write=False) as s:
        entries = (
            await s.execute(
                select(AuditEntry.action, AuditEntry.actor_label).where(AuditEntry.action == "pickup.verify")
            )
        ).all()
    assert entries == [("pickup.verify", "clerk@example.com")]


async def test_the_wrong_store_a_wrong_code_and_no_permission_change_nothing(client: AsyncClient) -> None:
    auth, order_id, red, store = await bought_for_pickup(client)
    other_store = await make_warehouse("STORE-XH", kind=inventory.WarehouseKind.store, regions=["上海市"])
    code = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()["code"]
    counter = await clerk()
    no_right = await clerk("reader@example.com", "fulfillment.read")
    before = await counts()

    wrong_store = await client.post(VERIFY, json={"store_id": other_store.id, "code": code}, headers=counter)
    wrong_code = await client.post(
        VERIFY, json={"store_id": store, "code": f"{(int(code) + 1) % 10**8:08d}"}, headers=counter
    )
    malformed = await client.post(VERIFY, json={"store_id": store, "code": "12ab"}, headers=counter)
    forbidden = await client.post(VERIFY, json={"store_id": store, "code": code}, headers=no_right)
    as_shopper = await client.post(VERIFY, json={"store_id": store, "code": code}, headers=auth)

    assert [(r.status_code, r.json()["code"]) for r in (wrong_store, wrong_code, malformed, forbidden)] == [
        (409, "fulfillment.wrong_store"),
        (422, "fulfillment.pickup_code_invalid"),
        (422, "core.validation_failed"),
        (403, "identity.permission_denied"),
    ]
    assert as_shopper.status_code == 401
    assert await counts() == before
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()
    assert order["status"] == "paid"
    assert await stock(red, store) == (5, 2)


async def test_wrong_codes_are_limited(client: AsyncClient) -> None:
    auth, order_id, _red, store = await bought_for_pickup(client)
    code = (await client.get(f"/api/v1/orders/{order_id}/pickup-code", headers=auth)).json()["code"]
    counter = await clerk()
    guesses = [f"{n:08d}" for n in range(11) if f"{n:08d}" != code][:10]

    refused = [
        (await client.post(VERIFY, json={"store_id": store, "code": guess}, headers=counter)).status_code
        for guess in guesses
    ]
    limited = await client.post(VERIFY, json={"store_id": store, "code": code}, headers=counter)

    assert refused == [422] * 10
    assert (limited.status_code, limited.json()["code"]) == (429, "fulfillment.pickup_attempts_exceeded")
    assert int(limited.headers["retry-after"]) > 0
    assert (await client.get(f"/api/v1/orders/{order_id}", headers=auth)).json()["status"] == "paid"


async def test_the_shopper_is_told_the_order_is_ready_for_pickup_once(client: AsyncClient) -> None:
    auth, order_id, _red, _store = await bought_for_pickup(client)
    for _ in range(3):  # redelivered events tell nothing twice
        await events.deliver_pending()

    messages = (await client.get("/api/v1/me/messages", headers=auth)).json()["items"]

    ready = [m for m in messages if m["kind"] == "pickup_ready"]
    assert len(ready) == 1
    assert ready[0]["title"] == "订单可到店自提"
    assert "提货码" in ready[0]["body"]
    assert ready[0]["link"] == f"order:{order_id}"
    assert sorted(m["kind"] for m in messages) == ["order_paid", "pickup_ready"]
