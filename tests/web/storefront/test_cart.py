"""The cart pages: a guest's cart by cookie, quantities changed through htmx with exact totals,
ticking and removing lines, notices, refused input and CSRF, another shopper's line, and the
guest cart kept at sign-in."""

from __future__ import annotations

import re

from httpx import AsyncClient, Response
from sqlalchemy import select

from mercato import catalog
from mercato.cart.models import Cart, CartLine
from mercato.catalog.models import Sku
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_listed_product
from tests.factories.checkout import open_shop
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.inventory import make_warehouse, receive
from tests.web.pages import EN, hx_csrf_of, set_cookie_header, sign_in

HX = {**EN, "HX-Request": "true"}


async def lines() -> list[tuple[int, int, int, bool]]:
    """Every cart line as (cart id, SKU id, quantity, ticked), oldest first."""
    async with uow(write=False) as s:
        rows = await s.execute(
            select(CartLine.cart_id, CartLine.sku_id, CartLine.quantity, CartLine.is_selected).order_by(
                CartLine.id
            )
        )
        return [(c, s_, q, sel) for c, s_, q, sel in rows]


async def add(
    client: AsyncClient, sku_id: int, quantity: str = "1", headers: dict[str, str] = EN
) -> Response:
    page = await client.get("/cart", headers=EN)
    return await client.post(
        "/cart/add",
        data={"sku_id": str(sku_id), "quantity": quantity, "csrf_token": hx_csrf_of(page)},
        headers=headers,
    )


def line_id_of(page: Response) -> int:
    match = re.search(r'data-line-id="(\d+)"', page.text)
    assert match is not None
    return int(match.group(1))


async def one_line_in_cart(client: AsyncClient, **shop: int) -> tuple[int, Response, int]:
    """One of the shop's red SKU in the cart: (red SKU id, the cart page, its line id)."""
    red, _black = await open_shop(**shop)
    await add(client, red)
    page = await client.get("/cart", headers=EN)
    return red, page, line_id_of(page)


def totals(page: Response) -> dict[str, int]:
    found = dict(re.findall(r'data-(subtotal|shipping|total|gap|selected-quantity)="(\d+)"', page.text))
    return {key: int(value) for key, value in found.items()}


async def test_a_guest_adds_to_the_cart_and_sees_the_line_and_the_free_shipping_gap(
    client: AsyncClient,
) -> None:
    red, _black = await open_shop(price=3000, stock=5)

    added = await add(client, red)

    assert (added.status_code, added.headers["location"]) == (303, "/cart")
    cookie = set_cookie_header(added, "mercato_cart")
    assert cookie.startswith("mercato_cart=mct_")
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    page = await client.get("/cart", headers=EN)
    assert page.status_code == 200
    assert "纯棉圆领T恤" in page.text
    assert "Add CN¥69.00 more for free shipping" in page.text
    assert "Only 5 left." in page.text  # the low-stock notice from the cart service
    assert totals(page) == {
        "subtotal": 3000,
        "shipping": 800,
        "total": 3800,
        "gap": 6900,
        "selected-quantity": 1,
    }
    assert 'href="/checkout"' in page.text
    assert [(sku, q, sel) for _c, sku, q, sel in await lines()] == [(red, 1, True)]


async def test_an_htmx_add_answers_a_small_note_with_the_cart_size(client: AsyncClient) -> None:
    red, black = await open_shop(price=3000, stock=5)
    await add(client, red)

    added = await add(client, black, "2", headers=HX)

    assert added.status_code == 200
    assert "<html" not in added.text
    assert 'data-cart-count="3"' in added.text
    assert "Added to cart. 3 items in your cart." in added.text


