"""Storefront facets (the brands, filterable attributes and price span a category or search page
offers as filters) and the sitemap's product list: only products on sale count."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import catalog
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.catalog import (
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product_type,
)


async def facets(**kwargs: object) -> catalog.StorefrontFacets:
    async with uow(write=False) as session:
        return await catalog.get_storefront_facets(session, **kwargs)  # type: ignore[arg-type]


async def test_a_category_offers_its_brands_with_counts_its_attributes_and_price_span() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    home = await make_category("家居")
    acme, other, unused = await make_brand("Acme"), await make_brand("Other"), await make_brand("Unused")
    product_type = await make_product_type()
    pt = product_type.id
    await make_listed_product(
        title="T恤", category_id=men.id, brand_id=acme.id, price_amount=5900, product_type_id=pt
    )
    await make_listed_product(
        title="衬衫", category_id=men.id, brand_id=acme.id, price_amount=15900, product_type_id=pt
    )
    await make_listed_product(
        title="裙子", category_id=clothing.id, brand_id=other.id, price_amount=29900, product_type_id=pt
    )
    await make_listed_product(
        title="毛巾", category_id=home.id, brand_id=unused.id, price_amount=1900, product_type_id=pt
    )
    await make_priced_product(
        title="草稿", category_id=men.id, brand_id=unused.id, product_type_id=pt
    )  # not on sale

    found = await facets(category_id=clothing.id)

    assert [(b.name, b.count) for b in found.brands] == [("Acme", 2), ("Other", 1)]
    assert [(a.code, a.kind) for a in found.attributes] == [
        ("colour", catalog.AttributeKind.spec),
        ("size", catalog.AttributeKind.spec),
        ("material", catalog.AttributeKind.param),
    ]  # origin is free text: nothing to choose from
    assert [v.value for v in found.attributes[0].values] == ["红色", "黑色", "白色"]
    assert [v.value_en for v in found.attributes[2].values] == ["Cotton", "Linen"]
    assert (found.currency, found.min_price_amount, found.max_price_amount, found.total) == (
        "CNY",
        5900,
        29900,
        3,
    )
    assert [(b.name, b.count) for b in (await facets(category_id=men.id)).brands] == [("Acme", 2)]


async def test_a_search_counts_only_matching_titles() -> None:
    acme = await make_brand("Acme")
    await make_listed_product(title="纯棉T恤 Cotton tee", brand_id=acme.id)
    await make_listed_product(title="亚麻衬衫 Linen shirt")

    found = await facets(query="cotton")

    assert [(b.name, b.count) for b in found.brands] == [("Acme", 1)]
    assert found.total == 1


async def test_nothing_on_sale_offers_nothing() -> None:
    category = await make_category()

    found = await facets(category_id=category.id)

    assert found == catalog.StorefrontFacets(
        brands=[], attributes=[], currency=None, min_price_amount=None, max_price_amount=None, total=0
    )


async def test_an_inactive_category_is_not_found() -> None:
    category = await make_category(is_active=False)

    with pytest.raises(catalog.CategoryNotFound):
        await facets(category_id=category.id)


async def test_the_sitemap_lists_products_on_sale_most_recently_changed_first() -> None:
    first = await make_listed_product(slug="first")
    clock.advance(dt.timedelta(minutes=1))
    await make_listed_product(slug="second")
    await make_priced_product(slug="draft")

    async with uow(write=False) as session:
        listed = await catalog.list_sitemap_products(session)
        limited = await catalog.list_sitemap_products(session, limit=1)

    assert [p.slug for p in listed] == ["second", "first"]
    assert [p.slug for p in limited] == ["second"]
    assert listed[1].updated_at == first.updated_at
