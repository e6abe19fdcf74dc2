"""Bad input on the way to a paid order gets a 4xx problem+json with a stable code and changes
nothing: carts, cart lines, orders, payments, stock holds, stock levels, the ledger and the outbox
are compared row by row before and after each refused request.

Not repeated here: a notification for an unknown payment or with a bad signature
(tests/api/payments/test_notify.py) and a guest removing another guest's line
(tests/api/cart/test_cart.py)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import select

from mercato.cart.models import Cart, CartLine
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.inventory.models import LedgerEntry, Reservation, Stock
from mercato.orders.models import Order, OrderStatusChange
from mercato.payments.models import Payment
from tests.factories.catalog import price_sku
from tests.factories.checkout import open_shop, shopper
from tests.factories.identity import signed_in_customer


async def complete(
    client: AsyncClient, auth: dict[str, str], address_id: int, total: int, key: str
) -> Response:
    return await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": total},
        headers={**auth, "Idempotency-Key": key},
    )


def problem(response: Response) -> tuple[int, str]:
    """(status, code) of a problem+json answer."""
    assert response.headers["content-type"] == "application/problem+json", response.text
    return response.status_code, response.json()["code"]


def field_errors(response: Response) -> list[tuple[list[str], str]]:
    return [(e["loc"], e["code"]) for e in response.json()["errors"]]


async def state() -> dict[str, list[tuple[Any, ...]]]:
    """Every row a refused request must leave alone, by table, in id order."""
    tables: dict[str, tuple[Any, ...]] = {
        "carts": (Cart.id, Cart.customer_id, Cart.status, Cart.checkout_reference, Cart.updated_at),
        "cart lines": (
            CartLine.id,
            CartLine.cart_id,
            CartLine.sku_id,
            CartLine.quantity,
            CartLine.is_selected,
            CartLine.updated_at,
        ),
        "orders": (Order.id, Order.status, Order.total_amount, Order.updated_at),
        "order history": (OrderStatusChange.id, OrderStatusChange.to_status),
        "payments": (Payment.id, Payment.status, Payment.amount, Payment.updated_at),
        "holds": (Reservation.id, Reservation.sku_id, Reservation.quantity, Reservation.status),
        "stock": (Stock.id, Stock.sku_id, Stock.on_hand, Stock.reserved),
        "ledger": (LedgerEntry.id, LedgerEntry.kind),
        "outbox": (OutboxEvent.id, OutboxEvent.name),
    }
    async with uow(write=False) as s:
        return {
            name: [tuple(row) for row in await s.execute(select(*columns).order_by(columns[0]))]
            for name, columns in tables.items()
        }


@pytest.mark.parametrize(
    ("_case", "quantity", "error"),
    [
        ("add none", 0, "greater_than_equal"),
        ("add a billion", 10**9, "less_than_equal"),
        ("change to none", 0, "greater_than_equal"),
        ("change to a billion", 10**9, "less_than_equal"),
    ],
)
async def test_a_cart_quantity_of_zero_or_a_billion_is_refused(
    client: AsyncClient, _case: str, quantity: int, error: str
) -> None:
    red, _black = await open_shop()
    _customer, auth = await signed_in_customer(client)
    cart = (await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=auth)).json()
    before = await state()

    if _case.startswith("add"):
        response = await client.post(
            "/api/v1/cart/lines", json={"sku_id": red, "quantity": quantity}, headers=auth
        )
    else:
        response = await client.patch(
            f"/api/v1/cart/lines/{cart['lines'][0]['id']}", json={"quantity": quantity}, headers=auth
        )

    assert problem(response) == (422, "core.validation_failed")
    assert field_errors(response) == [(["body", "quantity"], error)]
    assert await state() == before
    view = (await client.get("/api/v1/cart", headers=auth)).json()
    assert [(x["sku_id"], x["quantity"]) for x in view["lines"]] == [(red, 2)]


@pytest.mark.parametrize(
    ("_case", "method", "path", "body", "code"),
    [
        ("read order", "GET", "/api/v1/orders/{order}", None, "orders.order_not_found"),
        (
            "cancel order",
            "POST",
            "/api/v1/orders/{order}/cancel",
            {"reason": "不想要了"},
            "orders.order_not_found",
        ),
        ("pay redirect", "GET", "/api/v1/checkout/pay/{payment}", None, "payments.payment_not_found"),
        ("change line", "PATCH", "/api/v1/cart/lines/{line}", {"quantity": 1}, "cart.line_not_found"),
        ("untick line", "PATCH", "/api/v1/cart/lines/{line}", {"selected": False}, "cart.line_not_found"),
        ("remove line", "DELETE", "/api/v1/cart/lines/{line}", None, "cart.line_not_found"),
    ],
)
async def test_another_customers_order_payment_or_cart_line_is_404_and_untouched(
    client: AsyncClient, _case: str, method: str, path: str, body: dict[str, Any] | None, code: str
) -> None:
    red, black = await open_shop()
    alice, address_id = await shopper(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=alice)
    placed = (await complete(client, alice, address_id, 7000, "alice-0001")).json()
    line = (await client.get("/api/v1/cart", headers=alice)).json()["lines"][0]["id"]
    _bob, bob = await signed_in_customer(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": black}, headers=bob)  # a cart of his own
    before = await state()

    response = await client.request(
        method,
        path.format(order=placed["order_id"], payment=placed["payment_id"], line=line),
        json=body,
        headers=bob,
    )

    assert problem(response) == (404, code)
    assert await state() == before
    order = (await client.get(f"/api/v1/orders/{placed['order_id']}", headers=alice)).json()
    assert (order["status"], [h["to_status"] for h in order["history"]]) == (
        "pending_payment",
        ["pending_payment"],
    )
    assert [(sku, quantity, status) for _id, sku, quantity, status in before["holds"]] == [(red, 2, "active")]


async def test_an_expired_guest_cart_token_acts_as_no_cart(client: AsyncClient) -> None:
    red, black = await open_shop()
    first = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2})
    client.cookies.clear()  # an app: the token travels in the header
    old = {"X-Cart-Token": first.headers["x-cart-token"]}
    old_cart, old_line = first.json()["id"], first.json()["lines"][0]["id"]
    clock.advance(dt.timedelta(days=31))  # guest carts are kept for 30 days
    _customer, auth = await signed_in_customer(client)
    before = await state()

    read = await client.get("/api/v1/cart", headers=old)
    change = await client.patch(f"/api/v1/cart/lines/{old_line}", json={"quantity": 3}, headers=old)
    remove = await client.delete(f"/api/v1/cart/lines/{old_line}", headers=old)
    signing_in = await client.get("/api/v1/cart", headers={**auth, **old})
    unchanged = await state()
    added = await client.post("/api/v1/cart/lines", json={"sku_id": black}, headers=old)
    after = await state()

    assert (read.status_code, read.json()["id"], read.json()["lines"]) == (200, None, [])
    assert [problem(r) for r in (change, remove)] == [(404, "cart.line_not_found")] * 2
    assert (signing_in.status_code, signing_in.json()["id"], signing_in.json()["lines"]) == (200, None, [])
    assert unchanged == before  # nothing read, changed or merged from the expired cart
    assert added.status_code == 200, added.text
    assert added.headers["x-cart-token"] not in {"", old["X-Cart-Token"]}  # a new cart, a new token
    assert added.json()["id"] != old_cart
    assert [(x["sku_id"], x["quantity"]) for x in added.json()["lines"]] == [(black, 1)]
    assert [row for row in after["carts"] if row[0] == old_cart] == before["carts"]
    assert [row for row in after["cart lines"] if row[1] == old_cart] == before["cart lines"]


async def test_a_price_change_after_confirming_refuses_the_order_and_holds_nothing(
    client: AsyncClient,
) -> None:
    red, _black = await open_shop()
    auth, address_id = await shopper(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=auth)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    await price_sku(red, 3500)  # staff reprice the SKU in the catalog meanwhile
    before = await state()

    refused = await complete(client, auth, address_id, quote["price"]["total_amount"], "price-0001")
    after = await state()
    requote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    accepted = await complete(client, auth, address_id, requote["price"]["total_amount"], "price-0001")

    assert quote["price"]["total_amount"] == 7000
    assert problem(refused) == (409, "orders.price_changed")
    assert after == before
    assert (after["orders"], after["payments"], after["holds"]) == ([], [], [])
    assert [(status, reference) for _id, _customer, status, reference, _at in after["carts"]] == [
        ("active", None)
    ]
    assert [(on_hand, reserved) for _id, sku, on_hand, reserved in after["stock"] if sku == red] == [(5, 0)]
    assert requote["price"]["total_amount"] == 8000  # 2 × 35 元 + 10 元 shipping
    assert (accepted.status_code, accepted.json()["total_amount"]) == (200, 8000)  # the key was not used up


@pytest.mark.parametrize(
    ("_case", "key", "error"),
    [
        ("missing", None, "missing"),
        ("too long", "k" * 101, "string_too_long"),
        ("too short", "k" * 7, "string_too_short"),
        ("not a token", "key with spaces", "string_pattern_mismatch"),
    ],
)
async def test_complete_without_a_usable_idempotency_key_is_refused(
    client: AsyncClient, _case: str, key: str | None, error: str
) -> None:
    red, _black = await open_shop()
    auth, address_id = await shopper(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=auth)
    before = await state()

    response = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": 7000},
        headers=auth if key is None else {**auth, "Idempotency-Key": key},
    )

    assert problem(response) == (422, "core.validation_failed")
    assert field_errors(response) == [(["header", "idempotency-key"], error)]
    assert await state() == before
    assert (before["orders"], before["payments"], before["holds"]) == ([], [], [])


@pytest.mark.parametrize("path", ["/api/v1/checkout/complete", "/api/v1/checkout/buy-now"])
async def test_the_longest_idempotency_key_accepted_places_the_order(client: AsyncClient, path: str) -> None:
    red, _black = await open_shop()
    auth, address_id = await shopper(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2}, headers=auth)
    body = {"address_id": address_id, "expected_total_amount": 7000}
    if path.endswith("buy-now"):
        body["sku_id"], body["quantity"] = red, 2

    response = await client.post(path, json=body, headers={**auth, "Idempotency-Key": "k" * 100})

    assert response.status_code == 200, response.text
    assert [status for _id, status, _total, _at in (await state())["orders"]] == ["pending_payment"]
