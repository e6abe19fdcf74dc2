"""The cart over the API: guests and customers, limits, notices, merging, refusals that change nothing."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import func, select, update

from mercato import catalog
from mercato.cart.models import Cart, CartLine
from mercato.catalog.models import Sku
from mercato.core.db import uow
from mercato.inventory.models import Stock
from tests.factories.cart import listed_skus
from tests.factories.catalog import SYSTEM
from tests.factories.identity import signed_in_customer


async def counts() -> tuple[int, int]:
    async with uow(write=False) as s:
        return (
            (await s.execute(select(func.count()).select_from(Cart))).scalar_one(),
            (await s.execute(select(func.count()).select_from(CartLine))).scalar_one(),
        )


async def test_a_guest_adds_to_a_new_cart_and_gets_its_token(client: AsyncClient) -> None:
    red, _black = await listed_skus()

    response = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2})

    assert response.status_code == 200
    token = response.headers["x-cart-token"]
    assert token.startswith("mct_")
    assert "mercato_cart=" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]
    body = response.json()
    assert [(x["sku_id"], x["quantity"], x["selected"], x["unit_price_amount"]) for x in body["lines"]] == [
        (red, 2, True, 9900)
    ]
    assert (
        body["subtotal_amount"],
        body["total_amount"],
        body["selected_quantity"],
        body["can_checkout"],
    ) == (
        19800,
        19800,
        2,
        True,
    )
    again = await client.post(
        "/api/v1/cart/lines", json={"sku_id": red, "quantity": 3}, headers={"X-Cart-Token": token}
    )
    assert [x["quantity"] for x in again.json()["lines"]] == [5]
    assert await counts() == (1, 1)


async def test_a_cookie_cart_write_without_the_csrf_header_is_refused(client: AsyncClient) -> None:
    red, black = await listed_skus()
    first = await client.post("/api/v1/cart/lines", json={"sku_id": red})
    client.cookies.set("mercato_cart", first.headers["x-cart-token"])

    refused = await client.post("/api/v1/cart/lines", json={"sku_id": black})

    assert (refused.status_code, refused.json()["code"]) == (403, "identity.csrf_failed")
    assert await counts() == (1, 1)
    client.cookies.clear()


async def test_unticked_and_unbuyable_lines_do_not_count(client: AsyncClient) -> None:
    red, black = await listed_skus(price=1000, stock=3)
    token = (await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1})).headers[
        "x-cart-token"
    ]
    headers = {"X-Cart-Token": token}
    await client.post("/api/v1/cart/lines", json={"sku_id": black, "quantity": 3}, headers=headers)
    await sell_elsewhere(black, 1)  # two left: the line of three is now above the stock
    body = (await client.get("/api/v1/cart", headers=headers)).json()
    black_line = next(x for x in body["lines"] if x["sku_id"] == black)
    red_line = next(x for x in body["lines"] if x["sku_id"] == red)

    assert (black_line["can_buy"], [n["code"] for n in black_line["notices"]]) == (
        False,
        ["quantity_reduced"],
    )
    assert black_line["notices"][0]["params"] == {"available": 2}
    assert [n["code"] for n in red_line["notices"]] == ["low_stock"]
    assert body["subtotal_amount"] == 1000  # only the buyable red line

    unticked = (
        await client.patch(f"/api/v1/cart/lines/{red_line['id']}", json={"selected": False}, headers=headers)
    ).json()
    assert (unticked["subtotal_amount"], unticked["can_checkout"]) == (0, False)
    fixed = (
        await client.patch(f"/api/v1/cart/lines/{black_line['id']}", json={"quantity": 2}, headers=headers)
    ).json()
    assert (fixed["subtotal_amount"], fixed["selected_quantity"]) == (2000, 2)


async def sell_elsewhere(sku_id: int, units: int) -> None:
    """Another shopper's order holds ``units`` of the SKU."""
    async with uow() as s:
        await s.execute(update(Stock).where(Stock.sku_id == sku_id).values(reserved=Stock.reserved + units))


