"""The public storefront API: the tree, the product list with query filters, product pages."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import catalog
from mercato.core.db import uow
from tests.factories.catalog import (
    SYSTEM,
    make_brand,
    make_category,
    make_listed_product,
    make_priced_product,
)

S = "/api/v1/catalog"


async def test_lists_filters_and_pages_products_on_sale(client: AsyncClient) -> None:
    clothing = await make_category("服装")
    men = await make_category("男装", parent_id=clothing.id)
    brand = await make_brand("Acme")
    tee = await make_listed_product(title="T恤", category_id=men.id, brand_id=brand.id, price_amount=5900)
    dress = await make_listed_product(
        title="裙子", category_id=clothing.id, price_amount=19900, specs={"colour": ["白色"]}
    )
    towel = await make_listed_product(title="毛巾", price_amount=1900)  # red and black
    await make_priced_product(title="草稿", category_id=men.id)

    by_category = await client.get(f"{S}/products", params={"category_id": clothing.id, "sort": "price_asc"})
    by_attr = await client.get(f"{S}/products", params=[("attr", "colour:白色"), ("attr", "colour:黑色")])
    by_brand = await client.get(f"{S}/products", params={"brand_id": brand.id, "price_max": 6000})
    paged = await client.get(f"{S}/products", params={"page": 2, "page_size": 2})

    assert [p["id"] for p in by_category.json()["items"]] == [tee.id, dress.id]
    assert [p["id"] for p in by_attr.json()["items"]] == [towel.id, dress.id, tee.id]
    assert [p["id"] for p in by_brand.json()["items"]] == [tee.id]
    assert {k: paged.json()[k] for k in ("page", "page_size", "total")} == {
        "page": 2,
        "page_size": 2,
        "total": 3,
    }
    assert [p["title"] for p in paged.json()["items"]] == ["T恤"]
    item = by_brand.json()["items"][0]
    assert (item["min_price_amount"], item["currency"], item["in_stock"], item["image"]) == (
        5900,
        "CNY",
        False,
        None,
    )


async def test_the_page_by_id_and_by_slug_with_availability(client: AsyncClient) -> None:
    product = await make_listed_product(slug="cotton-tee", price_amount=5900)
    async with uow() as session:
        skus = await catalog.list_skus(session, product_id=product.id)
        await catalog.apply_stock_level(session, sku_id=skus[1].id, available=3, version=1)

    by_id = await client.get(f"{S}/products/{product.id}")
    by_slug = await client.get(f"{S}/products/by-slug/cotton-tee")

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    assert [(s["spec"], s["price_amount"], s["available_quantity"]) for s in by_id.json()["skus"]] == [
        ({"colour": "红色"}, 5900, 0),
        ({"colour": "黑色"}, 5900, 3),
    ]
    assert by_id.json()["in_stock"] is True


async def test_a_product_that_is_not_on_sale_is_404(client: AsyncClient) -> None:
    draft, _ = await make_priced_product(slug="draft-tee")
    listed = await make_listed_product()
    async with uow() as session:
        await catalog.take_off_sale(session, product_id=listed.id, data=catalog.TakeOffSale(), actor=SYSTEM)

    responses = [
        await client.get(f"{S}/products/{draft.id}"),
        await client.get(f"{S}/products/by-slug/draft-tee"),
        await client.get(f"{S}/products/{listed.id}"),
        await client.get(f"{S}/products/999"),
    ]

    assert [(r.status_code, r.json()["code"]) for r in responses] == [(404, "catalog.product_not_found")] * 4


async def test_the_category_tree_hides_inactive_branches(client: AsyncClient) -> None:
    clothing = await make_category("服装")
    await make_category("男装", parent_id=clothing.id)
    await make_category("停用", is_active=False)

    response = await client.get(f"{S}/categories")

    assert [(n["name"], [c["name"] for c in n["children"]]) for n in response.json()] == [("服装", ["男装"])]
    assert "is_high_risk" not in response.json()[0]


async def test_bad_queries_are_422_or_404(client: AsyncClient) -> None:
    inactive = await make_category("停用", is_active=False)

    responses = [
        await client.get(f"{S}/products", params={"page_size": 61}),
        await client.get(f"{S}/products", params={"page": 0}),
        await client.get(f"{S}/products", params={"sort": "random"}),
        await client.get(f"{S}/products", params={"attr": "no-colon"}),
        await client.get(f"{S}/products", params={"q": "a\x00b"}),
        await client.get(f"{S}/products", params={"price_min": -1}),
        await client.get(f"{S}/products", params={"category_id": inactive.id}),
        await client.get(f"{S}/products/by-slug/Not_A_Slug"),
        await client.get(f"{S}/products/{2**63}"),
        await client.get(f"{S}/products", params={"brand_id": 0}),
        await client.get(f"{S}/products", params=[("attr", f"colour:{n}") for n in range(21)]),
    ]

    assert [(r.status_code, r.json()["code"]) for r in responses] == [
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
        (422, "catalog.invalid_filter"),
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
        (404, "catalog.category_not_found"),
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
        (422, "core.validation_failed"),
    ]
