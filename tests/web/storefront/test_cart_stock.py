"""The cart page at the stock limit: the + button is disabled at the units available, a change
above them is refused with a notice next to the line and changes nothing, and a line left above
the stock by another sale is explained in the summary."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy import update

from mercato.core.db import uow
from mercato.inventory.models import Stock
from tests.factories.checkout import open_shop
from tests.web.pages import EN, hx_csrf_of
from tests.web.storefront.test_cart import HX, add, line_id_of, lines, totals


async def test_the_plus_button_stops_at_the_stock_and_more_is_refused(client: AsyncClient) -> None:
    red, _black = await open_shop(price=3000, stock=8)
    await add(client, red, "8")
    page = await client.get("/cart", headers=EN)
    line_id = line_id_of(page)
    before = await lines()

    assert f'id="line-{line_id}-more-button" class="secondary qty-step"' in page.text
    assert 'aria-label="One more" disabled>+</button>' in page.text
    assert 'min="1" max="8"' in page.text

    refused = await client.post(
        f"/cart/lines/{line_id}", data={"quantity": "9"}, headers={**HX, "X-CSRF-Token": hx_csrf_of(page)}
    )
    plain = await client.post(
        f"/cart/lines/{line_id}", data={"set_quantity": "9", "csrf_token": hx_csrf_of(page)}, headers=EN
    )

    assert refused.status_code == 200  # htmx swaps the fragment with the notice in it
    assert f'id="line-{line_id}-error"><p>Only 8 in stock; the quantity was not changed.</p>' in refused.text
    assert 'value="8"' in refused.text
    assert totals(refused)["selected-quantity"] == 8
    assert plain.status_code == 409
    assert "Only 8 in stock; the quantity was not changed." in plain.text
    assert await lines() == before
    assert [q for _c, _s, q, _sel in before] == [8]


async def test_a_line_left_above_the_stock_is_explained_in_the_summary(client: AsyncClient) -> None:
    red, _black = await open_shop(price=3000, stock=5)
    await add(client, red, "5")
    async with uow() as s:
        await s.execute(update(Stock).where(Stock.sku_id == red).values(reserved=Stock.reserved + 3))

    page = await client.get("/cart", headers=EN)

    assert "Only 2 left; lower the quantity." in page.text
    assert totals(page)["selected-quantity"] == 0
    assert 'id="cart-excluded">Ticked items that cannot be bought now are not counted' in page.text
    assert 'aria-label="One more" disabled>+</button>' in page.text
    assert 'min="1" max="5"' in page.text  # it can still come down
