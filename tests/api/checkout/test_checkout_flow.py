"""The purchase from end to end: cart → confirm → complete → pay in the sandbox → order paid,
and what happens when the order is not paid, the price moved, or the request is retried."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import checkout, inventory, orders
from mercato.cart.models import Cart, CartLine
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.orders.models import Order
from tests.factories.catalog import SYSTEM
from tests.factories.checkout import shopper_with_cart
from tests.factories.identity import signed_in_customer
from tests.factories.payments import pay_on_gateway, read_payment

pytestmark = pytest.mark.usefixtures("handlers")


async def level(sku_id: int) -> tuple[int, int]:
    async with uow(write=False) as s:
        [stock] = (await inventory.get_stock_levels(s, sku_ids=[sku_id]))[sku_id]
    return stock.on_hand, stock.reserved


async def test_a_shopper_buys_and_pays_in_the_sandbox(client: AsyncClient) -> None:
    auth, address_id, red = await shopper_with_cart(client)

    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    body = {
        "address_id": address_id,
        "expected_total_amount": quote["price"]["total_amount"],
        "note": "工作日送",
    }
    done = await client.post(
        "/api/v1/checkout/complete", json=body, headers={**auth, "Idempotency-Key": "k-0001-a"}
    )
    retry = await client.post(
        "/api/v1/checkout/complete", json=body, headers={**auth, "Idempotency-Key": "k-0001-a"}
    )
    other_key = await client.post(
        "/api/v1/checkout/complete", json=body, headers={**auth, "Idempotency-Key": "k-0002-b"}
    )
    frozen = await client.post("/api/v1/cart/lines", json={"sku_id": red}, headers=auth)
    redirect = await client.get(done.json()["pay_path"], headers=auth)
    paid = await pay_on_gateway(client, await read_payment(done.json()["payment_id"]))
    await events.deliver_pending()
    await events.deliver_pending()  # PaymentCaptured → OrderPaid → cart

    assert (
        quote["price"]["goods_amount"],
        quote["price"]["shipping_amount"],
        quote["price"]["total_amount"],
    ) == (
        6000,
        1000,
        7000,
    )
    assert done.status_code == 200, done.text
    result = done.json()
    assert (result["total_amount"], result["currency"]) == (7000, "CNY")
    assert retry.json() == result
    assert other_key.json() == result
    assert (frozen.status_code, frozen.json()["code"]) == (409, "cart.frozen")
    assert redirect.status_code == 303
    assert redirect.headers["location"].startswith("http") or redirect.headers["location"].startswith("/")
    assert paid.status_code in {200, 303}
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=result["order_id"])
        carts = (await s.execute(select(Cart.status, Cart.checkout_reference))).all()
        lines = (await s.execute(select(func.count()).select_from(CartLine))).scalar_one()
        placed = (await s.execute(select(func.count()).select_from(Order))).scalar_one()
    assert (order.status, order.payment_id, order.note) == (
        orders.OrderStatus.paid,
        result["payment_id"],
        "工作日送",
    )
    assert (order.address.province, order.shipping_amount) == ("浙江省", 1000)
    assert (await read_payment(result["payment_id"])).status.value == "paid"
    assert (placed, carts, lines) == (1, [("active", None)], 0)  # the bought lines left the cart
    assert await level(red) == (5, 2)  # held for shipping


async def test_an_unpaid_order_times_out_the_cart_thaws_and_stock_returns(client: AsyncClient) -> None:
    auth, address_id, red = await shopper_with_cart(client)
    quote = (
        await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)
    ).json()
    done = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "timeout-0001"},
    )
    assert await level(red) == (5, 2)
    clock.advance(dt.timedelta(minutes=31))

    cancelled = await checkout.cancel_unpaid_orders()
    await events.deliver_pending()

    assert cancelled == 1
    assert await level(red) == (5, 0)
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=done.json()["order_id"])
        carts = (await s.execute(select(Cart.status, Cart.checkout_reference))).all()
    assert order.status is orders.OrderStatus.cancelled
    assert carts == [("active", None)]
    view = (await client.get("/api/v1/cart", headers=auth)).json()
    assert [(x["sku_id"], x["quantity"]) for x in view["lines"]] == [(red, 2)]  # still there to buy again


async def test_refusals_place_nothing_and_leave_the_cart_open(client: AsyncClient) -> None:
    auth, address_id, red = await shopper_with_cart(client)
    _other, other_auth = await signed_in_customer(client)

    moved = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": 1},
        headers={**auth, "Idempotency-Key": "price-0001"},
    )
    no_key = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": address_id, "expected_total_amount": 7000},
        headers=auth,
    )
    not_theirs = await client.post(
        "/api/v1/checkout/confirm", json={"address_id": address_id}, headers=other_auth
    )
    foreign_address = await client.post(
        "/api/v1/checkout/complete",
        json={"address_id": 10**9, "expected_total_amount": 7000},
        headers={**auth, "Idempotency-Key": "addr-0001"},
    )

    assert (moved.status_code, moved.json()["code"]) == (409, "orders.price_changed")
    assert no_key.status_code == 422
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (409, "checkout.empty_cart")
    assert (foreign_address.status_code, foreign_address.json()["code"]) == (
        404,
        "identity.address_not_found",
    )
    async with uow(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(Order))).scalar_one() == 0
        assert (await s.execute(select(Cart.status))).scalars().all() == ["active"]
    assert await level(red) == (5, 0)


async def test_buy_now_skips_the_cart_and_uses_the_default_address(client: AsyncClient) -> None:
    auth, _address_id, red = await shopper_with_cart(client, price=5000, quantity=1)
    _nobody, no_address = await signed_in_customer(client)
    body = {"sku_id": red, "quantity": 2, "expected_total_amount": 10000}  # 满99包邮: no shipping

    bought = await client.post(
        "/api/v1/checkout/buy-now", json=body, headers={**auth, "Idempotency-Key": "now-0001"}
    )
    again = await client.post(
        "/api/v1/checkout/buy-now", json=body, headers={**auth, "Idempotency-Key": "now-0001"}
    )
    homeless = await client.post(
        "/api/v1/checkout/buy-now", json=body, headers={**no_address, "Idempotency-Key": "now-0002"}
    )

    assert bought.status_code == 200, bought.text
    assert again.json() == bought.json()
    assert (homeless.status_code, homeless.json()["code"]) == (409, "checkout.no_address")
    async with uow(write=False) as s:
        order = await orders.read_order(s, order_id=bought.json()["order_id"])
        carts = (await s.execute(select(Cart.status))).scalars().all()
    assert (order.address.recipient, order.total_amount) == ("韩梅梅", 10000)
    assert carts == ["active"]  # the cart was not touched
    assert await level(red) == (5, 2)


async def test_buy_now_confirm_prices_one_sku_for_the_address_and_holds_nothing(client: AsyncClient) -> None:
    auth, address_id, red = await shopper_with_cart(client, price=5000, quantity=1)
    _other, other = await signed_in_customer(client)
    before = await level(red)

    one = await client.post(
        "/api/v1/checkout/buy-now/confirm", json={"sku_id": red, "address_id": address_id}, headers=auth
    )
    two = await client.post(
        "/api/v1/checkout/buy-now/confirm",
        json={"sku_id": red, "quantity": 2, "address_id": address_id},
        headers=auth,
    )
    too_many = await client.post(
        "/api/v1/checkout/buy-now/confirm",
        json={"sku_id": red, "quantity": 6, "address_id": address_id},
        headers=auth,
    )
    foreign = await client.post(
        "/api/v1/checkout/buy-now/confirm", json={"sku_id": red, "address_id": address_id}, headers=other
    )
    bought = await client.post(
        "/api/v1/checkout/buy-now",
        json={"sku_id": red, "quantity": 2, "expected_total_amount": two.json()["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "now-0003"},
    )

    assert one.status_code == 200, one.text
    assert (one.json()["address_id"], one.json()["delivery"]) == (address_id, "standard")
    assert one.json()["price"]["goods_amount"] == 5000
    assert (two.json()["price"]["goods_amount"], two.json()["price"]["total_amount"]) == (10000, 10000)
    assert (too_many.status_code, too_many.json()["code"]) == (409, "inventory.insufficient_stock")
    assert (foreign.status_code, foreign.json()["code"]) == (404, "identity.address_not_found")
    assert before == (5, 0)
    assert bought.status_code == 200, bought.text
    assert await level(red) == (5, 2)


async def test_confirming_an_item_no_warehouse_can_bring_to_the_address_says_so_before_placing(
    client: AsyncClient,
) -> None:
    auth, address_id, red = await shopper_with_cart(client)
    async with uow() as s:
        (warehouse,) = await inventory.list_warehouses(s)
        await inventory.update_warehouse(
            s, warehouse_id=warehouse.id, data=inventory.WarehouseUpdate(regions=["北京市"]), actor=SYSTEM
        )
    before = await level(red)

    confirmed = await client.post("/api/v1/checkout/confirm", json={"address_id": address_id}, headers=auth)

    assert confirmed.status_code == 409
    assert confirmed.json()["code"] == "inventory.not_deliverable"
    assert confirmed.json()["detail"].endswith("无法配送至浙江省。")
    assert await level(red) == before
    async with uow(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(Order))).scalar_one() == 0
