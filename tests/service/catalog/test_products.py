"""Products: drafts with sanitised descriptions, checked params, slugs, presale; edits and their audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import Product
from mercato.core.db import uow
from mercato.identity.models import AuditEntry
from tests.factories.catalog import (
    SYSTEM,
    audit_actions,
    count,
    make_brand,
    make_category,
    make_product,
    make_product_type,
)


async def test_a_new_product_is_a_draft_in_the_shops_currency_with_an_id_slug() -> None:
    product = await make_product(tags=["夏季", "夏季", "纯棉"], params={"material": "棉", "origin": "杭州"})

    assert (product.status, product.currency, product.slug) == ("draft", "CNY", f"p-{product.id}")
    assert (product.min_price_amount, product.max_price_amount, product.in_stock) == (0, 0, False)
    assert product.tags == ["夏季", "纯棉"]
    assert product.params == {"material": "棉", "origin": "杭州"}
    assert await audit_actions() == [
        "category.create",
        "product_type.create",
        "product.create",
    ]


async def test_the_description_is_sanitised() -> None:
    """Links get rel="nofollow noopener"; images only from the shop's own media (ADR 0030)."""
    product = await make_product(
        description_html='<p onclick="steal()">好<script>alert(1)</script><a href="javascript:x()">链接</a>'
        '<a href="https://example.com">官网</a><img src="https://example.com/a.jpg" onerror="x()">'
        '<img src="/media/products/1/a.jpg"></p>'
    )

    assert product.description_html == (
        '<p>好<a rel="nofollow noopener">链接</a>'
        '<a href="https://example.com" rel="nofollow noopener">官网</a>'
        '<img><img src="/media/products/1/a.jpg"></p>'
    )


async def test_params_must_be_parameters_of_the_type_with_listed_values() -> None:
    product_type = await make_product_type()

    with pytest.raises(catalog.InvalidAttributes) as refused:
        await make_product(
            product_type_id=product_type.id, params={"material": "丝", "colour": "红色", "x": "1"}
        )

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "params", "material"), "catalog.unknown_attribute_value"),
        (("body", "params", "colour"), "catalog.unknown_attribute"),  # a spec, not a parameter
        (("body", "params", "x"), "catalog.unknown_attribute"),
    ]
    assert await count(Product) == 0


@pytest.mark.parametrize("_case", ["category", "product type", "brand"])
async def test_an_unknown_reference_is_404_with_a_field_error_and_creates_nothing(_case: str) -> None:
    category = await make_category()
    product_type = await make_product_type()
    data: dict[str, Any] = {"category_id": category.id, "product_type_id": product_type.id, "brand_id": None}
    field = {"category": "category_id", "product type": "product_type_id", "brand": "brand_id"}[_case]
    data[field] = 999
    audit_before = await audit_actions()

    with pytest.raises(
        (catalog.CategoryNotFound, catalog.ProductTypeNotFound, catalog.BrandNotFound)
    ) as refused:
        await make_product(**data)

    assert refused.value.code == f"catalog.{_case.replace(' ', '_')}_not_found"
    assert [f.loc for f in refused.value.fields] == [("body", field)]
    assert await count(Product) == 0
    assert await audit_actions() == audit_before


async def test_presale_needs_a_shipping_date() -> None:
    with pytest.raises(catalog.PresaleDateRequired):
        await make_product(is_presale=True)

    presale = await make_product(is_presale=True, presale_ships_on=dt.date(2026, 12, 20))
    regular = await make_product(presale_ships_on=dt.date(2026, 12, 20))

    assert (presale.is_presale, presale.presale_ships_on) == (True, dt.date(2026, 12, 20))
    assert regular.presale_ships_on is None


async def test_slugs_are_unique_and_the_id_form_is_reserved() -> None:
    await make_product(slug="cotton-tee")

    with pytest.raises(catalog.SlugTaken):
        await make_product(slug="cotton-tee")
    with pytest.raises(catalog.SlugReserved):
        await make_product(slug="p-99")

    assert await count(Product) == 1


async def test_an_update_changes_only_what_is_sent_and_audits_the_difference() -> None:
    brand = await make_brand()
    product = await make_product(brand_id=brand.id, subtitle="旧")
    other = await make_category("新类目")

    async with uow() as session:
        updated = await catalog.update_product(
            session,
            product_id=product.id,
            data=catalog.ProductUpdate(
                subtitle="新", category_id=other.id, brand_id=None, slug=f"p-{product.id}"
            ),
            actor=SYSTEM,
        )

    assert (updated.subtitle, updated.category_id, updated.brand_id, updated.title) == (
        "新",
        other.id,
        None,
        product.title,
    )
    async with uow(write=False) as session:
        entry = (
            (await session.execute(select(AuditEntry).where(AuditEntry.action == "product.update")))
            .scalars()
            .one()
        )
    assert entry.before == {"category_id": product.category_id, "brand_id": brand.id, "subtitle": "旧"}
    assert entry.after == {"category_id": other.id, "brand_id": None, "subtitle": "新"}


async def test_an_update_that_changes_nothing_records_nothing() -> None:
    product = await make_product(subtitle="同")
    before = await audit_actions()

    async with uow() as session:
        await catalog.update_product(
            session, product_id=product.id, data=catalog.ProductUpdate(subtitle="同"), actor=SYSTEM
        )

    assert await audit_actions() == before


async def test_admin_list_filters_by_status_category_subtree_and_title() -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    tee = await make_product(title="T恤", category_id=men.id)
    towel = await make_product(title="Towel 毛巾")

    async with uow(write=False) as session:
        by_category = await catalog.list_products(session, category_id=clothing.id)
        by_query = await catalog.list_products(session, query="towel")
        by_status = await catalog.list_products(session, status=catalog.ListingStatus.on_sale)
        first = await catalog.list_products(session, limit=1)
        second = await catalog.list_products(session, limit=1, cursor=first.next_cursor)

    assert [p.id for p in by_category.items] == [tee.id]
    assert [p.id for p in by_query.items] == [towel.id]
    assert by_status.items == []
    assert ([p.id for p in first.items], [p.id for p in second.items]) == ([towel.id], [tee.id])
    assert second.next_cursor is None
