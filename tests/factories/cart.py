"""Cart factories: SKUs a shopper can put in a cart."""

from __future__ import annotations

from sqlalchemy import select

from mercato.catalog.models import Sku
from mercato.core.db import uow
from tests.factories.catalog import make_listed_product
from tests.factories.inventory import make_warehouse, receive


async def listed_skus(price: int = 9900, stock: int = 50) -> list[int]:
    """A product on sale with two SKUs (red, black), each with ``stock`` units in a new warehouse."""
    product = await make_listed_product(price_amount=price)
    async with uow(write=False) as s:
        skus = list(
            (await s.execute(select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.id))).scalars()
        )
    warehouse = await make_warehouse(f"W{product.id}")
    for sku in skus:
        if stock:
            await receive(sku, warehouse.id, stock)
    return skus