async def cart_lines() -> list[tuple[int, int]]:
    async with uow(write=False) as s:
        return [(sku, q) for sku, q in await s.execute(select(CartLine.sku_id, CartLine.quantity))]


async def test_more_than_the_stock_is_refused_and_the_line_stays_as_it_was(client: AsyncClient) -> None:
    red, black = await listed_skus(price=1000, stock=8)
    added = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 8})
    headers = {"X-Cart-Token": added.headers["x-cart-token"], "Accept-Language": "en"}
    line_id = added.json()["lines"][0]["id"]
    before = (await counts(), await cart_lines())

    one_more = await client.patch(f"/api/v1/cart/lines/{line_id}", json={"quantity": 9}, headers=headers)
    add_one = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1}, headers=headers)
    new_line = await client.post("/api/v1/cart/lines", json={"sku_id": black, "quantity": 9}, headers=headers)

    for refused in (one_more, add_one, new_line):
        assert (refused.status_code, refused.json()["code"]) == (409, "cart.not_enough_stock")
        assert refused.json()["detail"] == "Only 8 in stock; the quantity was not changed."
    assert (await counts(), await cart_lines()) == before == ((1, 1), [(red, 8)])
    body = (await client.get("/api/v1/cart", headers=headers)).json()
    assert [(x["quantity"], x["available"], x["can_buy"]) for x in body["lines"]] == [(8, 8, True)]
    assert (body["selected_quantity"], body["subtotal_amount"]) == (8, 8000)


async def test_a_line_above_the_stock_can_come_down_but_not_go_up(client: AsyncClient) -> None:
    red, _black = await listed_skus(price=1000, stock=5)
    added = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 5})
    headers = {"X-Cart-Token": added.headers["x-cart-token"]}
    line_id = added.json()["lines"][0]["id"]
    await sell_elsewhere(red, 3)  # two left

    up = await client.patch(f"/api/v1/cart/lines/{line_id}", json={"quantity": 6}, headers=headers)
    assert (up.status_code, up.json()["code"]) == (409, "cart.not_enough_stock")
    assert await cart_lines() == [(red, 5)]
    down = await client.patch(f"/api/v1/cart/lines/{line_id}", json={"quantity": 4}, headers=headers)
    assert down.status_code == 200
    assert [(x["quantity"], x["can_buy"]) for x in down.json()["lines"]] == [(4, False)]
    assert down.json()["selected_quantity"] == 0
    fixed = await client.patch(f"/api/v1/cart/lines/{line_id}", json={"quantity": 2}, headers=headers)
    assert [(x["quantity"], x["can_buy"]) for x in fixed.json()["lines"]] == [(2, True)]
    assert (fixed.json()["selected_quantity"], fixed.json()["subtotal_amount"]) == (2, 2000)


async def test_notices_for_a_changed_price_and_an_item_taken_off_sale(client: AsyncClient) -> None:
    red, black = await listed_skus(price=9900)
    token = (await client.post("/api/v1/cart/lines", json={"sku_id": red})).headers["x-cart-token"]
    headers = {"X-Cart-Token": token, "Accept-Language": "en"}
    await client.post("/api/v1/cart/lines", json={"sku_id": black}, headers=headers)
    async with uow() as s:
        await catalog.update_sku(s, sku_id=red, data=catalog.SkuUpdate(price_amount=8900), actor=SYSTEM)
        await s.execute(update(Sku).where(Sku.id == black).values(status="disabled"))

    body = (await client.get("/api/v1/cart", headers=headers)).json()

    lines = {x["sku_id"]: x for x in body["lines"]}
    assert [(n["code"], n["message"]) for n in lines[red]["notices"]] == [
        ("price_changed", "The price changed from CN¥99.00 to CN¥89.00.")
    ]
    assert (lines[red]["unit_price_amount"], lines[red]["added_unit_price_amount"]) == (8900, 9900)
    assert [(n["code"], n["message"]) for n in lines[black]["notices"]] == [
        ("sold_out", "Sold out or no longer on sale.")
    ]
    assert body["total_amount"] == 8900


