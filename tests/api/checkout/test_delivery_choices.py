"""Checkout's delivery choices over HTTP: scheduled slots (定时达), store pickup (到店自提) and the
invoice request (发票), confirmed and then recorded on the order; bad choices are 422 and place
nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import catalog, inventory
from mercato.core.db import uow
from mercato.orders.models import Order
from tests.factories.checkout import shopper_with_cart
from tests.factories.inventory import make_warehouse, receive

TAX_ID = "91350100M000100Y43"


async def order_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Order))).scalar_one()


async def test_a_shopper_books_a_delivery_slot_and_asks_for_a_company_invoice(client: AsyncClient) -> None:
    auth, address_id, _red = await shopper_with_cart(client)
    slots = (await client.get("/api/v1/checkout/delivery-slots", headers=auth)).json()
    chosen = slots[2]
    choice = {"address_id": address_id, "delivery": "scheduled", "slot_starts_at": chosen["starts_at"]}

    quote = (await client.post("/api/v1/checkout/confirm", json=choice, headers=auth)).json()
    invoice = {"kind": "company", "title": "杭州示例科技有限公司", "tax_id": TAX_ID}
    placed = await client.post(
        "/api/v1/checkout/complete",
        json={**choice, "invoice": invoice, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "slot-order-1"},
    )

    assert placed.status_code == 200
    assert quote["slot"] == chosen
    order = (await client.get(f"/api/v1/orders/{placed.json()['order_id']}", headers=auth)).json()
    assert (order["delivery"], order["slot"]) == ("scheduled", chosen)
    assert order["invoice"] == {**invoice, "email": None}


async def test_a_shopper_picks_up_at_a_store_without_a_shipping_fee(client: AsyncClient) -> None:
    auth, address_id, red = await shopper_with_cart(client, price=3000, quantity=2)
    store = await make_warehouse("STORE-1", kind=inventory.WarehouseKind.store, regions=["上海市"])
    await make_warehouse("REG-9")  # not a store: not listed
    await receive(red, store.id, 2)

    stores = (await client.get("/api/v1/checkout/pickup-stores", headers=auth)).json()
    choice = {"address_id": address_id, "delivery": "pickup", "pickup_store_id": store.id}
    quote = (await client.post("/api/v1/checkout/confirm", json=choice, headers=auth)).json()
    placed = await client.post(
        "/api/v1/checkout/complete",
        json={**choice, "expected_total_amount": quote["price"]["total_amount"]},
        headers={**auth, "Idempotency-Key": "pickup-order-1"},
    )

    assert stores == [
        {
            "id": store.id,
            "name": "仓库 STORE-1",
            "province": "上海市",
            "city": "上海市",
            "district": "",
            "detail": "",
        }
    ]
    assert (quote["price"]["shipping_amount"], quote["price"]["total_amount"]) == (0, 6000)
    order = (await client.get(f"/api/v1/orders/{placed.json()['order_id']}", headers=auth)).json()
    assert (order["pickup_store_id"], [s["warehouse_id"] for s in order["sub_orders"]]) == (
        store.id,
        [store.id],
    )


async def test_a_store_that_does_not_carry_the_item_is_named_on_confirm_and_places_nothing(
    client: AsyncClient,
) -> None:
    auth, address_id, red = await shopper_with_cart(client, quantity=1)
    store = await make_warehouse("STORE-2", kind=inventory.WarehouseKind.store, regions=["上海市"])
    async with uow(write=False) as s:
        sku = (await catalog.get_sellable_skus(s, sku_ids=[red]))[red]
    choice = {"address_id": address_id, "delivery": "pickup", "pickup_store_id": store.id}

    confirmed = await client.post("/api/v1/checkout/confirm", json=choice, headers=auth)

    assert confirmed.status_code == 409
    assert confirmed.json()["code"] == "inventory.not_at_store"
    assert confirmed.json()["detail"] == f"{' '.join([sku.title, *sku.spec.values()])} 无法在该门店自提。"
    assert await order_count() == 0


@pytest.mark.parametrize(
    ("choice", "field", "code"),
    [
        ({"delivery": "scheduled"}, "slot_starts_at", "orders.slot_required"),
        (
            {"delivery": "scheduled", "slot_starts_at": "2020-01-01T01:00:00Z"},
            "slot_starts_at",
            "orders.slot_unavailable",
        ),
        ({"delivery": "pickup"}, "pickup_store_id", "orders.store_required"),
        ({"delivery": "pickup", "pickup_store_id": 999999}, "pickup_store_id", "orders.store_unavailable"),
        ({"delivery": "standard", "pickup_store_id": 1}, "pickup_store_id", "orders.store_not_pickup"),
    ],
)
async def test_a_bad_delivery_choice_is_422_on_confirm_and_complete(
    client: AsyncClient, choice: dict[str, object], field: str, code: str
) -> None:
    auth, address_id, _red = await shopper_with_cart(client)
    body = {"address_id": address_id, **choice}

    confirmed = await client.post("/api/v1/checkout/confirm", json=body, headers=auth)
    completed = await client.post(
        "/api/v1/checkout/complete",
        json={**body, "expected_total_amount": 0},
        headers={**auth, "Idempotency-Key": "bad-delivery-1"},
    )

    for response in (confirmed, completed):
        assert response.status_code == 422
        problem = response.json()
        assert problem["code"] == "orders.invalid_delivery"
        assert [(e["loc"], e["code"]) for e in problem["errors"]] == [(["body", field], code)]
    assert await order_count() == 0


async def test_a_company_invoice_without_a_valid_tax_id_is_422(client: AsyncClient) -> None:
    auth, address_id, _red = await shopper_with_cart(client)

    response = await client.post(
        "/api/v1/checkout/complete",
        json={
            "address_id": address_id,
            "expected_total_amount": 6000,
            "invoice": {"kind": "company", "title": "某公司", "tax_id": "91350100M000100Y44"},
        },
        headers={**auth, "Idempotency-Key": "bad-invoice-1"},
    )

    assert response.status_code == 422
    assert response.json()["code"] == "core.validation_failed"
    assert await order_count() == 0


async def test_only_stores_holding_the_cart_or_the_buy_now_item_are_offered(client: AsyncClient) -> None:
    auth, _address_id, red = await shopper_with_cart(client, quantity=2)
    full = await make_warehouse("STORE-FULL", kind=inventory.WarehouseKind.store)
    short = await make_warehouse("STORE-SHORT", kind=inventory.WarehouseKind.store)
    await make_warehouse("STORE-EMPTY", kind=inventory.WarehouseKind.store)
    await receive(red, full.id, 2)
    await receive(red, short.id, 1)

    for_cart = await client.get("/api/v1/checkout/pickup-stores", headers=auth)
    buy_one = await client.get("/api/v1/checkout/pickup-stores", params={"sku_id": red}, headers=auth)
    buy_three = await client.get(
        "/api/v1/checkout/pickup-stores", params={"sku_id": red, "quantity": 3}, headers=auth
    )
    bad = await client.get("/api/v1/checkout/pickup-stores", params={"quantity": 0}, headers=auth)
    line_id = (await client.get("/api/v1/cart", headers=auth)).json()["lines"][0]["id"]
    await client.delete(f"/api/v1/cart/lines/{line_id}", headers=auth)
    empty_cart = await client.get("/api/v1/checkout/pickup-stores", headers=auth)

    assert for_cart.status_code == 200
    assert [s["id"] for s in for_cart.json()] == [full.id]
    assert sorted(s["id"] for s in buy_one.json()) == sorted([full.id, short.id])
    assert buy_three.json() == []
    assert bad.status_code == 422
    assert empty_cart.json() == []
