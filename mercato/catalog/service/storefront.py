"""Storefront reads: the category tree, the product list with filters and sorts, product pages.

Only products on sale are visible. The list uses offset pagination (a grid shows page numbers;
at most ``MAX_PAGE_SIZE`` per page and ``MAX_PAGE`` pages deep). The tree, product pages and list
pages are cached (``service/caching.py``): a list page until a product or category changes, and
at most ``caching.LIST_TTL`` seconds (browsing reads the same first pages over and over; a
filter combination nobody repeats just expires).

Attribute filters are ``code:value`` strings. One filter matches a product whose parameter
``code`` has that value (``params`` JSON) or that has an active SKU whose spec ``code`` has that
value (``spec`` JSON). Both are read with the JSON path operators SQLAlchemy renders for each
database (``JSON_EXTRACT`` on SQLite, ``->>`` on PostgreSQL) and compared exactly, so
"红" never matches "红色" and case counts on both databases (a ``LIKE`` over ``spec_key`` would
be case-insensitive on SQLite). Values of one code are alternatives; different codes must all
match.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.errors import AttributeFilterInvalid, CategoryNotFound, ProductNotFound
from mercato.catalog.models import Brand, Category, PriceBreak, Product, ProductImage, Sku
from mercato.catalog.schemas import (
    AttributeKind,
    BrandSummary,
    Breadcrumb,
    ImageRef,
    ParamRead,
    PriceBreakRead,
    ProductCard,
    ProductCardPage,
    ProductDetail,
    ProductSort,
    SpecImageRef,
    SpecOption,
    SpecValueRead,
    StorefrontCategory,
    StorefrontSku,
)
from mercato.catalog.service import caching
from mercato.catalog.service.categories import build_tree, path_ids
from mercato.catalog.service.product_types import load_attributes
from mercato.catalog.service.spec_images import spec_image_ids
from mercato.catalog.states import ListingStatus, SkuStatus
from mercato.core.errors import FieldError
from mercato.core.i18n import N_
from mercato.core.storage import get_storage

ATTRIBUTE_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
MAX_PAGE_SIZE = 60
MAX_PAGE = 500
ON_SALE = ListingStatus.on_sale.value


async def get_storefront_category_tree(session: AsyncSession) -> list[StorefrontCategory]:
    """Active categories as trees (an inactive category hides its subtree), cached per tree version."""
    key = caching.tree_key(await caching.tree_version())
    cached = await caching.read(key)
    if isinstance(cached, list):
        return [StorefrontCategory.model_validate(node) for node in cached]
    rows = (await session.execute(select(Category))).scalars().all()
    tree = [
        StorefrontCategory.model_validate(node.model_dump()) for node in build_tree(rows, active_only=True)
    ]
    await caching.store(key, [node.model_dump(mode="json") for node in tree])
    return tree


def parse_attribute_filters(filters: Sequence[str]) -> dict[str, list[str]]:
    """``["colour:红色", "colour:黑色", "material:棉"]`` -> ``{"colour": [...], "material": [...]}``.

    Raises:
        AttributeFilterInvalid (422): an entry is not ``code:value``.
    """
    grouped: dict[str, list[str]] = defaultdict(list)
    errors: list[FieldError] = []
    for index, entry in enumerate(filters):
        code, sep, value = entry.partition(":")
        if not sep or not value or not ATTRIBUTE_CODE.fullmatch(code):
            errors.append(
                FieldError(
                    loc=("query", "attr", index),
                    code=AttributeFilterInvalid.code,
                    message=N_("Write an attribute filter as code:value."),
                )
            )
            continue
        if value not in grouped[code]:
            grouped[code].append(value)
    if errors:
        raise AttributeFilterInvalid(fields=errors)
    return dict(grouped)


def _attribute_condition(code: str, values: list[str]) -> ColumnElement[bool]:
    spec_match = exists().where(
        Sku.product_id == Product.id,
        Sku.status == SkuStatus.active.value,
        Sku.spec[code].as_string().in_(values),
    )
    return or_(Product.params[code].as_string().in_(values), spec_match)


async def list_storefront_products(
    session: AsyncSession,
    *,
    category_id: int | None = None,
    brand_ids: Sequence[int] = (),
    price_min: int | None = None,
    price_max: int | None = None,
    attributes: Sequence[str] = (),
    in_stock: bool | None = None,
    query: str | None = None,
    sort: ProductSort = ProductSort.newest,
    page: int = 1,
    page_size: int = 20,
) -> ProductCardPage:
    """One page of products on sale.

    ``category_id`` includes its descendants; ``price_min``/``price_max`` bound the "from" price
    (``min_price_amount``, inclusive); ``attributes`` are ``code:value`` filters (see the module
    doc); ``in_stock`` true keeps products with stock, false those without; ``query`` matches the
    Chinese or English title. Ties in every sort break by id, newest first.

    Raises:
        CategoryNotFound (404): unknown or inactive category.
        AttributeFilterInvalid (422).
    """
    page = max(1, min(page, MAX_PAGE))
    page_size = max(1, min(page_size, MAX_PAGE_SIZE))
    key = caching.list_key(
        {
            "category_id": category_id,
            "brand_ids": sorted(set(brand_ids)),
            "price_min": price_min,
            "price_max": price_max,
            "attributes": sorted(set(attributes)),
            "in_stock": in_stock,
            "query": query,
            "sort": sort.value,
            "page": page,
            "page_size": page_size,
        }
    )
    versions, cached = await caching.read_current(key, caching.TREE_VERSION_KEY, caching.LIST_VERSION_KEY)
    if isinstance(cached, dict):
        return ProductCardPage.model_validate(cached)
    result = await _list_page(
        session,
        category_id=category_id,
        brand_ids=brand_ids,
        price_min=price_min,
        price_max=price_max,
        attributes=attributes,
        in_stock=in_stock,
        query=query,
        sort=sort,
        page=page,
        page_size=page_size,
    )
    await caching.store_current(key, versions, result.model_dump(mode="json"), caching.LIST_TTL)
    return result


async def _list_page(
    session: AsyncSession,
    *,
    category_id: int | None,
    brand_ids: Sequence[int],
    price_min: int | None,
    price_max: int | None,
    attributes: Sequence[str],
    in_stock: bool | None,
    query: str | None,
    sort: ProductSort,
    page: int,
    page_size: int,
) -> ProductCardPage:
    conditions: list[ColumnElement[bool]] = [Product.status == ON_SALE]
    if category_id is not None:
        category = await session.get(Category, category_id)
        if category is None or not category.is_active:
            raise CategoryNotFound()
        conditions.append(
            Product.category_id.in_(
                select(Category.id).where(Category.path.startswith(category.path, autoescape=True))
            )
        )
    if brand_ids:
        conditions.append(Product.brand_id.in_(list(brand_ids)))
    if price_min is not None:
        conditions.append(Product.min_price_amount >= price_min)
    if price_max is not None:
        conditions.append(Product.min_price_amount <= price_max)
    for code, values in parse_attribute_filters(attributes).items():
        conditions.append(_attribute_condition(code, values))
    if in_stock is not None:
        conditions.append(Product.in_stock.is_(in_stock))
    if query:
        needle = query.lower()
        conditions.append(
            func.lower(Product.title).contains(needle, autoescape=True)
            | func.lower(Product.title_en).contains(needle, autoescape=True)
        )
    orders: dict[ProductSort, tuple[ColumnElement[Any], ...]] = {
        ProductSort.newest: (Product.published_at.desc(), Product.id.desc()),
        ProductSort.price_asc: (Product.min_price_amount.asc(), Product.id.desc()),
        ProductSort.price_desc: (Product.min_price_amount.desc(), Product.id.desc()),
        ProductSort.sales: (Product.sales_count.desc(), Product.id.desc()),
    }
    total = (await session.execute(select(func.count()).select_from(Product).where(*conditions))).scalar_one()
    rows = (
        (
            await session.execute(
                select(Product)
                .where(*conditions)
                .order_by(*orders[sort])
                .offset((page - 1) * page_size)
                .limit(page_size)
            )
        )
        .scalars()
        .all()
    )
    return ProductCardPage(items=await _cards(session, rows), page=page, page_size=page_size, total=total)


async def _cards(session: AsyncSession, rows: Sequence[Product]) -> list[ProductCard]:
    """Cards for product rows, in their order, with each one's first picture (one query)."""
    images = await _first_images(session, [row.id for row in rows])
    return [
        ProductCard(
            id=row.id,
            slug=row.slug,
            title=row.title,
            title_en=row.title_en,
            subtitle=row.subtitle,
            category_id=row.category_id,
            brand_id=row.brand_id,
            currency=row.currency,
            min_price_amount=row.min_price_amount,
            max_price_amount=row.max_price_amount,
            in_stock=row.in_stock,
            is_presale=row.is_presale,
            sales_count=row.sales_count,
            image=images.get(row.id),
            published_at=row.published_at,
        )
        for row in rows
    ]


