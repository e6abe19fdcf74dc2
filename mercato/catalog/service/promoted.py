"""Reads for the promotions domain's displays: the SKUs a product card may price (its sellable
ones) and products on sale with stock in a selection, ranked by how near their price is to an
amount (凑单). Catalog knows nothing of promotions: the selection is plain ids."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.models import Category, Product, Sku
from mercato.catalog.schemas import CardSku, ProductDetail
from mercato.catalog.service import caching
from mercato.catalog.service.categories import path_ids
from mercato.catalog.service.storefront import MAX_PAGE_SIZE, ON_SALE
from mercato.catalog.states import SkuStatus

ACTIVE = SkuStatus.active.value


async def get_card_skus(session: AsyncSession, *, product_ids: Collection[int]) -> dict[int, list[CardSku]]:
    """Per product id, its sellable SKUs (active, of a product on sale), cheapest first (then the
    lower id): what a card may show the price of. Products not on sale or without an active SKU
    are left out. Cached per product like the list pages (a product or category write retires
    them); the ones not cached are read in one query, whatever their number."""
    wanted = sorted(set(product_ids))
    if not wanted:
        return {}
    versions, stored = await caching.read_many_current(
        [caching.card_skus_key(p) for p in wanted], caching.TREE_VERSION_KEY, caching.LIST_VERSION_KEY
    )
    found: dict[int, list[CardSku]] = {}
    missing = []
    for product_id, value in zip(wanted, stored, strict=True):
        if isinstance(value, list):
            if value:
                found[product_id] = [CardSku.model_validate(sku) for sku in value]
        else:
            missing.append(product_id)
    if missing:
        read = await _read_card_skus(session, missing)
        for product_id in missing:
            skus = read.get(product_id, [])
            if skus:
                found[product_id] = skus
            await caching.store_current(
                caching.card_skus_key(product_id),
                versions,
                [sku.model_dump(mode="json") for sku in skus],
                caching.TTL,
            )
    return {product_id: found[product_id] for product_id in wanted if product_id in found}


async def _read_card_skus(session: AsyncSession, product_ids: list[int]) -> dict[int, list[CardSku]]:
    rows = await session.execute(
        select(
            Sku.id,
            Sku.product_id,
            Sku.price_amount,
            Sku.weight_grams,
            Product.brand_id,
            Product.seller_id,
            Category.path,
        )
        .join(Product, Product.id == Sku.product_id)
        .join(Category, Category.id == Product.category_id)
        .where(Sku.product_id.in_(product_ids), Sku.status == ACTIVE, Product.status == ON_SALE)
        .order_by(Sku.product_id, Sku.price_amount, Sku.id)
    )
    found: dict[int, list[CardSku]] = {}
    for sku_id, product_id, price, weight, brand_id, seller_id, path in rows:
        found.setdefault(product_id, []).append(
            CardSku(
                sku_id=sku_id,
                product_id=product_id,
                category_ids=path_ids(path),
                brand_id=brand_id,
                seller_id=seller_id,
                price_amount=price,
                weight_grams=weight,
            )
        )
    return found


def sellable_of(detail: ProductDetail) -> list[CardSku]:
    """The SKUs of a product page as a card prices one unit of them (what the page shows beside
    each price): from the cached page itself, no query. Cheapest first, then the lower id."""
    category_ids = [crumb.id for crumb in detail.breadcrumbs]  # the whole path, root first
    brand_id = detail.brand.id if detail.brand is not None else None
    return [
        CardSku(
            sku_id=sku.id,
            product_id=detail.id,
            category_ids=category_ids,
            brand_id=brand_id,
            seller_id=detail.seller_id,
            price_amount=sku.price_amount,
            weight_grams=sku.weight_grams,
        )
        for sku in sorted(detail.skus, key=lambda sku: (sku.price_amount, sku.id))
    ]


async def list_products_near_price(
    session: AsyncSession,
    *,
    target_amount: int,
    everything: bool = False,
    category_ids: Collection[int] = (),
    brand_ids: Collection[int] = (),
    product_ids: Collection[int] = (),
    sku_ids: Collection[int] = (),
    exclude_product_ids: Collection[int] = (),
    exclude_sku_ids: Collection[int] = (),
    limit: int = 6,
) -> list[int]:
    """Ids of products on sale with a selected SKU in stock, by the lowest price among those
    SKUs: first the ones at or above ``target_amount``, cheapest first, then the ones below it,
    dearest first (ties: the lower id). Selected: every active SKU when ``everything``, else
    those of the named categories (with their descendants), brands or products, and the named
    SKUs; exclusions win. At most ``limit`` (capped at ``MAX_PAGE_SIZE``); one query."""
    limit = max(0, min(limit, MAX_PAGE_SIZE))
    named: list[ColumnElement[bool]] = []
    if sku_ids:
        named.append(Sku.id.in_(list(sku_ids)))
    if product_ids:
        named.append(Product.id.in_(list(product_ids)))
    if brand_ids:
        named.append(Product.brand_id.in_(list(brand_ids)))
    named.extend(Category.path.contains(f"/{int(c)}/", autoescape=True) for c in category_ids)
    if not limit or not (everything or named):
        return []
    conditions: list[ColumnElement[bool]] = [
        Product.status == ON_SALE,
        Sku.status == ACTIVE,
        Sku.available_quantity > 0,
    ]
    if not everything:
        conditions.append(or_(*named))
    if exclude_product_ids:
        conditions.append(Product.id.not_in(list(exclude_product_ids)))
    if exclude_sku_ids:
        conditions.append(Sku.id.not_in(list(exclude_sku_ids)))
    price = func.min(Sku.price_amount)
    reaches = price >= target_amount
    rows = await session.execute(
        select(Product.id)
        .join(Sku, Sku.product_id == Product.id)
        .join(Category, Category.id == Product.category_id)
        .where(*conditions)
        .group_by(Product.id)
        .order_by(case((reaches, 0), else_=1), case((reaches, price), else_=-price), Product.id)
        .limit(limit)
    )
    return list(rows.scalars())