async def test_the_htmx_quantity_change_returns_the_cart_fragment_with_exact_totals(
    client: AsyncClient,
) -> None:
    _red, page, line_id = await one_line_in_cart(client, price=3000, stock=5)

    changed = await client.post(
        f"/cart/lines/{line_id}", data={"quantity": "2"}, headers={**HX, "X-CSRF-Token": hx_csrf_of(page)}
    )

    assert changed.status_code == 200
    assert changed.text.lstrip().startswith('<section id="cart"')
    assert "<html" not in changed.text
    assert totals(changed) == {
        "subtotal": 6000,
        "shipping": 1000,
        "total": 7000,
        "gap": 3900,
        "selected-quantity": 2,
    }
    assert 'value="2"' in changed.text
    assert [q for _c, _s, q, _sel in await lines()] == [2]


async def test_without_javascript_a_change_redirects_back_to_the_cart(client: AsyncClient) -> None:
    red, black = await open_shop(price=3000, stock=5)
    await add(client, red)
    await add(client, black)
    page = await client.get("/cart", headers=EN)
    ids = [int(x) for x in re.findall(r'data-line-id="(\d+)"', page.text)]  # newest first: black, red
    token = hx_csrf_of(page)

    untick = await client.post(f"/cart/lines/{ids[0]}", data={"selected": "0", "csrf_token": token})
    more = await client.post(f"/cart/lines/{ids[1]}", data={"quantity": "3", "csrf_token": token})
    removed = await client.post(f"/cart/lines/{ids[0]}/remove", data={"csrf_token": token})

    assert [r.status_code for r in (untick, more, removed)] == [303, 303, 303]
    assert {r.headers["location"] for r in (untick, more, removed)} == {"/cart"}
    assert [(sku, q, sel) for _c, sku, q, sel in await lines()] == [(red, 3, True)]
    after = await client.get("/cart", headers=EN)
    assert totals(after) == {
        "subtotal": 9000,
        "shipping": 1200,
        "total": 10200,
        "gap": 900,
        "selected-quantity": 3,
    }


async def test_ticking_decides_what_is_totalled_and_all_lines_can_be_unticked(client: AsyncClient) -> None:
    red, black = await open_shop(price=3000, stock=5)
    await add(client, red)
    await add(client, black)
    page = await client.get("/cart", headers=EN)
    token = {"X-CSRF-Token": hx_csrf_of(page)}

    none = await client.post("/cart/select", data={"selected": "0"}, headers={**HX, **token})
    red_line = re.findall(r'data-line-id="(\d+)"', page.text)[1]  # newest first
    one = await client.post(f"/cart/lines/{red_line}", data={"selected": "1"}, headers={**HX, **token})

    assert totals(none)["selected-quantity"] == 0
    assert totals(none)["total"] == 0
    assert '<button type="button" disabled id="cart-checkout">' in none.text
    assert totals(one) == {
        "subtotal": 3000,
        "shipping": 800,
        "total": 3800,
        "gap": 6900,
        "selected-quantity": 1,
    }
    assert [(sku, sel) for _c, sku, _q, sel in await lines()] == [(red, True), (black, False)]


async def test_a_zero_or_huge_quantity_is_refused_with_a_clear_error_and_the_cart_unchanged(
    client: AsyncClient,
) -> None:
    red, page, line_id = await one_line_in_cart(client, price=3000, stock=5)
    token = hx_csrf_of(page)
    before = await lines()

    zero = await client.post(
        f"/cart/lines/{line_id}", data={"quantity": "0"}, headers={**HX, "X-CSRF-Token": token}
    )
    huge = await client.post(
        f"/cart/lines/{line_id}", data={"quantity": "1000000000", "csrf_token": token}, headers=EN
    )
    add_zero = await add(client, red, "0")
    add_huge = await add(client, red, "1000000000", headers=HX)

    assert zero.status_code == 200  # htmx swaps it in, with the error next to the line
    assert f'id="line-{line_id}-error"' in zero.text
    assert "Must be at least 1." in zero.text
    assert 'aria-invalid="true"' in zero.text
    assert huge.status_code == 422
    assert "Must be at most 999." in huge.text
    assert add_zero.status_code == 422
    assert "Must be at least 1." in add_zero.text
    assert add_huge.status_code == 200
    assert "Must be at most 999." in add_huge.text
    assert await lines() == before