async def list_storefront_cards(session: AsyncSession, *, product_ids: Sequence[int]) -> list[ProductCard]:
    """Cards of the products with these ids that are on sale, in the order given (a shelf whose
    order another domain decides, e.g. best sellers); ids not on sale are left out. Two queries,
    whatever the number of products."""
    ids = list(dict.fromkeys(product_ids))[:MAX_PAGE_SIZE]
    if not ids:
        return []
    rows = (
        await session.execute(select(Product).where(Product.id.in_(ids), Product.status == ON_SALE))
    ).scalars()
    by_id = {row.id: row for row in rows}
    return await _cards(session, [by_id[i] for i in ids if i in by_id])


def _image(row: ProductImage) -> ImageRef:
    storage = get_storage()
    return ImageRef(
        url=storage.url(row.storage_key),
        thumbnail_url=storage.url(row.thumbnail_key),
        width=row.width,
        height=row.height,
        alt=row.alt,
    )


def _spec_image_refs(images: Sequence[ProductImage], ties: dict[str, dict[str, int]]) -> list[SpecImageRef]:
    """The spec values with a picture, each by its index among the page's ``images``."""
    index = {image.id: position for position, image in enumerate(images)}
    return [
        SpecImageRef(code=code, value=value, image_index=index[image_id])
        for code, values in sorted(ties.items())
        for value, image_id in sorted(values.items())
        if image_id in index
    ]


