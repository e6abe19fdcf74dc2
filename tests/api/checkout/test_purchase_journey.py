"""A new shopper's first purchase, only through the HTTP API: browse as a guest, fill a guest
cart, register with an SMS code, sign in (the guest cart merges), add an address, confirm,
complete, pay in the sandbox; then every record the purchase touched, checked exactly."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import identity, inventory
from mercato.core import events
from mercato.core.db import uow
from tests.factories.checkout import ADDRESS, open_shop
from tests.factories.identity import PASSWORD
from tests.factories.payments import pay_on_gateway, read_payment

PHONE = "13800138123"


pytestmark = pytest.mark.usefixtures("handlers")


async def open_staffed_shop() -> None:
    """Staff set-up (``open_shop``), then the catalog learns the stock."""
    await open_shop()
    await events.deliver_pending()


def code_sent_to(sms: identity.ConsoleSms, phone: str) -> str:
    message = sms.last_to(phone)
    assert message is not None
    return "".join(ch for ch in message.text if ch.isdigit())[:6]


async def stock_of(sku_id: int) -> list[tuple[int, int]]:
    """(on hand, reserved) of each warehouse holding the SKU."""
    async with uow(write=False) as s:
        levels = (await inventory.get_stock_levels(s, sku_ids=[sku_id]))[sku_id]
    return [(x.on_hand, x.reserved) for x in levels]


async def holds_of(reference: str) -> list[tuple[int, int, str]]:
    """(SKU, quantity, status) of each stock hold for ``reference``."""
    async with uow(write=False) as s:
        holds = await inventory.list_reservations(s, reference=reference)
    return [(x.sku_id, x.quantity, str(x.status)) for x in holds]


async def ledger_of(sku_id: int) -> list[tuple[str, int, int, int, int, str, str, str]]:
    """The SKU's ledger, oldest first: kind, deltas, levels after, reason, reference, actor."""
    async with uow(write=False) as s:
        page = await inventory.list_ledger(s, sku_id=sku_id, limit=100)
    return [
        (
            str(e.kind),
            e.on_hand_delta,
            e.reserved_delta,
            e.on_hand_after,
            e.reserved_after,
            e.reason,
            e.reference,
            e.actor_label,
        )
        for e in reversed(page.items)
    ]


