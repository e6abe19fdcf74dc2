"""Product import over the API: a valid CSV or XLSX creates exact products and SKUs; existing
products and SKUs are updated within the catalog's rules; every bad file is refused with the exact
problems per row and changes nothing."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from mercato import catalog
from mercato.catalog.models import ListingStatusChange, Product
from mercato.core import tabular
from mercato.core.db import uow
from tests.factories.catalog import REVIEWER, SYSTEM, make_listed_product, make_priced_product
from tests.factories.spreadsheets import (
    PRODUCTS_EXPORT_URL,
    PRODUCTS_URL,
    Shop,
    audit_entries,
    count,
    csv_bytes,
    editor,
    make_shop,
    product_row,
    products_by_slug,
    skus_by_code,
    snapshot,
    upload,
    xlsx_bytes,
)

MiB = 1024 * 1024
MUG = {
    "product_slug": "mug",
    "title": "陶瓷马克杯",
    "title_en": "",
    "subtitle": "办公室",
    "brand": "",
    "description_html": '<p onclick="x()">杯<script>alert(1)</script></p>',
    "tags": "",
    "params": "",
    "spec": "",
    "sku_code": "MUG-1",
    "barcode": "",
    "price": "35",
    "market_price": "",
    "cost_price": "0",
    "weight_grams": "350",
    "min_order_quantity": "2",
}
CREATED = {
    "rows": 3,
    "products_created": 2,
    "products_updated": 0,
    "skus_created": 3,
    "skus_updated": 0,
    "dry_run": False,
}


def three_rows() -> list[dict[str, str]]:
    return [
        product_row(),
        product_row(
            spec="colour=黑色|size=M",
            sku_code="TEE-BLK-M",
            price="109.50",
            barcode="",
            market_price="",
            cost_price="",
            title="",
            tags="",
        ),
        product_row(**MUG),
    ]


async def assert_three_rows_imported(shop: Shop) -> None:
    products = await products_by_slug()
    assert sorted(products) == ["mug", "tee"]
    tee, mug = products["tee"], products["mug"]
    assert (tee.category_id, tee.brand_id, tee.product_type_id) == (
        shop.category.id,
        shop.brand.id,
        shop.product_type.id,
    )
    assert (mug.category_id, mug.product_type_id) == (shop.category.id, shop.product_type.id)
    assert (tee.status, tee.title, tee.title_en, tee.subtitle, tee.description_html) == (
        catalog.ListingStatus.draft,
        "纯棉圆领T恤",
        "Cotton tee",
        "",
        "<p>柔软</p>",
    )
    assert (tee.tags, tee.params, tee.min_order_quantity, tee.currency) == (
        ["新品", "纯棉"],
        {"material": "棉", "origin": "新疆"},
        1,
        "CNY",
    )
    assert (tee.min_price_amount, tee.max_price_amount, tee.in_stock) == (9900, 10950, False)
    assert (mug.status, mug.title, mug.subtitle, mug.brand_id, mug.description_html) == (
        catalog.ListingStatus.draft,
        "陶瓷马克杯",
        "办公室",
        None,
        "<p>杯</p>",
    )
    assert (mug.tags, mug.params, mug.min_order_quantity) == ([], {}, 2)
    assert (mug.min_price_amount, mug.max_price_amount) == (3500, 3500)
    skus = await skus_by_code()
    assert {
        code: (
            sku.product_id,
            sku.spec,
            sku.spec_key,
            sku.price_amount,
            sku.market_price_amount,
            sku.cost_price_amount,
            sku.barcode,
            sku.weight_grams,
            sku.status,
            sku.currency,
        )
        for code, sku in skus.items()
    } == {
        "TEE-RED-M": (
            tee.id,
            {"colour": "红色", "size": "M"},
            "colour=红色;size=M",
            9900,
            12900,
            4050,
            "6901234567890",
            200,
            "active",
            "CNY",
        ),
        "TEE-BLK-M": (
            tee.id,
            {"colour": "黑色", "size": "M"},
            "colour=黑色;size=M",
            10950,
            None,
            None,
            None,
            200,
            "active",
            "CNY",
        ),
        "MUG-1": (mug.id, {}, "", 3500, None, 0, None, 350, "active", "CNY"),
    }


async def test_creates_draft_products_and_skus_from_csv(client: AsyncClient) -> None:
    shop = await make_shop()
    headers = await editor()
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, csv_bytes(three_rows()), headers, filename="新品.csv")

    assert response.status_code == 200, response.text
    assert response.json() == CREATED
    await assert_three_rows_imported(shop)
    [entry] = await audit_entries("catalog.import")
    assert (entry.actor_label, entry.object_type, entry.object_id) == (
        "importer@example.com",
        "catalog_import",
        "新品.csv",
    )
    assert entry.after == {
        "rows": 3,
        "products_created": 2,
        "products_updated": 0,
        "skus_created": 3,
        "skus_updated": 0,
        "file": "新品.csv",
    }
    after = await snapshot()
    assert after == before | {"Product": 2, "Sku": 3, "AuditEntry": before["AuditEntry"] + 1}


async def test_creates_the_same_from_xlsx_with_numeric_cells(client: AsyncClient) -> None:
    shop = await make_shop()
    headers = await editor()
    rows = []
    for row in three_rows():
        cells: list[object] = []
        for column, value in row.items():
            if column in {"price", "market_price", "cost_price"} and value:
                cells.append(float(value))
            elif column in {"weight_grams", "min_order_quantity"} or (column == "barcode" and value):
                cells.append(int(value))
            else:
                cells.append(value or None)
        rows.append(cells)

    response = await upload(
        client,
        PRODUCTS_URL,
        xlsx_bytes(rows, columns=list(product_row())),
        headers,
        filename="products.xlsx",
        content_type=tabular.XLSX_MEDIA_TYPE,
    )

    assert response.status_code == 200, response.text
    assert response.json() == CREATED
    await assert_three_rows_imported(shop)


async def test_gb18030_csv_from_excel(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    data = csv_bytes([product_row()]).decode().encode("gb18030")

    response = await upload(client, PRODUCTS_URL, data, headers)

    assert response.status_code == 200, response.text
    assert (await products_by_slug())["tee"].title == "纯棉圆领T恤"
    assert (await skus_by_code())["TEE-RED-M"].spec == {"colour": "红色", "size": "M"}


async def test_dry_run_reports_and_changes_nothing(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, csv_bytes(three_rows()), headers, dry_run=True)

    assert response.status_code == 200, response.text
    assert response.json() == CREATED | {"dry_run": True}
    assert await snapshot() == before


async def test_updates_existing_draft_products_and_skus(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    await upload(client, PRODUCTS_URL, csv_bytes(three_rows()), headers)
    tee_id = (await products_by_slug())["tee"].id
    rows = [
        product_row(title="有机棉T恤", price="89.00"),  # product and SKU change
        product_row(
            title="",  # later rows may leave product columns empty
            spec="colour=黑色|size=M",
            sku_code="TEE-BLK-M",
            price="109.50",
            barcode="",
            market_price="",
            cost_price="",
        ),
        product_row(title="有机棉T恤", spec="colour=白色|size=M", sku_code="TEE-WHT-M", price="79.90"),
    ]

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "rows": 3,
        "products_created": 0,
        "products_updated": 1,
        "skus_created": 1,
        "skus_updated": 1,
        "dry_run": False,
    }
    tee = (await products_by_slug())["tee"]
    assert (tee.id, tee.title, tee.status) == (tee_id, "有机棉T恤", catalog.ListingStatus.draft)
    assert (tee.min_price_amount, tee.max_price_amount) == (7990, 10950)
    skus = await skus_by_code()
    assert {code: sku.price_amount for code, sku in skus.items()} == {
        "TEE-RED-M": 8900,
        "TEE-BLK-M": 10950,
        "MUG-1": 3500,
        "TEE-WHT-M": 7990,
    }
    assert skus["TEE-WHT-M"].spec == {"colour": "白色", "size": "M"}
    assert len(await audit_entries("catalog.import")) == 2


async def test_a_file_without_product_columns_updates_only_sku_prices(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    await upload(client, PRODUCTS_URL, csv_bytes(three_rows()), headers)
    before = await products_by_slug()
    data = csv_bytes(
        [{"product_slug": "tee", "sku_code": "TEE-RED-M", "price": "95.00"}],
        columns=["product_slug", "sku_code", "price"],
    )

    response = await upload(client, PRODUCTS_URL, data, headers)

    assert response.status_code == 200, response.text
    assert response.json()["skus_updated"] == 1
    after = await products_by_slug()
    assert after["tee"].model_dump(exclude={"min_price_amount", "updated_at"}) == before["tee"].model_dump(
        exclude={"min_price_amount", "updated_at"}
    )
    assert after["tee"].min_price_amount == 9500
    skus = await skus_by_code()
    assert (skus["TEE-RED-M"].price_amount, skus["TEE-RED-M"].market_price_amount) == (9500, 12900)


async def listed_tee(shop: Shop) -> catalog.ProductRead:
    return await make_listed_product(
        slug="tee",
        title="纯棉圆领T恤",
        category_id=shop.category.id,
        product_type_id=shop.product_type.id,
        specs={"colour": ["红色", "黑色"]},
        price_amount=9900,
    )


async def exported_rows(client: AsyncClient, headers: dict[str, str]) -> list[dict[str, str]]:
    response = await client.get(PRODUCTS_EXPORT_URL, headers=headers)
    assert response.status_code == 200
    return [row.cells for row in tabular.read_table(response.content, filename="export.csv").rows]


async def test_live_products_take_price_barcode_and_weight_changes(client: AsyncClient) -> None:
    shop = await make_shop()
    headers = await editor()
    product = await listed_tee(shop)
    rows = await exported_rows(client, headers)
    rows[0] |= {"price": "89.00", "market_price": "120.00", "barcode": "123-456", "weight_grams": "250"}

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 200, response.text
    assert response.json() == {
        "rows": 2,
        "products_created": 0,
        "products_updated": 0,
        "skus_created": 0,
        "skus_updated": 1,
        "dry_run": False,
    }
    after = (await products_by_slug())["tee"]
    assert (after.status, after.min_price_amount, after.max_price_amount) == (
        catalog.ListingStatus.on_sale,
        8900,
        9900,
    )
    sku = (await skus_by_code())[rows[0]["sku_code"]]
    assert (sku.price_amount, sku.market_price_amount, sku.barcode, sku.weight_grams) == (
        8900,
        12000,
        "123-456",
        250,
    )
    assert after.id == product.id


@pytest.mark.parametrize(
    ("_case", "change", "errors"),
    [
        (
            "content",
            {-1: {"title": "新标题", "tags": "热卖"}},
            [
                {
                    "loc": ["row", 2, "title"],
                    "code": "catalog.product_not_editable",
                    "message": "The product is waiting for review or on sale: only SKU prices, barcodes "
                    "and weights can change.",
                },
                {
                    "loc": ["row", 2, "tags"],
                    "code": "catalog.product_not_editable",
                    "message": "The product is waiting for review or on sale: only SKU prices, barcodes "
                    "and weights can change.",
                },
            ],
        ),
        (
            "new sku",
            {2: {"sku_code": "TEE-WHITE", "spec": "colour=白色"}},
            [
                {
                    "loc": ["row", 4, "sku_code"],
                    "code": "catalog.product_not_editable",
                    "message": "The product is waiting for review or on sale: only SKU prices, barcodes "
                    "and weights can change.",
                }
            ],
        ),
        (
            "price above market price",
            {1: {"market_price": "50.00"}},
            [
                {
                    "loc": ["row", 3, "market_price"],
                    "code": "catalog.price_above_market_price",
                    "message": "The price must not exceed the market price.",
                }
            ],
        ),
    ],
)
async def test_live_products_refuse_other_changes(
    client: AsyncClient, _case: str, change: dict[int, dict[str, str]], errors: list[dict[str, object]]
) -> None:
    shop = await make_shop()
    headers = await editor()
    await listed_tee(shop)
    rows = await exported_rows(client, headers)
    if 2 in change:
        rows.append(dict(rows[0]))
    for index, cells in change.items():
        for row in rows if index == -1 else [rows[index]]:  # -1: every row
            row |= cells
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["detail"]) == (
        "catalog.import_rejected",
        f"The file has {len(errors)} problem(s); nothing was imported.",
    )
    assert body["errors"] == errors
    assert await snapshot() == before
    assert (await products_by_slug())["tee"].status == catalog.ListingStatus.on_sale


async def test_editing_an_off_sale_product_moves_it_back_to_draft(client: AsyncClient) -> None:
    shop = await make_shop()
    headers = await editor()
    product = await listed_tee(shop)
    async with uow() as session:
        await catalog.take_off_sale(session, product_id=product.id, data=catalog.TakeOffSale(), actor=SYSTEM)
    rows = await exported_rows(client, headers)
    for row in rows:
        row["subtitle"] = "秋季新款"
    moves = await count(ListingStatusChange)

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 200, response.text
    assert response.json()["products_updated"] == 1
    after = (await products_by_slug())["tee"]
    assert (after.status, after.subtitle) == (catalog.ListingStatus.draft, "秋季新款")
    assert await count(ListingStatusChange) == moves + 1
    assert [e.action for e in await audit_entries("product.reopen")] == ["product.reopen"]


async def test_a_price_below_a_price_break_is_refused(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    await upload(client, PRODUCTS_URL, csv_bytes([product_row()]), headers)
    sku = (await skus_by_code())["TEE-RED-M"]
    async with uow() as session:
        await catalog.update_sku(
            session,
            sku_id=sku.id,
            data=catalog.SkuUpdate(
                price_breaks=[catalog.PriceBreakWrite(min_quantity=10, unit_price_amount=8000)]
            ),
            actor=REVIEWER,
        )
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, csv_bytes([product_row(price="75.00")]), headers)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "loc": ["row", 2, "price"],
            "code": "catalog.price_break_invalid",
            "message": "A price break cannot cost more than the SKU's price.",
        }
    ]
    assert await snapshot() == before


def one(loc: list[object], code: str, message: str) -> list[dict[str, object]]:
    return [{"loc": loc, "code": code, "message": message}]


@pytest.mark.parametrize(
    ("_case", "rows", "errors"),
    [
        (
            "unknown category",
            [product_row(category="shoes")],
            one(["row", 2, "category"], "catalog.category_not_found", "No category has this slug."),
        ),
        (
            "unknown brand",
            [product_row(brand="nobody")],
            one(["row", 2, "brand"], "catalog.brand_not_found", "No brand has this slug."),
        ),
        (
            "unknown product type",
            [product_row(product_type="鞋")],
            one(
                ["row", 2, "product_type"], "catalog.product_type_not_found", "No product type has this name."
            ),
        ),
        (
            "duplicate sku code in the file",
            [product_row(), product_row(spec="colour=黑色|size=M")],
            one(
                ["row", 3, "sku_code"],
                "catalog.duplicate_sku_code",
                "Another row of the file has the same SKU code.",
            ),
        ),
        (
            "sku code of another product",
            [product_row(sku_code="TAKEN-1")],
            one(
                ["row", 2, "sku_code"],
                "catalog.duplicate_sku_code",
                "This SKU code belongs to another product.",
            ),
        ),
        (
            "negative price",
            [product_row(price="-1.00")],
            one(["row", 2, "price"], "catalog.price_negative", "A price cannot be negative."),
        ),
        (
            "price with 3 decimals",
            [product_row(price="99.999")],
            one(["row", 2, "price"], "catalog.price_too_precise", "At most 2 decimal places (fen)."),
        ),
        (
            "zero price",
            [product_row(price="0.00")],
            one(["row", 2, "price"], "catalog.price_not_positive", "Set a price greater than zero."),
        ),
        (
            "price not a number",
            [product_row(price="99元")],
            one(["row", 2, "price"], "catalog.invalid_number", "Write a number such as 199.00."),
        ),
        (
            "missing price",
            [product_row(price="")],
            one(["row", 2, "price"], "catalog.required", "This field is required."),
        ),
        (
            "negative cost price",
            [product_row(cost_price="-0.01")],
            one(["row", 2, "cost_price"], "catalog.price_negative", "A price cannot be negative."),
        ),
        (
            "unknown spec value",
            [product_row(spec="colour=紫色|size=M")],
            one(["row", 2, "spec"], "catalog.unknown_attribute_value", "Not one of the values of this spec."),
        ),
        (
            "unknown spec attribute",
            [product_row(spec="fabric=棉")],
            one(["row", 2, "spec"], "catalog.unknown_attribute", "Not a spec of this product type."),
        ),
        (
            "spec not as pairs",
            [product_row(spec="红色")],
            one(["row", 2, "spec"], "catalog.invalid_value", "Write it as code=value pairs separated by |."),
        ),
        (
            "unknown param value",
            [product_row(params="material=丝")],
            one(
                ["row", 2, "params"],
                "catalog.unknown_attribute_value",
                "Not one of the values of this parameter.",
            ),
        ),
        (
            "same spec twice",
            [product_row(), product_row(sku_code="TEE-2")],
            one(
                ["row", 3, "spec"], "catalog.duplicate_spec", "The product already has a SKU with this spec."
            ),
        ),
        (
            "different spec attributes",
            [product_row(), product_row(sku_code="TEE-2", spec="colour=黑色")],
            one(
                ["row", 3, "spec"],
                "catalog.sku_spec_mismatch",
                "Every SKU of a product must name the same spec attributes.",
            ),
        ),
        (
            "product rows that disagree",
            [product_row(), product_row(sku_code="TEE-2", spec="colour=黑色|size=M", category="clothing")],
            one(
                ["row", 3, "category"],
                "catalog.inconsistent_product",
                "Differs from the first row of this product; repeat it or leave it empty.",
            ),
        ),
        (
            "new product without a title",
            [product_row(title="")],
            one(["row", 2, "title"], "catalog.required", "This field is required."),
        ),
        (
            "reserved slug",
            [product_row(product_slug="p-12")],
            one(["row", 2, "product_slug"], "catalog.slug_reserved", "This slug is reserved."),
        ),
        (
            "bad slug",
            [product_row(product_slug="T恤")],
            one(
                ["row", 2, "product_slug"],
                "catalog.invalid_value",
                "Use lowercase letters, digits and single hyphens.",
            ),
        ),
        (
            "bad sku code",
            [product_row(sku_code="坏 code")],
            one(
                ["row", 2, "sku_code"],
                "catalog.invalid_value",
                "Use letters, digits, dots, hyphens and underscores, starting with a letter or digit.",
            ),
        ),
        (
            "fractional weight",
            [product_row(weight_grams="2.5")],
            one(
                ["row", 2, "weight_grams"],
                "catalog.invalid_number",
                "Write a whole number in the allowed range.",
            ),
        ),
        (
            "too many tags",
            [product_row(tags="|".join(f"t{i}" for i in range(21)))],
            one(
                ["row", 2, "tags"],
                "catalog.invalid_value",
                "At most 20 tags of at most 20 characters, separated by |.",
            ),
        ),
    ],
)
async def test_refuses_bad_rows_and_changes_nothing(
    client: AsyncClient, _case: str, rows: list[dict[str, str]], errors: list[dict[str, object]]
) -> None:
    shop = await make_shop()
    await make_priced_product(
        slug="other",
        category_id=shop.category.id,
        product_type_id=shop.product_type.id,
        specs={"colour": ["红色"]},
    )
    async with uow() as session:
        [sku] = await catalog.list_skus(session, product_id=(await products_by_slug())["other"].id)
        await catalog.update_sku(session, sku_id=sku.id, data=catalog.SkuUpdate(code="TAKEN-1"), actor=SYSTEM)
    headers = await editor()
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["code"], body["detail"]) == (
        "catalog.import_rejected",
        "The file has 1 problem(s); nothing was imported.",
    )
    assert body["errors"] == errors
    assert await snapshot() == before


async def test_reports_every_problem_of_every_row(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    rows = [
        product_row(category="shoes", price="-5"),
        product_row(sku_code="TEE-BLK-M", spec="colour=黑色|size=M"),
        product_row(product_slug="mug", sku_code="MUG-1", spec="", title="", market_price="1.234"),
    ]

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 422
    assert response.json()["detail"] == "The file has 4 problem(s); nothing was imported."
    assert [(e["loc"], e["code"]) for e in response.json()["errors"]] == [
        (["row", 2, "category"], "catalog.category_not_found"),
        (["row", 2, "price"], "catalog.price_negative"),
        (["row", 4, "market_price"], "catalog.price_too_precise"),
        (["row", 4, "title"], "catalog.required"),
    ]
    assert await count(Product) == 0


async def test_lists_the_first_1000_problems_and_counts_them_all(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    rows = [product_row(product_slug=f"tee{i}", sku_code=f"TEE-{i}", category="shoes") for i in range(1500)]

    response = await upload(client, PRODUCTS_URL, csv_bytes(rows), headers)

    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "The file has 1500 problem(s); nothing was imported."
    assert len(body["errors"]) == 1001
    assert body["errors"][999]["loc"] == ["row", 1001, "category"]
    assert body["errors"][1000] == {
        "loc": ["file"],
        "code": "core.too_many_problems",
        "message": "Only the first 1000 problems are listed; fix them and try again.",
    }


async def test_refuses_a_header_without_required_or_with_unknown_columns(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    data = csv_bytes([{"product_slug": "tee", "colour": "红色"}], columns=["product_slug", "colour"])
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, data, headers)

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "loc": ["header", "sku_code"],
            "code": "catalog.missing_column",
            "message": "The file needs this column.",
        },
        {
            "loc": ["header", "colour"],
            "code": "catalog.unknown_column",
            "message": "Not a column of the product file.",
        },
    ]
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("_case", "data", "filename", "detail"),
    [
        (
            "malformed csv",
            b'product_slug,sku_code\ntee,A\n"tee"x,B\n',
            "products.csv",
            "Row 3 is not valid CSV: check the quotation marks.",
        ),
        (
            "more cells than columns",
            b"product_slug,sku_code\ntee,A,extra\n",
            "products.csv",
            "Row 2 has more cells than the header has columns.",
        ),
        (
            "text named xlsx",
            b"product_slug,sku_code\ntee,A\n",
            "products.xlsx",
            "The file is not a valid XLSX workbook.",
        ),
        ("empty", b"", "products.csv", "The file is empty."),
        (
            "over the global body limit, under the import limit",
            b'product_slug,sku_code\n"' + b"x" * (3 * MiB),
            "products.csv",
            "Row 2: a cell is longer than 100000 characters.",
        ),
    ],
)
async def test_refuses_malformed_files_and_changes_nothing(
    client: AsyncClient, _case: str, data: bytes, filename: str, detail: str
) -> None:
    await make_shop()
    headers = await editor()
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, data, headers, filename=filename)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["detail"]) == ("core.malformed_file", detail)
    assert await snapshot() == before


async def test_refuses_an_upload_over_20_mib_before_reading_it(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    before = await snapshot()

    response = await upload(client, PRODUCTS_URL, b"x" * (25 * MiB), headers)

    assert response.status_code == 413
    assert response.json()["code"] == "core.body_too_large"
    assert await snapshot() == before


async def test_a_long_file_name_is_audited_by_its_last_60_characters(client: AsyncClient) -> None:
    await make_shop()
    headers = await editor()
    filename = "商品" * 60 + ".csv"

    response = await upload(client, PRODUCTS_URL, csv_bytes([product_row()]), headers, filename=filename)

    assert response.status_code == 200, response.text
    [entry] = await audit_entries("catalog.import")
    assert entry.object_id == filename[-60:]
    assert entry.after is not None
    assert entry.after["file"] == filename[-100:]
