"""What the cart, checkout and orders need to know about SKUs to sell them: the product and SKU
as they are now (title, spec, prices, price breaks, weight, minimum quantity, categories, the
first image) and whether they can be bought at all."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.models import Category, PriceBreak, Product, ProductImage, Sku
from mercato.catalog.schemas import PriceBreakRead, SellableSku
from mercato.catalog.service.categories import path_ids
from mercato.catalog.states import ListingStatus, SkuStatus
from mercato.core.storage import get_storage


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
    product_ids = sorted({product.id for _sku, product, _path in rows})
    images: dict[int, str] = {}
    for product_id, key in await session.execute(
        select(ProductImage.product_id, ProductImage.thumbnail_key)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
    ):
        images.setdefault(product_id, get_storage().url(key))
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
            image_url=images.get(product.id),
            is_sellable=product.status == ListingStatus.on_sale and sku.status == SkuStatus.active,
        )
    return found
