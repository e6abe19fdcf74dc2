"""Product export over the API: the import's columns, filters, file types; exporting then
importing the file unchanged changes nothing."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import Product, Sku
from mercato.core import tabular
from mercato.core.db import uow
from tests.factories.catalog import SYSTEM, make_category, make_listed_product, make_product, set_specs
from tests.factories.spreadsheets import (
    PRODUCTS_EXPORT_URL,
    PRODUCTS_URL,
    csv_bytes,
    editor,
    make_shop,
    product_row,
    products_by_slug,
    snapshot,
    upload,
)

HEADER = (
    "product_slug,title,title_en,subtitle,category,brand,product_type,description_html,tags,params,spec,"
    "sku_code,barcode,price,market_price,cost_price,weight_grams,min_order_quantity"
)


async def test_exports_csv_in_the_import_columns(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    texts = {"subtitle": "=SUM(A1)", "description_html": '<p>"软", 舒适</p>'}
    rows = [
        product_row(**texts),
        product_row(
            **texts,
            spec="colour=黑色|size=M",
            sku_code="TEE-BLK-M",
            price="109.5",
            market_price="",
            barcode="",
        ),
    ]
    assert (await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)).status_code == 200

    response = await client.get(PRODUCTS_EXPORT_URL, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="products-\d{8}-\d{6}\.csv"', response.headers["content-disposition"]
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert response.content.decode("utf-8-sig").split("\r\n") == [
        HEADER,
        'tee,纯棉圆领T恤,Cotton tee,\'=SUM(A1),tops,acme,服装,"<p>""软"", 舒适</p>",新品|纯棉,'
        "material=棉|origin=新疆,colour=红色|size=M,TEE-RED-M,6901234567890,99.00,129.00,40.50,200,1",
        'tee,纯棉圆领T恤,Cotton tee,\'=SUM(A1),tops,acme,服装,"<p>""软"", 舒适</p>",新品|纯棉,'
        "material=棉|origin=新疆,colour=黑色|size=M,TEE-BLK-M,,109.50,,40.50,200,1",
        "",
    ]


async def test_exports_xlsx(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    await upload(client, PRODUCTS_URL, csv_bytes([product_row()]), headers)

    response = await client.get(PRODUCTS_EXPORT_URL, params={"format": "xlsx"}, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == tabular.XLSX_MEDIA_TYPE
    assert re.fullmatch(
        r'attachment; filename="products-\d{8}-\d{6}\.xlsx"', response.headers["content-disposition"]
    )
    table = tabular.read_table(response.content, filename="export.xlsx")
    assert ",".join(table.header) == HEADER
    assert [row.cells for row in table.rows] == [
        product_row(price="99", market_price="129", cost_price="40.5"),
    ]


async def test_filters_by_status_and_category_subtree(client: AsyncClient) -> None:
    shop = await make_shop()
    headers = await editor()
    await upload(client, PRODUCTS_URL, csv_bytes([product_row()]), headers)  # draft, in tops
    listed = await make_listed_product(
        category_id=shop.category.id, product_type_id=shop.product_type.id, specs={"colour": ["红色"]}
    )
    elsewhere = await make_category("家居", slug="home")
    await make_listed_product(category_id=elsewhere.id, product_type_id=shop.product_type.id)

    async def slugs(**params: object) -> list[str]:
        response = await client.get(PRODUCTS_EXPORT_URL, params=params, headers=headers)
        assert response.status_code == 200
        return [
            row.get("product_slug") for row in tabular.read_table(response.content, filename="e.csv").rows
        ]

    parent_id = shop.category.parent_id
    assert await slugs(status="on_sale", category_id=parent_id) == [listed.slug]
    assert await slugs(category_id=parent_id) == ["tee", listed.slug]
    assert await slugs(status="draft") == ["tee"]


async def test_a_shop_with_no_products_exports_only_the_header(client: AsyncClient) -> None:
    headers = await editor()

    response = await client.get(PRODUCTS_EXPORT_URL, headers=headers)

    assert response.status_code == 200
    assert response.content == b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n"


async def catalog_state() -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    async with uow(write=False) as session:
        products = [
            catalog.ProductRead.model_validate(row).model_dump()
            for row in (await session.execute(select(Product).order_by(Product.id))).scalars()
        ]
        skus = [
            {column: getattr(row, column) for column in Sku.__table__.columns.keys()}  # noqa: SIM118
            for row in (await session.execute(select(Sku).order_by(Sku.id))).scalars()
        ]
    return products, skus


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
async def test_importing_an_unchanged_export_changes_nothing(client: AsyncClient, file_format: str) -> None:
    shop = await make_shop()
    headers = await editor()
    texts = {"subtitle": "=cmd|' /C calc'!A0", "description_html": '<p>第一行\n第二行, "引号"</p>'}
    rows = [
        product_row(**texts),
        product_row(
            **texts,
            spec="colour=黑色|size=M",
            sku_code="TEE-BLK-M",
            price="109.5",
            market_price="",
            barcode="",
        ),
        product_row(
            product_slug="mug",
            title="+马克杯",
            brand="",
            spec="",
            sku_code="00123",
            params="",
            tags="",
            price="0.01",
            cost_price="0",
            barcode="",
        ),
    ]
    assert (await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)).status_code == 200
    listed = await make_listed_product(category_id=shop.category.id, product_type_id=shop.product_type.id)
    unpriced = await make_product(
        category_id=shop.category.id, product_type_id=shop.product_type.id, slug="draft"
    )
    await set_specs(unpriced.id, {"size": ["S", "M"]})
    await set_specs(unpriced.id, {"size": ["S"]})  # M is disabled: not exported
    async with uow() as session:
        [first, *_] = await catalog.list_skus(session, product_id=listed.id)
        await catalog.update_sku(
            session,
            sku_id=first.id,
            data=catalog.SkuUpdate(
                price_breaks=[catalog.PriceBreakWrite(min_quantity=10, unit_price_amount=9000)]
            ),
            actor=SYSTEM,
        )
    exported = await client.get(PRODUCTS_EXPORT_URL, params={"format": file_format}, headers=headers)
    assert exported.status_code == 200
    assert [
        row.get("product_slug")
        for row in tabular.read_table(exported.content, filename=f"e.{file_format}").rows
    ] == [
        "tee",
        "tee",
        "mug",
        listed.slug,
        listed.slug,
        "draft",
    ]
    state, before = await catalog_state(), await snapshot()

    response = await upload(
        client,
        PRODUCTS_URL,
        exported.content,
        headers,
        filename=f"products.{file_format}",
        content_type=tabular.FileFormat(file_format).media_type,
    )

    assert response.status_code == 200, response.text
    assert response.json() == {
        "rows": 6,
        "products_created": 0,
        "products_updated": 0,
        "skus_created": 0,
        "skus_updated": 0,
        "dry_run": False,
    }
    assert await catalog_state() == state
    assert await snapshot() == before
    again = await client.get(PRODUCTS_EXPORT_URL, params={"format": file_format}, headers=headers)
    assert [r.cells for r in tabular.read_table(again.content, filename=f"e.{file_format}").rows] == [
        r.cells for r in tabular.read_table(exported.content, filename=f"e.{file_format}").rows
    ]
    products = await products_by_slug()
    assert (products["mug"].title, products["tee"].subtitle) == ("+马克杯", "=cmd|' /C calc'!A0")
