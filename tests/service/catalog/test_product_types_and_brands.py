"""Product types with attributes and values, and brands: uniqueness, values in use, audit."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import catalog
from mercato.catalog.models import AttributeValue, Brand
from mercato.core.db import uow
from tests.factories.catalog import (
    SYSTEM,
    audit_actions,
    count,
    make_brand,
    make_product,
    make_product_type,
    set_specs,
)


async def test_a_type_lists_its_attributes_and_values_in_order() -> None:
    product_type = await make_product_type("服装")

    assert [(a.code, a.kind.value, [v.value for v in a.values]) for a in product_type.attributes] == [
        ("colour", "spec", ["红色", "黑色", "白色"]),
        ("size", "spec", ["S", "M", "L"]),
        ("material", "param", ["棉", "麻"]),
        ("origin", "param", []),
    ]


async def test_names_codes_and_values_are_unique() -> None:
    product_type = await make_product_type("服装")
    colour = product_type.attributes[0]

    with pytest.raises(catalog.NameTaken):
        await make_product_type("服装")
    with pytest.raises(catalog.AttributeCodeTaken):
        async with uow() as session:
            await catalog.add_attribute(
                session,
                product_type_id=product_type.id,
                data=catalog.AttributeCreate(code="colour", name="色", kind=catalog.AttributeKind.spec),
                actor=SYSTEM,
            )
    with pytest.raises(catalog.AttributeValueTaken):
        async with uow() as session:
            await catalog.add_attribute_value(
                session,
                product_type_id=product_type.id,
                attribute_id=colour.id,
                data=catalog.AttributeValueWrite(value="红色"),
                actor=SYSTEM,
            )

    assert await count(AttributeValue) == 8


async def test_a_value_used_by_an_active_sku_or_a_param_cannot_be_removed() -> None:
    product_type = await make_product_type()
    colour, _size, material, _origin = product_type.attributes
    product = await make_product(product_type_id=product_type.id, params={"material": "棉"})
    await set_specs(product.id, {"colour": ["红色"]})
    red, black = colour.values[0], colour.values[1]
    cotton = material.values[0]

    for attribute, value in ((colour, red), (material, cotton)):
        with pytest.raises(catalog.AttributeValueInUse):
            async with uow() as session:
                await catalog.remove_attribute_value(
                    session,
                    product_type_id=product_type.id,
                    attribute_id=attribute.id,
                    value_id=value.id,
                    actor=SYSTEM,
                )
    async with uow() as session:
        after = await catalog.remove_attribute_value(
            session, product_type_id=product_type.id, attribute_id=colour.id, value_id=black.id, actor=SYSTEM
        )

    assert [v.value for v in after.values] == ["红色", "白色"]
    assert (await audit_actions())[-1] == "product_type.remove_attribute_value"


async def test_an_attribute_of_another_type_is_not_found() -> None:
    first = await make_product_type()
    second = await make_product_type()

    with pytest.raises(catalog.AttributeNotFound):
        async with uow() as session:
            await catalog.add_attribute_value(
                session,
                product_type_id=second.id,
                attribute_id=first.attributes[0].id,
                data=catalog.AttributeValueWrite(value="紫色"),
                actor=SYSTEM,
            )


async def test_brands_have_unique_names_and_slugs_and_clear_nullable_fields() -> None:
    brand = await make_brand("李宁", slug="li-ning")
    async with uow() as session:
        await catalog.update_brand(
            session,
            brand_id=brand.id,
            data=catalog.BrandUpdate(authorization_expires_on=dt.date(2027, 6, 30)),
            actor=SYSTEM,
        )

    with pytest.raises(catalog.NameTaken):
        await make_brand("李宁")
    with pytest.raises(catalog.SlugTaken):
        await make_brand("安踏", slug="li-ning")
    async with uow() as session:
        cleared = await catalog.update_brand(
            session,
            brand_id=brand.id,
            data=catalog.BrandUpdate(authorization_expires_on=None, name_en="Li-Ning"),
            actor=SYSTEM,
        )

    assert (cleared.authorization_expires_on, cleared.name_en, cleared.slug) == (None, "Li-Ning", "li-ning")
    assert await count(Brand) == 1


async def test_a_brand_in_use_cannot_be_deleted() -> None:
    used = await make_brand()
    unused = await make_brand()
    await make_product(brand_id=used.id)

    with pytest.raises(catalog.BrandInUse):
        async with uow() as session:
            await catalog.delete_brand(session, brand_id=used.id, actor=SYSTEM)
    async with uow() as session:
        await catalog.delete_brand(session, brand_id=unused.id, actor=SYSTEM)

    assert await count(Brand) == 1


async def test_brands_are_listed_by_name_with_search_and_pages() -> None:
    for name in ("Zeta", "alpha", "Beta", "中文"):
        await make_brand(name)

    async with uow(write=False) as session:
        first = await catalog.list_brands(session, limit=2)
        second = await catalog.list_brands(session, limit=2, cursor=first.next_cursor)
        search = await catalog.list_brands(session, query="ET")

    assert [b.name for b in first.items] == ["Beta", "Zeta"]
    assert [b.name for b in second.items] == ["alpha", "中文"]
    assert second.next_cursor is None
    assert [b.name for b in search.items] == ["Beta", "Zeta"]