async def _first_images(session: AsyncSession, product_ids: list[int]) -> dict[int, ImageRef]:
    if not product_ids:
        return {}
    rows = (
        await session.execute(
            select(ProductImage)
            .where(ProductImage.product_id.in_(product_ids))
            .order_by(ProductImage.product_id, ProductImage.position, ProductImage.id)
        )
    ).scalars()
    first: dict[int, ImageRef] = {}
    for row in rows:
        first.setdefault(row.product_id, _image(row))
    return first


async def get_storefront_product(session: AsyncSession, *, product_id: int) -> ProductDetail:
    """The page of a product on sale, cached until the product, its SKUs, stock or categories change.

    Raises:
        ProductNotFound (404): no such product, or not on sale.
    """
    key = caching.product_key(product_id)
    versions, cached = await caching.read_current(key, caching.TREE_VERSION_KEY)
    if isinstance(cached, dict):
        return ProductDetail.model_validate(cached)
    detail = await _build_detail(session, product_id)
    await caching.store_current(key, versions, detail.model_dump(mode="json"), caching.TTL)
    return detail


async def get_storefront_product_by_slug(session: AsyncSession, *, slug: str) -> ProductDetail:
    """``get_storefront_product`` by slug (one indexed lookup, then the cached page).

    Raises:
        ProductNotFound (404).
    """
    product_id = (
        await session.execute(select(Product.id).where(Product.slug == slug, Product.status == ON_SALE))
    ).scalar_one_or_none()
    if product_id is None:
        raise ProductNotFound()
    return await get_storefront_product(session, product_id=product_id)


async def invalidate_product_cache(session: AsyncSession, *, product_id: int) -> None:
    """Drop a product's cached page now and after the commit (for writes outside these services,
    such as image uploads)."""
    await caching.invalidate_products(session, [product_id])


