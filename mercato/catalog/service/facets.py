"""Storefront facets: what the products on sale in a category (or matching a search) can be
filtered by, for the filter panel of the category and search pages.

Brands come with their product counts; attributes are those of the listed products' types that
a filter can match exactly (every spec, and parameters with defined values), with their defined
values. A category's facets are cached per category and tree version for ``caching.TTL``
seconds (counts may lag a product going on or off sale by that much); a search's are not.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.catalog.errors import CategoryNotFound
from mercato.catalog.models import Brand, Category, Product
from mercato.catalog.schemas import (
    AttributeFacet,
    AttributeKind,
    BrandFacet,
    SpecValueRead,
    StorefrontFacets,
)
from mercato.catalog.service import caching
from mercato.catalog.service.product_types import load_attributes
from mercato.catalog.states import ListingStatus

ON_SALE = ListingStatus.on_sale.value
#: At most this many brands are offered (the most represented first).
MAX_BRANDS = 30


def facets_key(category_id: int, version: str) -> str:
    return f"catalog:facets:{category_id}:{version}"


async def get_storefront_facets(
    session: AsyncSession, *, category_id: int | None = None, query: str | None = None
) -> StorefrontFacets:
    """Brands (with counts), filterable attributes and the price span of the products on sale in
    ``category_id`` (descendants included) and/or matching ``query`` (Chinese or English title).

    Raises:
        CategoryNotFound (404): unknown or inactive category.
    """
    key = None
    if category_id is not None and not query:
        key = facets_key(category_id, await caching.tree_version())
        cached = await caching.read(key)
        if isinstance(cached, dict):
            return StorefrontFacets.model_validate(cached)
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
    if query:
        needle = query.lower()
        conditions.append(
            func.lower(Product.title).contains(needle, autoescape=True)
            | func.lower(Product.title_en).contains(needle, autoescape=True)
        )
    span = (
        await session.execute(
            select(
                func.count(Product.id),
                func.min(Product.min_price_amount),
                func.max(Product.max_price_amount),
                func.min(Product.currency),
            ).where(*conditions)
        )
    ).one()
    brand_count = func.count(Product.id).label("count")
    brand_rows = (
        await session.execute(
            select(Brand.id, Brand.name, Brand.name_en, Brand.slug, brand_count)
            .join(Product, Product.brand_id == Brand.id)
            .where(*conditions)
            .group_by(Brand.id, Brand.name, Brand.name_en, Brand.slug)
            .order_by(brand_count.desc(), Brand.name, Brand.id)
            .limit(MAX_BRANDS)
        )
    ).all()
    type_ids = sorted(
        (await session.execute(select(Product.product_type_id).where(*conditions).distinct())).scalars()
    )
    attributes: dict[str, AttributeFacet] = {}
    for type_attributes in (await load_attributes(session, type_ids)).values():
        for attribute in type_attributes:
            if not attribute.values:
                continue  # free-text parameters cannot be offered as choices
            facet = attributes.get(attribute.code)
            if facet is None:
                facet = attributes[attribute.code] = AttributeFacet(
                    code=attribute.code,
                    name=attribute.name,
                    name_en=attribute.name_en,
                    kind=attribute.kind,
                    values=[],
                )
            known = {value.value for value in facet.values}
            facet.values.extend(
                SpecValueRead(value=value.value, value_en=value.value_en)
                for value in attribute.values
                if value.value not in known
            )
    facets = StorefrontFacets(
        brands=[
            BrandFacet(id=row.id, name=row.name, name_en=row.name_en, slug=row.slug, count=row.count)
            for row in brand_rows
        ],
        attributes=sorted(attributes.values(), key=lambda f: f.kind != AttributeKind.spec),
        currency=span[3],
        min_price_amount=span[1],
        max_price_amount=span[2],
        total=span[0],
    )
    if key is not None:
        await caching.store(key, facets.model_dump(mode="json"))
    return facets
