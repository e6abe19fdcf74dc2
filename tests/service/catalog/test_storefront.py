"""Storefront reads: filters and sorts over products on sale, product pages, the cache and its
invalidation."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import update

from mercato import catalog
from mercato.catalog.models import Product
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.catalog import (
    SYSTEM,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
    make_product_type,
    price_sku,
)


@dataclass
class Shop:
    clothing: catalog.CategoryRead
    men: catalog.CategoryRead
    shirts: catalog.CategoryRead
    home: catalog.CategoryRead
    acme: catalog.BrandRead
    other: catalog.BrandRead
    ids: dict[str, int]


async def shop() -> Shop:
    """Four products on sale, published a minute apart (tee, shirt, dress, towel), plus a draft."""
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    shirts = await make_category("衬衫", parent_id=men.id)
    women = await make_category("女装", parent_id=clothing.id)
    home = await make_category("家居")
    acme, other = await make_brand("Acme"), await make_brand("Other")
    product_type = await make_product_type()
    ids: dict[str, int] = {}
    listed = [
        ("tee", "纯棉T恤 Tee", men.id, acme.id, 5900, {"colour": ["红色", "黑色"]}, {"material": "棉"}),
        (
            "shirt",
            "牛津纺衬衫 Oxford shirt",
            shirts.id,
            acme.id,
            15900,
            {"colour": ["白色"]},
            {"material": "棉"},
        ),
        (
            "dress",
            "亚麻连衣裙 Linen dress",
            women.id,
            other.id,
            29900,
            {"colour": ["黑色"]},
            {"material": "麻"},
        ),
        ("towel", "毛巾 Towel", home.id, None, 1900, {}, {"origin": "高阳"}),
    ]
    for name, title, category_id, brand_id, price, specs, params in listed:
        product = await make_listed_product(
            title=title,
            category_id=category_id,
            brand_id=brand_id,
            product_type_id=product_type.id,
            price_amount=price,
            specs=specs,
            params=params,
        )
        ids[name] = product.id
        clock.advance(dt.timedelta(minutes=1))
    draft, _ = await make_priced_product(title="草稿T恤", category_id=men.id, product_type_id=product_type.id)
    ids["draft"] = draft.id
    return Shop(clothing, men, shirts, home, acme, other, ids)


async def listed(**filters: object) -> list[int]:
    async with uow(write=False) as session:
        page = await catalog.list_storefront_products(session, **filters)  # type: ignore[arg-type]
    return [item.id for item in page.items]


async def detail(product_id: int) -> catalog.ProductDetail:
    async with uow(write=False) as session:
        return await catalog.get_storefront_product(session, product_id=product_id)


async def test_lists_products_on_sale_newest_first() -> None:
    s = await shop()

    assert await listed() == [s.ids["towel"], s.ids["dress"], s.ids["shirt"], s.ids["tee"]]


async def test_a_category_filter_includes_its_descendants() -> None:
    s = await shop()

    assert await listed(category_id=s.clothing.id) == [s.ids["dress"], s.ids["shirt"], s.ids["tee"]]
    assert await listed(category_id=s.men.id) == [s.ids["shirt"], s.ids["tee"]]
    assert await listed(category_id=s.shirts.id) == [s.ids["shirt"]]


async def test_brand_and_price_filters() -> None:
    s = await shop()

    assert await listed(brand_ids=[s.acme.id]) == [s.ids["shirt"], s.ids["tee"]]
    assert await listed(brand_ids=[s.acme.id, s.other.id], price_min=10000) == [
        s.ids["dress"],
        s.ids["shirt"],
    ]
    assert await listed(price_min=5900, price_max=15900) == [s.ids["shirt"], s.ids["tee"]]


@pytest.mark.parametrize(
    ("_case", "attributes", "expected"),
    [
        ("a spec value of an active SKU", ["colour:黑色"], ["dress", "tee"]),
        ("two values of one spec are alternatives", ["colour:白色", "colour:红色"], ["shirt", "tee"]),
        ("a parameter value", ["material:麻"], ["dress"]),
        ("different attributes must all match", ["material:棉", "colour:白色"], ["shirt"]),
        ("a free-text parameter", ["origin:高阳"], ["towel"]),
        ("a prefix of a value does not match", ["colour:红"], []),
        ("values compare exactly", ["material:COTTON"], []),
    ],
)
async def test_attribute_filters(_case: str, attributes: list[str], expected: list[str]) -> None:
    s = await shop()

    assert await listed(attributes=attributes) == [s.ids[name] for name in expected]


async def test_a_disabled_skus_spec_value_no_longer_matches() -> None:
    s = await shop()
    async with uow(write=False) as session:
        red = next(
            sku
            for sku in await catalog.list_skus(session, product_id=s.ids["tee"])
            if sku.spec == {"colour": "红色"}
        )
    async with uow() as session:
        await catalog.update_sku(
            session, sku_id=red.id, data=catalog.SkuUpdate(status=catalog.SkuStatus.disabled), actor=SYSTEM
        )

    assert await listed(attributes=["colour:红色"]) == []


async def test_a_malformed_attribute_filter_is_a_field_error() -> None:
    with pytest.raises(catalog.AttributeFilterInvalid) as refused:
        await listed(attributes=["colour:红色", "no-colon", "Colour:红色"])

    assert [f.loc for f in refused.value.fields] == [("query", "attr", 1), ("query", "attr", 2)]


async def test_in_stock_follows_the_stock_read_model() -> None:
    s = await shop()
    async with uow(write=False) as session:
        shirt_sku = (await catalog.list_skus(session, product_id=s.ids["shirt"]))[0]
    async with uow() as session:
        await catalog.apply_stock_level(session, sku_id=shirt_sku.id, available=7, version=1)

    assert await listed(in_stock=True) == [s.ids["shirt"]]
    assert await listed(in_stock=False) == [s.ids["towel"], s.ids["dress"], s.ids["tee"]]


async def test_text_query_matches_chinese_and_english_titles() -> None:
    s = await shop()

    assert await listed(query="衬衫") == [s.ids["shirt"]]
    assert await listed(query="LINEN") == [s.ids["dress"]]
    assert await listed(query="100%") == []


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (catalog.ProductSort.price_asc, ["towel", "tee", "shirt", "dress"]),
        (catalog.ProductSort.price_desc, ["dress", "shirt", "tee", "towel"]),
        (catalog.ProductSort.sales, ["shirt", "towel", "tee", "dress"]),
        (catalog.ProductSort.newest, ["towel", "dress", "shirt", "tee"]),
    ],
)
async def test_sorts(sort: catalog.ProductSort, expected: list[str]) -> None:
    s = await shop()
    async with uow() as session:
        for name, sales in (("shirt", 30), ("tee", 12), ("towel", 12)):
            await session.execute(update(Product).where(Product.id == s.ids[name]).values(sales_count=sales))

    # ties (tee and towel, 12 sales each) break by id, newest first
    assert await listed(sort=sort) == [s.ids[name] for name in expected]


async def test_offset_pages_with_a_total() -> None:
    s = await shop()

    async with uow(write=False) as session:
        second = await catalog.list_storefront_products(session, page=2, page_size=3)

    assert ([item.id for item in second.items], second.page, second.page_size, second.total) == (
        [s.ids["tee"]],
        2,
        3,
        4,
    )


async def test_the_page_shows_skus_prices_availability_params_and_breadcrumbs() -> None:
    s = await shop()
    async with uow(write=False) as session:
        red, black = await catalog.list_skus(session, product_id=s.ids["tee"])
    await price_sku(
        red.id, 5900, market_price_amount=7900, price_breaks=[{"min_quantity": 10, "unit_price_amount": 5000}]
    )
    async with uow() as session:
        await catalog.apply_stock_level(session, sku_id=black.id, available=12, version=3)

    page = await detail(s.ids["tee"])

    assert [(b.name, b.slug) for b in page.breadcrumbs] == [
        ("服装", f"c-{s.clothing.id}"),
        ("男装", f"c-{s.men.id}"),
    ]
    assert page.brand is not None
    assert page.brand.name == "Acme"
    assert [(p.code, p.name, p.value) for p in page.params] == [("material", "材质", "棉")]
    assert [(o.code, [(v.value, v.value_en) for v in o.values]) for o in page.specs] == [
        ("colour", [("红色", "Red"), ("黑色", "Black")])
    ]
    assert [
        (
            k.spec,
            k.price_amount,
            k.market_price_amount,
            k.available_quantity,
            [b.min_quantity for b in k.price_breaks],
        )
        for k in page.skus
    ] == [
        ({"colour": "红色"}, 5900, 7900, 0, [10]),
        ({"colour": "黑色"}, 5900, None, 12, []),
    ]
    assert (page.currency, page.min_price_amount, page.in_stock) == ("CNY", 5900, True)


async def test_products_not_on_sale_have_no_page() -> None:
    s = await shop()

    with pytest.raises(catalog.ProductNotFound):
        await detail(s.ids["draft"])
    with pytest.raises(catalog.ProductNotFound):
        async with uow(write=False) as session:
            await catalog.get_storefront_product_by_slug(session, slug=f"p-{s.ids['draft']}")


async def test_pages_are_cached_and_a_price_change_is_visible_on_the_next_read() -> None:
    s = await shop()
    tee = s.ids["tee"]
    first = await detail(tee)
    async with uow() as session:  # behind the services' back: the cached page does not see it
        await session.execute(update(Product).where(Product.id == tee).values(title="改了但没失效"))
    cached = await detail(tee)
    async with uow(write=False) as session:
        sku = (await catalog.list_skus(session, product_id=tee))[0]

    await price_sku(sku.id, 4900)
    fresh = await detail(tee)

    assert first.title == cached.title == "纯棉T恤 Tee"
    assert fresh.title == "改了但没失效"
    assert [k.price_amount for k in fresh.skus] == [4900, 5900]
    assert fresh.min_price_amount == 4900


async def test_stock_changes_and_category_renames_invalidate_the_page() -> None:
    s = await shop()
    tee = s.ids["tee"]
    await detail(tee)
    async with uow(write=False) as session:
        sku = (await catalog.list_skus(session, product_id=tee))[0]

    async with uow() as session:
        await catalog.apply_stock_level(session, sku_id=sku.id, available=5, version=9)
    after_stock = await detail(tee)
    async with uow() as session:
        await catalog.update_category(
            session, category_id=s.men.id, data=catalog.CategoryUpdate(name="男士"), actor=SYSTEM
        )
    after_rename = await detail(tee)

    assert after_stock.skus[0].available_quantity == 5
    assert [b.name for b in after_rename.breadcrumbs] == ["服装", "男士"]


async def test_a_product_taken_off_sale_disappears_from_its_cached_page() -> None:
    s = await shop()
    await detail(s.ids["tee"])

    async with uow() as session:
        await catalog.take_off_sale(
            session, product_id=s.ids["tee"], data=catalog.TakeOffSale(), actor=SYSTEM
        )

    with pytest.raises(catalog.ProductNotFound):
        await detail(s.ids["tee"])


async def cards(**filters: object) -> list[tuple[str, int]]:
    async with uow(write=False) as session:
        page = await catalog.list_storefront_products(session, **filters)  # type: ignore[arg-type]
    return [(item.title, item.min_price_amount) for item in page.items]


async def test_list_pages_are_cached_until_a_product_changes_through_the_services() -> None:
    s = await shop()
    first = await cards(category_id=s.men.id)
    async with uow() as session:  # behind the services' back: the cached page does not see it
        await session.execute(update(Product).where(Product.id == s.ids["tee"]).values(title="改了但没失效"))
    cached = await cards(category_id=s.men.id)
    other_query = await cards(category_id=s.men.id, page_size=1)
    async with uow(write=False) as session:
        sku = (await catalog.list_skus(session, product_id=s.ids["tee"]))[0]

    await price_sku(sku.id, 4900)
    after_price = await cards(category_id=s.men.id)
    async with uow() as session:
        await catalog.take_off_sale(
            session, product_id=s.ids["shirt"], data=catalog.TakeOffSale(), actor=SYSTEM
        )
    after_off_sale = await cards(category_id=s.men.id)

    assert first == cached == [("牛津纺衬衫 Oxford shirt", 15900), ("纯棉T恤 Tee", 5900)]
    assert other_query == [("牛津纺衬衫 Oxford shirt", 15900)]
    assert after_price == [("牛津纺衬衫 Oxford shirt", 15900), ("改了但没失效", 4900)]
    assert after_off_sale == [("改了但没失效", 4900)]


async def test_a_category_change_retires_cached_list_pages() -> None:
    s = await shop()
    before = await listed(category_id=s.clothing.id)
    men_before = await listed(category_id=s.men.id)  # now cached

    async with uow() as session:
        await catalog.update_category(
            session, category_id=s.men.id, data=catalog.CategoryUpdate(is_active=False), actor=SYSTEM
        )
    with pytest.raises(catalog.CategoryNotFound):
        await listed(category_id=s.men.id)

    assert before == [s.ids["dress"], s.ids["shirt"], s.ids["tee"]]
    assert men_before == [s.ids["shirt"], s.ids["tee"]]


async def test_the_tree_shows_active_categories_and_follows_changes() -> None:
    clothing = await make_category("服装")
    await make_category("男装", parent_id=clothing.id)
    hidden = await make_category("隐藏", is_active=False)
    await make_category("隐藏的子类", parent_id=hidden.id)
    async with uow(write=False) as session:
        before = await catalog.get_storefront_category_tree(session)

    await make_category("女装", parent_id=clothing.id)
    async with uow(write=False) as session:
        after = await catalog.get_storefront_category_tree(session)

    assert [(n.name, [c.name for c in n.children]) for n in before] == [("服装", ["男装"])]
    assert [(n.name, [c.name for c in n.children]) for n in after] == [("服装", ["女装", "男装"])]
