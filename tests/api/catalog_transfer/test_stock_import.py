"""Stock import and export over the API: a stocktake file moves levels only through ledger
adjustments (verify stays clean), never below the units reserved, all or nothing."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import select

from mercato import catalog, inventory
from mercato.core import tabular
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from tests.factories.catalog import outbox_names
from tests.factories.inventory import make_skus, make_warehouse, receive, verify
from tests.factories.spreadsheets import (
    STOCK_EXPORT_URL,
    STOCK_URL,
    audit_entries,
    csv_bytes,
    editor,
    ledger,
    sku_codes,
    snapshot,
    stock_rows,
    upload,
    xlsx_bytes,
)

COLUMNS = ["sku_code", "warehouse_code", "on_hand", "safety_stock"]
MiB = 1024 * 1024


def stock_csv(*rows: tuple[str, str, str, str]) -> bytes:
    return csv_bytes([dict(zip(COLUMNS, row, strict=True)) for row in rows], columns=COLUMNS)


async def reserve(sku_id: int, warehouse_id: int, quantity: int) -> None:
    async with uow() as session:
        await inventory.reserve_stock(
            session, reference="order:1", sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity
        )


async def test_a_stocktake_moves_levels_through_the_ledger(client: AsyncClient) -> None:
    a, b, c = await make_skus(3)
    code_a, code_b, code_c = await sku_codes([a, b, c])
    sh, _bj = await make_warehouse("SH-1"), await make_warehouse("BJ-1")
    await receive(a, sh.id, 10)
    await receive(c, sh.id, 4)
    headers = await editor()
    events = len(await outbox_names())
    data = stock_csv(
        (code_a, "SH-1", "7", "3"),  # counted 3 fewer; new safety stock
        (code_b, "SH-1", "5", ""),  # no stock row yet
        (code_a, "BJ-1", "0", ""),  # nothing there, nothing counted
        (code_c, "SH-1", "4", "0"),  # as it is
    )

    response = await upload(client, STOCK_URL, data, headers, filename="盘点.csv")

    assert response.status_code == 200, response.text
    body = response.json()
    assert re.fullmatch(r"stock-import:[0-9a-f]{16}", body.pop("reference"))
    assert body == {
        "rows": 4,
        "levels_changed": 2,
        "safety_stocks_changed": 1,
        "unchanged": 2,
        "dry_run": False,
    }
    assert await stock_rows() == {(a, sh.id): (7, 0, 3), (b, sh.id): (5, 0, 0), (c, sh.id): (4, 0, 0)}
    entries = await ledger(response.json()["reference"])
    assert [
        (e.sku_id, e.warehouse_id, e.kind, e.on_hand_delta, e.on_hand_after, e.reason, e.actor_label)
        for e in entries
    ] == [
        (a, sh.id, "adjustment", -3, 7, "stocktake: import 盘点.csv", "importer@example.com"),
        (b, sh.id, "adjustment", 5, 5, "stocktake: import 盘点.csv", "importer@example.com"),
    ]
    assert (await verify()).problems == []
    assert await outbox_names() == [
        *(await outbox_names())[:events],
        *["inventory.stock_level_changed.v1"] * 2,
    ]
    async with uow(write=False) as s:
        payloads = (
            (
                await s.execute(
                    select(OutboxEvent.payload)
                    .where(OutboxEvent.name == "inventory.stock_level_changed.v1")
                    .order_by(OutboxEvent.id.desc())
                    .limit(2)
                )
            )
            .scalars()
            .all()
        )
    assert sorted(payloads, key=lambda p: p["sku_id"]) == [  # one per SKU, versioned by its ledger entry
        {"sku_id": a, "available": 7, "version": entries[0].id},
        {"sku_id": b, "available": 5, "version": entries[1].id},
    ]
    [entry] = await audit_entries("stock.import")
    assert (entry.object_type, entry.object_id) == ("stock_import", response.json()["reference"])
    assert entry.after == {
        "rows": 4,
        "levels_changed": 2,
        "safety_stocks_changed": 1,
        "unchanged": 2,
        "file": "盘点.csv",
    }


async def test_reads_xlsx_with_numeric_cells(client: AsyncClient) -> None:
    [a] = await make_skus(1)
    [code] = await sku_codes([a])
    sh = await make_warehouse("SH-1")
    headers = await editor()

    response = await upload(
        client,
        STOCK_URL,
        xlsx_bytes([[code, "SH-1", 12, 2]], columns=COLUMNS),
        headers,
        filename="stock.xlsx",
        content_type=tabular.XLSX_MEDIA_TYPE,
    )

    assert response.status_code == 200, response.text
    assert await stock_rows() == {(a, sh.id): (12, 0, 2)}
    assert (await verify()).problems == []


async def test_refuses_a_count_below_the_reserved_units(client: AsyncClient) -> None:
    a, b = await make_skus(2)
    code_a, code_b = await sku_codes([a, b])
    sh = await make_warehouse("SH-1")
    await receive(a, sh.id, 10)
    await receive(b, sh.id, 10)
    await reserve(a, sh.id, 6)
    headers = await editor()
    before, levels = await snapshot(), await stock_rows()

    response = await upload(
        client, STOCK_URL, stock_csv((code_b, "SH-1", "8", ""), (code_a, "SH-1", "5", "")), headers
    )

    assert response.status_code == 422
    assert (response.json()["code"], response.json()["detail"]) == (
        "inventory.import_rejected",
        "The file has 1 problem(s); nothing was imported.",
    )
    assert response.json()["errors"] == [
        {
            "loc": ["row", 3, "on_hand"],
            "code": "inventory.below_reserved",
            "message": "The count is below the units reserved for orders.",
        }
    ]
    assert (await snapshot(), await stock_rows()) == (before, levels)

    allowed = await upload(client, STOCK_URL, stock_csv((code_a, "SH-1", "6", "")), headers)

    assert allowed.status_code == 200
    assert await stock_rows() == {(a, sh.id): (6, 6, 0), (b, sh.id): (10, 0, 0)}
    assert (await verify()).problems == []


@pytest.mark.parametrize(
    ("_case", "row", "errors"),
    [
        (
            "unknown sku",
            ("NOPE", "SH-1", "1", ""),
            [(["row", 2, "sku_code"], "catalog.sku_not_found", "No SKU has this code.")],
        ),
        (
            "unknown warehouse",
            ("{code}", "XX-9", "1", ""),
            [(["row", 2, "warehouse_code"], "inventory.warehouse_not_found", "No warehouse has this code.")],
        ),
        (
            "negative count",
            ("{code}", "SH-1", "-1", ""),
            [
                (
                    ["row", 2, "on_hand"],
                    "inventory.invalid_quantity",
                    "Write a whole number of units, zero or more.",
                )
            ],
        ),
        (
            "fractional count",
            ("{code}", "SH-1", "2.5", ""),
            [
                (
                    ["row", 2, "on_hand"],
                    "inventory.invalid_quantity",
                    "Write a whole number of units, zero or more.",
                )
            ],
        ),
        (
            "empty count",
            ("{code}", "SH-1", "", ""),
            [(["row", 2, "on_hand"], "inventory.required", "This field is required.")],
        ),
        (
            "bad safety stock",
            ("{code}", "SH-1", "1", "many"),
            [
                (
                    ["row", 2, "safety_stock"],
                    "inventory.invalid_quantity",
                    "Write a whole number of units, zero or more.",
                )
            ],
        ),
        (
            "only a safety stock",
            ("", "", "", "1"),
            [
                (["row", 2, "sku_code"], "inventory.required", "This field is required."),
                (["row", 2, "warehouse_code"], "inventory.required", "This field is required."),
                (["row", 2, "on_hand"], "inventory.required", "This field is required."),
            ],
        ),
    ],
)
async def test_refuses_bad_rows_and_changes_nothing(
    client: AsyncClient,
    _case: str,
    row: tuple[str, str, str, str],
    errors: list[tuple[list[object], str, str]],
) -> None:
    a, b = await make_skus(2)
    code, other = await sku_codes([a, b])
    sh = await make_warehouse("SH-1")
    await receive(a, sh.id, 3)
    headers = await editor()
    before = await snapshot()
    good = (other, "SH-1", "9", "")
    filled = tuple(cell.replace("{code}", code) for cell in row)

    response = await upload(client, STOCK_URL, stock_csv(filled, good), headers)  # type: ignore[arg-type]

    assert response.status_code == 422
    assert response.json()["detail"] == f"The file has {len(errors)} problem(s); nothing was imported."
    assert response.json()["errors"] == [{"loc": loc, "code": c, "message": m} for loc, c, m in errors]
    assert await snapshot() == before


async def test_refuses_two_rows_for_the_same_sku_and_warehouse(client: AsyncClient) -> None:
    [a] = await make_skus(1)
    [code] = await sku_codes([a])
    await make_warehouse("SH-1")
    headers = await editor()
    before = await snapshot()

    response = await upload(
        client, STOCK_URL, stock_csv((code, "SH-1", "1", ""), (code, "SH-1", "2", "")), headers
    )

    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "loc": ["row", 3, "sku_code"],
            "code": "inventory.duplicate_row",
            "message": "Another row of the file counts this SKU in this warehouse.",
        }
    ]
    assert await snapshot() == before


async def test_refuses_a_header_without_required_or_with_unknown_columns(client: AsyncClient) -> None:
    headers = await editor()
    data = csv_bytes([{"sku_code": "A", "qty": "1"}], columns=["sku_code", "qty"])

    response = await upload(client, STOCK_URL, data, headers)

    assert response.status_code == 422
    assert [(e["loc"], e["code"]) for e in response.json()["errors"]] == [
        (["header", "warehouse_code"], "inventory.missing_column"),
        (["header", "on_hand"], "inventory.missing_column"),
        (["header", "qty"], "inventory.unknown_column"),
    ]


async def test_dry_run_reports_and_changes_nothing(client: AsyncClient) -> None:
    [a] = await make_skus(1)
    [code] = await sku_codes([a])
    sh = await make_warehouse("SH-1")
    await receive(a, sh.id, 3)
    headers = await editor()
    before = await snapshot()

    response = await upload(client, STOCK_URL, stock_csv((code, "SH-1", "9", "2")), headers, dry_run=True)

    assert response.status_code == 200
    assert response.json() == {
        "rows": 1,
        "levels_changed": 1,
        "safety_stocks_changed": 1,
        "unchanged": 0,
        "dry_run": True,
        "reference": None,
    }
    assert await snapshot() == before


@pytest.mark.parametrize(
    ("_case", "data", "filename", "status", "code"),
    [
        (
            "malformed csv",
            b'sku_code,warehouse_code,on_hand\n"A"B,SH-1,1\n',
            "s.csv",
            422,
            "core.malformed_file",
        ),
        (
            "text named xlsx",
            b"sku_code,warehouse_code,on_hand\nA,SH-1,1\n",
            "s.xlsx",
            422,
            "core.malformed_file",
        ),
        ("over 20 MiB", b"x" * (25 * MiB), "s.csv", 413, "core.body_too_large"),
    ],
)
async def test_refuses_malformed_and_oversized_files(
    client: AsyncClient, _case: str, data: bytes, filename: str, status: int, code: str
) -> None:
    headers = await editor()
    before = await snapshot()

    response = await upload(client, STOCK_URL, data, headers, filename=filename)

    assert (response.status_code, response.json()["code"]) == (status, code)
    assert await snapshot() == before


async def test_exports_stock_and_an_unchanged_export_imports_as_a_no_op(client: AsyncClient) -> None:
    a, b = await make_skus(2)
    code_a, code_b = await sku_codes([a, b])
    sh, bj = await make_warehouse("SH-1"), await make_warehouse("BJ-1")
    await receive(a, sh.id, 10)
    await receive(b, bj.id, 4)
    await reserve(a, sh.id, 3)
    headers = await editor()

    response = await client.get(STOCK_EXPORT_URL, headers=headers)

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert re.fullmatch(
        r'attachment; filename="stock-\d{8}-\d{6}\.csv"', response.headers["content-disposition"]
    )
    title = (await labels([a]))[a]
    assert response.content.decode("utf-8-sig").split("\r\n") == [
        "sku_code,product_title,spec,warehouse_code,on_hand,reserved,available,safety_stock",
        f"{code_b},{title},size=1,BJ-1,4,0,4,0",
        f"{code_a},{title},size=0,SH-1,10,3,7,0",
        "",
    ]
    before = await snapshot()

    again = await upload(client, STOCK_URL, response.content, headers)

    assert again.status_code == 200, again.text
    assert again.json() == {
        "rows": 2,
        "levels_changed": 0,
        "safety_stocks_changed": 0,
        "unchanged": 2,
        "dry_run": False,
        "reference": None,
    }
    assert await snapshot() == before


async def test_an_edited_xlsx_export_imports_back(client: AsyncClient) -> None:
    [a] = await make_skus(1)
    sh = await make_warehouse("SH-1")
    await receive(a, sh.id, 10)
    headers = await editor()
    exported = await client.get(
        STOCK_EXPORT_URL, params={"format": "xlsx", "warehouse_id": sh.id}, headers=headers
    )
    assert exported.headers["content-type"] == tabular.XLSX_MEDIA_TYPE
    [row] = tabular.read_table(exported.content, filename="stock.xlsx").rows
    edited = csv_bytes([row.cells | {"on_hand": "12", "safety_stock": "5"}], columns=list(row.cells))

    response = await upload(client, STOCK_URL, edited, headers)

    assert response.status_code == 200, response.text
    assert await stock_rows() == {(a, sh.id): (12, 0, 5)}
    assert (await verify()).problems == []


async def labels(sku_ids: list[int]) -> dict[int, str]:
    async with uow(write=False) as session:
        found = await catalog.get_sku_labels(session, sku_ids=sku_ids)
    return {sku_id: label.product_title for sku_id, label in found.items()}
