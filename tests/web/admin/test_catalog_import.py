"""The console's product import (CSV/XLSX, all or nothing, problems listed by row) and export."""

from __future__ import annotations

import csv
import io

from httpx import AsyncClient, Response

from mercato.catalog.models import Product, Sku
from tests.factories.spreadsheets import count, csv_bytes, make_shop, product_row, snapshot, xlsx_bytes
from tests.web.pages import EN, alert_of, csrf_of, staff_sign_in

CSV = "text/csv"
WRITER = ["catalog.read", "catalog.write"]


async def _sign_in(client: AsyncClient, permissions: list[str] | None = None) -> str:
    await staff_sign_in(client, "imp@example.com", *(WRITER if permissions is None else permissions))
    return csrf_of(await client.get("/admin/catalog/"))


async def _import_csv(client: AsyncClient, token: str, rows: list[dict[str, str]]) -> Response:
    """Post ``rows`` to the import page as a CSV file."""
    return await client.post(
        "/admin/catalog/import",
        data={"csrf_token": token},
        files={"file": ("products.csv", csv_bytes(rows), CSV)},
        headers=EN,
    )


async def test_a_valid_file_is_imported_and_the_counts_shown(client: AsyncClient) -> None:
    await make_shop()
    token = await _sign_in(client)
    rows = [product_row(), product_row(spec="colour=黑色|size=M", sku_code="TEE-BLACK-M")]

    response = await _import_csv(client, token, rows)

    assert response.status_code == 200
    assert "The file was imported." in response.text
    assert "<dt>Products created</dt><dd>1</dd>" in response.text
    assert "<dt>SKUs created</dt><dd>2</dd>" in response.text
    assert (await count(Product), await count(Sku)) == (1, 2)


async def test_a_check_only_import_writes_nothing(client: AsyncClient) -> None:
    await make_shop()
    token = await _sign_in(client)
    before = await snapshot()

    response = await client.post(
        "/admin/catalog/import",
        data={"csrf_token": token, "dry_run": "1"},
        files={
            "file": ("products.xlsx", xlsx_bytes([list(product_row().values())]), "application/octet-stream")
        },
        headers=EN,
    )

    assert response.status_code == 200
    assert "The file is valid. Nothing was written: this was a check." in response.text
    assert "<dt>SKUs created</dt><dd>1</dd>" in response.text
    assert await snapshot() == before


async def test_a_file_with_problems_lists_them_by_row_and_imports_nothing(client: AsyncClient) -> None:
    await make_shop()
    token = await _sign_in(client)
    before = await snapshot()
    rows = [
        product_row(),
        product_row(sku_code="TEE-2", spec="colour=黑色|size=M", price="abc"),
        product_row(sku_code="TEE-3", spec="colour=白色|size=M", category="nowhere"),
    ]

    response = await _import_csv(client, token, rows)

    assert response.status_code == 422
    assert alert_of(response) == "The file has 2 problem(s); nothing was imported."
    table = response.text[response.text.index('<table class="stack import-errors">') :]
    assert table.count("<tr>") == 1 + 2
    assert '<td data-label="Row">3</td><td data-label="Column"><code>price</code></td>' in table
    assert '<td data-label="Row">4</td><td data-label="Column"><code>category</code></td>' in table
    assert await snapshot() == before


async def test_a_file_that_is_not_a_spreadsheet_is_an_error_next_to_the_field(client: AsyncClient) -> None:
    token = await _sign_in(client)

    response = await client.post(
        "/admin/catalog/import",
        data={"csrf_token": token},
        files={"file": ("products.xlsx", b"not a zip", "application/octet-stream")},
        headers=EN,
    )
    missing = await client.post("/admin/catalog/import", data={"csrf_token": token}, headers=EN)

    assert response.status_code == 422
    assert (
        '<p class="field-error" id="import-file-error">The file is not a valid XLSX workbook.</p>'
        in response.text
    )
    assert missing.status_code == 422
    assert '<p class="field-error" id="import-file-error">Choose a CSV or XLSX file.</p>' in missing.text


async def test_importing_needs_catalog_write_and_csrf(client: AsyncClient) -> None:
    await make_shop()
    token = await _sign_in(client, permissions=["catalog.read"])
    before = await snapshot()
    data = csv_bytes([product_row()])

    page = await client.get("/admin/catalog/import", headers=EN)
    refused = await client.post(
        "/admin/catalog/import", data={"csrf_token": token}, files={"file": ("p.csv", data, CSV)}, headers=EN
    )
    forged = await client.post(
        "/admin/catalog/import", data={"csrf_token": "forged"}, files={"file": ("p.csv", data, CSV)}
    )

    assert page.status_code == 403
    assert refused.status_code == 403
    assert "You need the catalog.write permission." in refused.text
    assert forged.status_code == 403
    assert await snapshot() == before


async def test_the_export_downloads_what_the_import_reads(client: AsyncClient) -> None:
    await make_shop()
    token = await _sign_in(client)
    imported = await _import_csv(client, token, [product_row()])
    assert imported.status_code == 200

    exported = await client.get("/admin/catalog/export", params={"format": "csv"})
    xlsx = await client.get("/admin/catalog/export", params={"format": "xlsx", "status": "draft"})

    assert exported.status_code == 200
    assert exported.headers["content-disposition"].startswith('attachment; filename="')
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["product_slug"], r["sku_code"], r["price"]) for r in rows] == [("tee", "TEE-RED-M", "99.00")]
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
