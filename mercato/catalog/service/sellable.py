"""What the cart, checkout and orders need to know about SKUs to sell them: the product and SKU
as they are now (title, spec, prices, price breaks, weight, minimum quantity, categories, the
SKU's picture: its spec value's, else the product's first image) and whether they can be bought
at all."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.models import Category, PriceBreak, Product, Sku
from mercato.catalog.schemas import PriceBreakRead, SellableSku
from mercato.catalog.service.categories import path_ids
from mercato.catalog.service.spec_images import sku_thumbnails
from mercato.catalog.states import ListingStatus, SkuStatus


async def get_sellable_skus(session: AsyncSession, *, sku_ids: Collection[int]) -> dict[int, SellableSku]:
    """The current sale data of each SKU that exists (unknown ids are left out, not an error:
    a cart may hold a SKU whose product was removed and must still show a "sold out" line)."""
    wanted = sorted(set(sku_ids))
    if not wanted:
        return {}
    rows = (
        await session.execute(
            select(Sku, Product, Category.path)
            .join(Product, Product.id == Sku.product_id)
            .join(Category, Category.id == Product.category_id)
            .where(Sku.id.in_(wanted))
        )
    ).all()
    breaks: dict[int, list[PriceBreakRead]] = {}
    for sku_id, min_quantity, unit in await session.execute(
        select(PriceBreak.sku_id, PriceBreak.min_quantity, PriceBreak.unit_price_amount)
        .where(PriceBreak.sku_id.in_(wanted))
        .order_by(PriceBreak.sku_id, PriceBreak.min_quantity)
    ):
        breaks.setdefault(sku_id, []).append(
            PriceBreakRead(min_quantity=min_quantity, unit_price_amount=unit)
        )
    images = await sku_thumbnails(
        session, [(sku.id, product.id, dict(sku.spec)) for sku, product, _path in rows]
    )
    found: dict[int, SellableSku] = {}
    for sku, product, path in rows:
        found[sku.id] = SellableSku(
            sku_id=sku.id,
            code=sku.code,
            product_id=product.id,
            product_slug=product.slug,
            title=product.title,
            title_en=product.title_en,
            spec=dict(sku.spec),
            currency=sku.currency,
            price_amount=sku.price_amount,
            market_price_amount=sku.market_price_amount,
            price_breaks=breaks.get(sku.id, []),
            weight_grams=sku.weight_grams,
            min_order_quantity=product.min_order_quantity,
            category_ids=path_ids(path),
            seller_id=product.seller_id,
            brand_id=product.brand_id,
            image_url=images.get(sku.id),
            is_sellable=product.status == ListingStatus.on_sale and sku.status == SkuStatus.active,
        )
    return found