async def _build_detail(session: AsyncSession, product_id: int) -> ProductDetail:
    row = await session.get(Product, product_id)
    if row is None or row.status != ON_SALE:
        raise ProductNotFound()
    skus = (
        (
            await session.execute(
                select(Sku)
                .where(Sku.product_id == product_id, Sku.status == SkuStatus.active.value)
                .order_by(Sku.id)
            )
        )
        .scalars()
        .all()
    )
    breaks: dict[int, list[PriceBreakRead]] = defaultdict(list)
    if skus:
        for price_break in (
            await session.execute(
                select(PriceBreak)
                .where(PriceBreak.sku_id.in_([sku.id for sku in skus]))
                .order_by(PriceBreak.min_quantity)
            )
        ).scalars():
            breaks[price_break.sku_id].append(PriceBreakRead.model_validate(price_break))
    images = (
        (
            await session.execute(
                select(ProductImage)
                .where(ProductImage.product_id == product_id)
                .order_by(ProductImage.position, ProductImage.id)
            )
        )
        .scalars()
        .all()
    )
    category = await session.get(Category, row.category_id)
    chain_ids = path_ids(category.path) if category else []
    chain = {
        c.id: c for c in (await session.execute(select(Category).where(Category.id.in_(chain_ids)))).scalars()
    }
    brand = await session.get(Brand, row.brand_id) if row.brand_id is not None else None
    attributes = (await load_attributes(session, [row.product_type_id]))[row.product_type_id]

    params = [
        ParamRead(code=a.code, name=a.name, name_en=a.name_en, value=str(row.params[a.code]))
        for a in attributes
        if a.kind == AttributeKind.param and a.code in row.params
    ]
    specs: list[SpecOption] = []
    for attribute in attributes:
        if attribute.kind != AttributeKind.spec:
            continue
        used = list(dict.fromkeys(sku.spec[attribute.code] for sku in skus if attribute.code in sku.spec))
        if not used:
            continue
        known = {value.value: value for value in attribute.values}
        ordered = [value for value in attribute.values if value.value in used] + [
            SpecValueRead(value=value, value_en="") for value in used if value not in known
        ]
        specs.append(
            SpecOption(
                code=attribute.code,
                name=attribute.name,
                name_en=attribute.name_en,
                values=[SpecValueRead(value=v.value, value_en=v.value_en) for v in ordered],
            )
        )
    return ProductDetail(
        id=row.id,
        slug=row.slug,
        title=row.title,
        title_en=row.title_en,
        subtitle=row.subtitle,
        description_html=row.description_html,
        tags=list(row.tags),
        seo_title=row.seo_title,
        seo_description=row.seo_description,
        currency=row.currency,
        min_price_amount=row.min_price_amount,
        max_price_amount=row.max_price_amount,
        min_order_quantity=row.min_order_quantity,
        is_presale=row.is_presale,
        presale_ships_on=row.presale_ships_on,
        in_stock=row.in_stock,
        sales_count=row.sales_count,
        category_id=row.category_id,
        breadcrumbs=[
            Breadcrumb(id=c.id, name=c.name, name_en=c.name_en, slug=c.slug)
            for c in (chain[i] for i in chain_ids if i in chain)
        ],
        brand=BrandSummary(
            id=brand.id, name=brand.name, name_en=brand.name_en, slug=brand.slug, logo_key=brand.logo_key
        )
        if brand
        else None,
        images=[_image(image) for image in images],
        spec_images=_spec_image_refs(images, (await spec_image_ids(session, [row.id])).get(row.id, {})),
        params=params,
        specs=specs,
        skus=[
            StorefrontSku(
                id=sku.id,
                code=sku.code,
                spec=dict(sku.spec),
                currency=sku.currency,
                price_amount=sku.price_amount,
                market_price_amount=sku.market_price_amount,
                available_quantity=sku.available_quantity,
                price_breaks=breaks[sku.id],
                weight_grams=sku.weight_grams,
            )
            for sku in skus
        ],
        published_at=row.published_at,
        seller_id=row.seller_id,
    )
