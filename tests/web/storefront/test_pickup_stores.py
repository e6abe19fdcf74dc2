"""Defect 14: store pickup is offered only at stores that hold every ticked line, and a store
that cannot supply an item names it in the page's language (its English title on English pages)."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import inventory
from mercato.catalog.models import Sku
from mercato.core.db import uow
from tests.factories.catalog import make_listed_product
from tests.factories.checkout import open_shop
from tests.factories.inventory import make_warehouse, receive
from tests.web.pages import EN
from tests.web.storefront.test_checkout import add_to_cart, counts, shopper

pytestmark = pytest.mark.usefixtures("handlers")
ZH = {"Accept-Language": "zh-CN"}


def offered_stores(page: str) -> list[str]:
    match = re.search(r'<select id="delivery-store"[^>]*>(.*?)</select>', page, re.DOTALL)
    return re.findall(r'<option value="(\d+)"', match.group(1)) if match else []


async def hoodie_skus() -> tuple[int, int]:
    """A product with an English title, red and black, 5 of each in a regional warehouse."""
    product = await make_listed_product(price_amount=3000, title_en="Crew-neck T-shirt")
    async with uow(write=False) as s:
        red, black = (
            await s.execute(select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
        ).scalars()
    regional = await make_warehouse(f"R{product.id}")
    for sku in (red, black):
        await receive(sku, regional.id, 5)
    return red, black


async def test_only_stores_that_hold_every_line_are_offered(client: AsyncClient) -> None:
    await open_shop()  # the shipping template
    red, black = await hoodie_skus()
    both = await make_warehouse("STORE-BOTH", kind=inventory.WarehouseKind.store)
    red_only = await make_warehouse("STORE-RED", kind=inventory.WarehouseKind.store)
    too_few = await make_warehouse("STORE-FEW", kind=inventory.WarehouseKind.store)
    for store, sku, units in (
        (both, red, 3),
        (both, black, 3),
        (red_only, red, 3),
        (too_few, red, 1),
        (too_few, black, 1),
    ):
        await receive(sku, store.id, units)
    _customer_id, address_id = await shopper(client)
    await add_to_cart(client, red, 2)
    await add_to_cart(client, black, 1)

    page = await client.get(f"/checkout/delivery?address_id={address_id}", headers=EN)
    buy_now = await client.get(
        f"/checkout/delivery?address_id={address_id}&sku_id={red}&quantity=2", headers=EN
    )

    assert page.status_code == 200
    assert offered_stores(page.text) == [str(both.id)]
    assert set(offered_stores(buy_now.text)) == {str(both.id), str(red_only.id)}


async def test_no_store_can_supply_so_pickup_is_not_offered(client: AsyncClient) -> None:
    await open_shop()
    red, _black = await hoodie_skus()
    await make_warehouse("STORE-EMPTY", kind=inventory.WarehouseKind.store)
    _customer_id, address_id = await shopper(client)
    await add_to_cart(client, red, 1)

    page = await client.get(f"/checkout/delivery?address_id={address_id}", headers=EN)

    assert 'value="pickup"' not in page.text
    assert offered_stores(page.text) == []


async def test_a_store_that_cannot_supply_names_the_item_in_the_pages_language(client: AsyncClient) -> None:
    await open_shop()
    red, _black = await hoodie_skus()
    store = await make_warehouse("STORE-EMPTY", kind=inventory.WarehouseKind.store)
    _customer_id, address_id = await shopper(client)
    await add_to_cart(client, red, 1)
    before = await counts()
    query = f"address_id={address_id}&delivery=pickup&pickup_store_id={store.id}"

    english = await client.get(f"/checkout/review?{query}", headers=EN)
    chinese = await client.get(f"/checkout/review?{query}", headers=ZH)

    assert english.status_code == chinese.status_code == 409
    assert "Crew-neck T-shirt Red cannot be picked up at this store." in english.text
    assert "纯棉圆领T恤 红色 无法在该门店自提。" in chinese.text
    assert await counts() == before