async def test_refusals_change_nothing(client: AsyncClient) -> None:
    red, _black = await listed_skus(stock=999)
    token = (await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 990})).headers[
        "x-cart-token"
    ]
    headers = {"X-Cart-Token": token}
    before = await counts()

    too_many = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 10}, headers=headers)
    zero = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 0}, headers=headers)
    huge = await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 10**9}, headers=headers)
    unknown = await client.post("/api/v1/cart/lines", json={"sku_id": 10**9}, headers=headers)

    assert (too_many.status_code, too_many.json()["code"]) == (422, "cart.quantity_too_high")
    assert (zero.status_code, huge.status_code) == (422, 422)
    assert (unknown.status_code, unknown.json()["code"]) == (409, "cart.not_sellable")
    assert await counts() == before
    lines = (await client.get("/api/v1/cart", headers=headers)).json()["lines"]
    assert [x["quantity"] for x in lines] == [990]


async def test_another_shoppers_line_is_not_found(client: AsyncClient) -> None:
    red, black = await listed_skus()
    mine = (await client.post("/api/v1/cart/lines", json={"sku_id": red})).headers["x-cart-token"]
    client.cookies.clear()  # another browser
    theirs = await client.post("/api/v1/cart/lines", json={"sku_id": black})
    their_line = theirs.json()["lines"][0]["id"]

    response = await client.delete(f"/api/v1/cart/lines/{their_line}", headers={"X-Cart-Token": mine})

    assert (response.status_code, response.json()["code"]) == (404, "cart.line_not_found")
    assert await counts() == (2, 2)


async def test_a_guest_cart_merges_into_the_customers_cart_at_sign_in(client: AsyncClient) -> None:
    red, black = await listed_skus()
    customer, auth = await signed_in_customer(client)
    await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 1}, headers=auth)
    guest = (await client.post("/api/v1/cart/lines", json={"sku_id": red, "quantity": 2})).headers[
        "x-cart-token"
    ]
    await client.post(
        "/api/v1/cart/lines", json={"sku_id": black, "quantity": 1}, headers={"X-Cart-Token": guest}
    )

    merged = (await client.get("/api/v1/cart", headers={**auth, "X-Cart-Token": guest})).json()
    again = (await client.get("/api/v1/cart", headers={**auth, "X-Cart-Token": guest})).json()

    assert sorted((x["sku_id"], x["quantity"]) for x in merged["lines"]) == sorted([(red, 3), (black, 1)])
    assert again["lines"] == merged["lines"]  # the guest cart is merged once, then gone
    async with uow(write=False) as s:
        statuses = sorted((await s.execute(select(Cart.status, Cart.customer_id))).all())
    assert statuses == [("active", customer.id), ("merged", None)]


async def test_a_cart_being_checked_out_is_frozen(client: AsyncClient) -> None:
    red, black = await listed_skus()
    token = (await client.post("/api/v1/cart/lines", json={"sku_id": red})).headers["x-cart-token"]
    headers = {"X-Cart-Token": token}
    async with uow() as s:
        await s.execute(
            update(Cart).values(status="checking_out")
        )  # what checkout does while payment is pending
    line = (await client.get("/api/v1/cart", headers=headers)).json()["lines"][0]["id"]
    before = await counts()

    add = await client.post("/api/v1/cart/lines", json={"sku_id": black}, headers=headers)
    change = await client.patch(f"/api/v1/cart/lines/{line}", json={"quantity": 4}, headers=headers)
    remove = await client.delete(f"/api/v1/cart/lines/{line}", headers=headers)

    assert [(r.status_code, r.json()["code"]) for r in (add, change, remove)] == [(409, "cart.frozen")] * 3
    assert await counts() == before
    view = (await client.get("/api/v1/cart", headers=headers)).json()
    assert ([x["quantity"] for x in view["lines"]], view["status"], view["can_checkout"]) == (
        [1],
        "checking_out",
        False,
    )