async def test_a_new_shopper_signs_up_buys_and_pays(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    await open_staffed_shop()

    # Browse as a guest: category tree → product list → product page → the SKUs by colour.
    tree = (await client.get("/api/v1/catalog/categories")).json()
    listing = (await client.get("/api/v1/catalog/products", params={"category_id": tree[0]["id"]})).json()
    detail = (await client.get(f"/api/v1/catalog/products/{listing['items'][0]['id']}")).json()
    skus = {sku["spec"]["colour"]: sku for sku in detail["skus"]}
    red, black = skus["红色"]["id"], skus["黑色"]["id"]

    # A guest cart: one red, one black.
    first = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1})
    guest = {"X-Cart-Token": first.headers["x-cart-token"]}
    await client.post("/api/v1/cart/lines", json={"sku_id": black, "quantity": 1}, headers=guest)
    guest_cookie = client.cookies.get("mercato_cart")

    # Sign up with an SMS code (setting a password too), then sign in with the password.
    sent = await client.post("/api/v1/auth/codes", json={"phone": PHONE, "purpose": "register"})
    registered = await client.post(
        "/api/v1/auth/register",
        json={
            "phone": PHONE,
            "code": code_sent_to(sms, f"+86{PHONE}"),
            "password": PASSWORD,
            "name": "韩梅梅",
            "accept_privacy_policy": True,
        },
    )
    signed_in = await client.post(
        "/api/v1/auth/login/password", json={"identifier": PHONE, "password": PASSWORD}
    )
    auth = {"Authorization": f"Bearer {signed_in.json()['token']['token']}"}

    # The first call signed in brings the guest cart along; then two red, and black kept for later.
    merged = (await client.get("/api/v1/cart", headers={**auth, **guest})).json()
    lines = {line["sku_id"]: line["id"] for line in merged["lines"]}
    await client.patch(f"/api/v1/cart/lines/{lines[red]}", json={"quantity": 2}, headers=auth)
    ready = (
        await client.patch(f"/api/v1/cart/lines/{lines[black]}", json={"selected": False}, headers=auth)
    ).json()

    # Address, confirm, complete (and a retry with the same key), pay on the gateway.
    address = (await client.post("/api/v1/me/addresses", json=ADDRESS, headers=auth)).json()
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address["id"]}, headers=auth)
    ).json()
    body = {"address_id": address["id"], "expected_total_amount": quote["price"]["total_amount"]}
    keyed = {**auth, "Idempotency-Key": "journey-0001"}
    done = await client.post("/api/v1/checkout/complete", json=body, headers=keyed)
    retried = await client.post("/api/v1/checkout/complete", json=body, headers=keyed)
    result = done.json()
    redirect = await client.get(result["pay_path"], headers=auth)
    payment = await read_payment(result["payment_id"])
    paid = await pay_on_gateway(client, payment)
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → the cart

    order = (await client.get(f"/api/v1/orders/{result['order_id']}", headers=auth)).json()
    my_orders = (await client.get("/api/v1/orders", headers=auth)).json()
    my_payment = (await client.get(f"/api/v1/payments/{result['payment_id']}", headers=auth)).json()
    cart_after = (await client.get("/api/v1/cart", headers=auth)).json()
    guest_after = (await client.get("/api/v1/cart", headers=guest)).json()
    product_after = (await client.get(f"/api/v1/catalog/products/{detail['id']}")).json()

    # What the shopper saw on the way.
    assert [(c["id"], c["children"]) for c in tree] == [(detail["category_id"], [])]
    assert [(p["id"], p["min_price_amount"], p["in_stock"]) for p in listing["items"]] == [
        (detail["id"], 3000, True)
    ]
    assert [(s["spec"], s["price_amount"], s["available_quantity"]) for s in detail["skus"]] == [
        ({"colour": "红色"}, 3000, 5),
        ({"colour": "黑色"}, 3000, 5),
    ]
    assert guest["X-Cart-Token"].startswith("mct_")
    assert (sent.status_code, registered.status_code, signed_in.status_code) == (202, 201, 200)
    assert signed_in.json()["customer"]["id"] == registered.json()["customer"]["id"]
    customer_id = registered.json()["customer"]["id"]
    assert sorted((x["sku_id"], x["quantity"]) for x in merged["lines"]) == [(red, 1), (black, 1)]
    assert (guest_cookie, client.cookies.get("mercato_cart")) == (guest["X-Cart-Token"], None)  # merged
    assert [(x["sku_id"], x["quantity"], x["selected"]) for x in ready["lines"]] == [
        (black, 1, False),
        (red, 2, True),
    ]
    assert (
        quote["price"]["goods_amount"],
        quote["price"]["shipping_amount"],
        quote["price"]["total_amount"],
    ) == (6000, 1000, 7000)  # 2 × 30 元 + 8 元 first piece + 2 元 the second
    assert done.status_code == 200, done.text
    assert (result["total_amount"], result["currency"]) == (7000, "CNY")
    assert retried.json() == result
    assert (redirect.status_code, redirect.headers["location"]) == (303, payment.pay_url)
    assert paid.status_code == 303

    # Where it ended: order and payment paid for the same amount, units held for shipping, the
    # ledger showing the receipt and this order's hold, and only the unticked line left in the cart.
    assert (order["status"], order["customer_id"], order["total_amount"], order["payment_id"]) == (
        "paid",
        customer_id,
        7000,
        result["payment_id"],
    )
    assert (order["subtotal_amount"], order["shipping_amount"], order["address"]["province"]) == (
        6000,
        1000,
        "浙江省",
    )
    assert [
        (x["sku_id"], x["quantity"], x["unit_price_amount"], x["total_amount"]) for x in order["lines"]
    ] == [(red, 2, 3000, 6000)]
    assert [(h["from_status"], h["to_status"]) for h in order["history"]] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
    ]
    assert [o["id"] for o in my_orders["items"]] == [result["order_id"]]
    assert (my_payment["status"], my_payment["amount"], my_payment["currency"], my_payment["reference"]) == (
        "paid",
        7000,
        "CNY",
        f"order:{result['order_id']}",
    )
    assert await stock_of(red) == [(5, 2)]
    assert await stock_of(black) == [(5, 0)]
    assert await holds_of(f"order:{result['order_id']}") == [(red, 2, "active")]
    assert await ledger_of(red) == [
        ("receipt", 5, 0, 5, 0, "", "", "tests"),
        ("reserve", 0, 2, 5, 2, "", f"order:{result['order_id']}", ""),
    ]
    assert await ledger_of(black) == [("receipt", 5, 0, 5, 0, "", "", "tests")]
    assert (
        cart_after["status"],
        [(x["sku_id"], x["quantity"], x["selected"]) for x in cart_after["lines"]],
    ) == (
        "active",
        [(black, 1, False)],
    )
    assert (guest_after["id"], guest_after["lines"]) == (None, [])  # merged away
    assert [(s["id"], s["available_quantity"]) for s in product_after["skus"]] == [(red, 3), (black, 5)]