async def test_an_unknown_sku_is_refused_and_nothing_is_created(client: AsyncClient) -> None:
    await open_shop()

    response = await add(client, 987654)

    assert response.status_code == 409
    assert "This item cannot be bought now." in response.text
    assert "mercato_cart" not in response.headers.get("set-cookie", "")
    async with uow(write=False) as s:
        assert (await s.execute(select(Cart.id))).all() == []


async def test_a_bad_csrf_token_is_refused_and_nothing_changes(client: AsyncClient) -> None:
    red, _page, line_id = await one_line_in_cart(client)
    before = await lines()

    responses = [
        await client.post("/cart/add", data={"sku_id": str(red), "csrf_token": "forged"}),
        await client.post(f"/cart/lines/{line_id}", data={"quantity": "3", "csrf_token": "forged"}),
        await client.post(f"/cart/lines/{line_id}", data={"quantity": "3"}, headers={"HX-Request": "true"}),
        await client.post(f"/cart/lines/{line_id}/remove", data={"csrf_token": "forged"}),
        await client.post("/cart/select", data={"selected": "0", "csrf_token": "forged"}),
    ]

    assert [r.status_code for r in responses] == [403] * 5
    assert await lines() == before


async def test_another_shoppers_line_is_not_found_and_unchanged(client: AsyncClient, app: object) -> None:
    from httpx import ASGITransport  # noqa: PLC0415

    red, black = await open_shop()
    await add(client, red)
    line_id = line_id_of(await client.get("/cart", headers=EN))
    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as other:
        await add(other, black)
        page = await other.get("/cart", headers=EN)
        before = await lines()
        change = await other.post(
            f"/cart/lines/{line_id}", data={"quantity": "3", "csrf_token": hx_csrf_of(page)}, headers=EN
        )
        remove = await other.post(
            f"/cart/lines/{line_id}/remove", data={"csrf_token": hx_csrf_of(page)}, headers=EN
        )

    assert (change.status_code, remove.status_code) == (404, 404)
    assert "This item is not in your cart." in change.text
    assert await lines() == before


async def test_the_guest_cart_is_kept_when_the_guest_signs_in(client: AsyncClient) -> None:
    red, _black = await open_shop()
    customer = await make_customer(email="kim@example.com")
    await add(client, red, "2")

    await sign_in(client, "kim@example.com", PASSWORD)
    page = await client.get("/cart", headers=EN)

    assert page.status_code == 200
    assert 'value="2"' in page.text
    assert 'mercato_cart=""' in page.headers.get("set-cookie", "")  # merged: the guest cookie goes
    async with uow(write=False) as s:
        carts = (await s.execute(select(Cart.customer_id, Cart.status).order_by(Cart.id))).all()
    assert [tuple(c) for c in carts] == [(None, "merged"), (customer.id, "active")]


async def test_the_empty_cart_says_so(client: AsyncClient) -> None:
    page = await client.get("/cart", headers=EN)

    assert page.status_code == 200
    assert "Your cart is empty." in page.text
    assert 'href="/checkout"' not in page.text


async def test_a_changed_price_shows_a_notice(client: AsyncClient) -> None:
    red, _black = await open_shop(price=3000, stock=50)
    await add(client, red)
    async with uow() as s:
        await catalog.update_sku(s, sku_id=red, data=catalog.SkuUpdate(price_amount=2500), actor=SYSTEM)

    page = await client.get("/cart", headers=EN)

    assert 'data-notice="price_changed"' in page.text
    assert "The price changed from CN¥30.00 to CN¥25.00." in page.text
    assert totals(page)["subtotal"] == 2500


async def test_user_text_is_escaped_in_the_cart(client: AsyncClient) -> None:
    await open_shop()
    product = await make_listed_product(price_amount=1000, title="<script>alert(1)</script>")
    async with uow(write=False) as s:
        sku = (await s.execute(select(Sku.id).where(Sku.product_id == product.id).limit(1))).scalar_one()
    warehouse = await make_warehouse("ESC")
    await receive(sku, warehouse.id, 5)
    await add(client, sku)

    page = await client.get("/cart", headers=EN)

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
