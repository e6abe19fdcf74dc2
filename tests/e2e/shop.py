"""What the journeys need in the database, made through the real services and factories
(each test starts from empty tables): a stocked shop with one category and one T-shirt in two
colours, a shopper with a password, and a console operator."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from mercato import pricing
from mercato.catalog.models import Sku
from mercato.core import events
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_category, make_listed_product
from tests.factories.inventory import make_warehouse, receive

#: Held while events are delivered: the ``worker`` fixture's loop and a test's own delivery never
#: run at the same time (each event is handled once, in order).
DELIVERY = asyncio.Lock()

PRODUCT_TITLE = "纯棉圆领T恤"
PRODUCT_TITLE_EN = "Cotton crew-neck T-shirt"


@dataclass(frozen=True)
class Shop:
    category_slug: str
    category_name_en: str
    product_slug: str
    product_title_en: str
    red: int
    black: int
    warehouse_id: int


async def stocked_shop(
    *, title: str = PRODUCT_TITLE, title_en: str = PRODUCT_TITLE_EN, price: int = 3000, stock: int = 5
) -> Shop:
    """The default shipping template (8 元, 2 元 each further piece, free over 99 元), a category
    "clothing" and a T-shirt on sale in red and black at ``price``, ``stock`` of each in one
    warehouse. Delivers the events so the storefront sees the stock (subscribe the handlers)."""
    async with uow() as s:
        await pricing.create_shipping_template(
            s,
            data=pricing.ShippingTemplateWrite(
                name="标准",
                rules=[
                    pricing.ShippingRule(
                        first_fee_amount=800, additional_fee_amount=200, free_over_amount=9900
                    )
                ],
                is_default=True,
            ),
            actor=SYSTEM,
        )
    category = await make_category("服装", slug="clothing")
    product = await make_listed_product(
        price_amount=price, category_id=category.id, title=title, title_en=title_en, slug="cotton-tee"
    )
    async with uow(write=False) as s:
        red, black = (
            await s.execute(select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))
        ).scalars()
    warehouse = await make_warehouse("HZ-1")
    for sku in (red, black):
        await receive(sku, warehouse.id, stock)
    async with DELIVERY:
        await events.deliver_pending()
    return Shop(
        category_slug="clothing",
        category_name_en=category.name_en,
        product_slug=product.slug,
        product_title_en=title_en,
        red=red,
        black=black,
        warehouse_id=warehouse.id,
    )
