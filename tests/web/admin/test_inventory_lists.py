"""The inventory lists on the declared list block (ADR 0031): stock, low stock, ledger and
warehouses — the warehouse filter's options read from the warehouses, exports of exactly the
filtered rows, the warehouses sorted."""

from __future__ import annotations

import io
import re

from httpx import AsyncClient
from openpyxl import load_workbook

from mercato import catalog, inventory
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.inventory import SYSTEM, make_skus, make_warehouse, receive
from tests.web.pages import EN, staff_sign_in

READER = ["inventory.read"]
ZH = {"Accept-Language": "zh-CN"}


async def _code(sku_id: int) -> str:
    async with uow(write=False) as s:
        return (await catalog.get_sku_labels(s, sku_ids=[sku_id]))[sku_id].code


async def test_stock_exports_exactly_the_filtered_rows_as_csv_and_xlsx(client: AsyncClient) -> None:
    first, second = await make_skus(2)
    shanghai = await make_warehouse("SH-1")
    beijing = await make_warehouse("BJ-1")
    await receive(first, shanghai.id, 7)
    await receive(second, shanghai.id, 3)
    await receive(first, beijing.id, 2)
    async with uow() as s:
        await inventory.set_safety_stock(
            s,
            data=inventory.SetSafetyStock(sku_id=second, warehouse_id=shanghai.id, safety_stock=5),
            actor=SYSTEM,
        )
    await staff_sign_in(client, "ops@example.com", *READER)
    one, two = await _code(first), await _code(second)

    page = await client.get("/admin/inventory/", params={"warehouse": str(shanghai.id)}, headers=EN)
    csv_file = await client.get(
        "/admin/inventory/", params={"warehouse": str(shanghai.id), "export": "csv"}, headers=EN
    )
    xlsx_file = await client.get("/admin/inventory/", params={"q": one, "export": "xlsx"}, headers=ZH)
    low = await client.get("/admin/inventory/low-stock", params={"export": "csv"}, headers=EN)

    assert (
        f'<a href="/admin/inventory/?warehouse={shanghai.id}&amp;export=csv" download>Export CSV</a>'
        in page.text
    )
    assert f'<option value="{shanghai.id}" selected>仓库 SH-1 (SH-1)</option>' in page.text
    assert csv_file.status_code == 200
    assert csv_file.headers["content-disposition"] == 'attachment; filename="stock.csv"'
    header, *lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert header == "SKU,Warehouse,On hand,Reserved,Available,Safety stock"
    assert sorted(lines) == [f"{one},仓库 SH-1 (SH-1),7,0,7,0", f"{two},仓库 SH-1 (SH-1),3,0,3,5"]
    sheet = load_workbook(io.BytesIO(xlsx_file.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ["SKU", "仓库", "实物库存", "已预占", "可用", "安全库存"]
    assert sorted(rows[1:]) == [[one, "仓库 BJ-1 (BJ-1)", 2, 0, 2, 0], [one, "仓库 SH-1 (SH-1)", 7, 0, 7, 0]]
    assert low.headers["content-disposition"] == 'attachment; filename="low-stock.csv"'
    assert low.content.decode("utf-8-sig").splitlines() == [
        "SKU,Warehouse,On hand,Reserved,Available,Safety stock",
        f"{two},仓库 SH-1 (SH-1),3,0,3,5",
    ]


async def test_an_unknown_warehouse_or_kind_is_ignored(client: AsyncClient) -> None:
    (sku,) = await make_skus(1)
    shanghai = await make_warehouse("SH-1")
    beijing = await make_warehouse("BJ-1")
    await receive(sku, shanghai.id, 1)
    await receive(sku, beijing.id, 1)
    await staff_sign_in(client, "ops@example.com", *READER)

    stock = await client.get("/admin/inventory/", params={"warehouse": "999999"}, headers=EN)
    ledger = await client.get(
        "/admin/inventory/ledger", params={"warehouse": "x", "kind": "nope"}, headers=EN
    )

    assert stock.status_code == 200
    assert stock.text.count("<tr>") == 1 + 2
    assert ledger.status_code == 200
    assert ledger.text.count("<tr>") == 1 + 2


async def test_the_ledger_exports_exactly_the_filtered_movements(client: AsyncClient) -> None:
    (sku,) = await make_skus(1)
    warehouse = await make_warehouse("SH-1")
    await receive(sku, warehouse.id, 5)
    async with uow() as s:
        await inventory.adjust_stock(
            s,
            data=inventory.AdjustStock(
                sku_id=sku,
                warehouse_id=warehouse.id,
                delta=-2,
                reason=inventory.AdjustmentReason.damage,
                note="wet box",
            ),
            actor=SYSTEM,
        )
        (entry,) = (
            await inventory.list_ledger(s, sku_id=sku, kind=inventory.LedgerKind.adjustment, limit=10)
        ).items
    await staff_sign_in(client, "ops@example.com", *READER)
    code = await _code(sku)
    params = {"sku": code, "kind": "adjustment"}

    page = await client.get("/admin/inventory/ledger", params=params, headers=EN)
    csv_file = await client.get("/admin/inventory/ledger", params={**params, "export": "csv"}, headers=EN)
    xlsx_file = await client.get("/admin/inventory/ledger", params={**params, "export": "xlsx"}, headers=ZH)

    time = entry.created_at.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M:%S")
    assert page.text.count("<tr>") == 1 + 1
    assert '<td data-label="Kind"><span class="tag">Adjustment</span></td>' in page.text
    assert '<td data-label="By">tests</td>' in page.text
    assert csv_file.headers["content-disposition"] == 'attachment; filename="stock-ledger.csv"'
    assert csv_file.content.decode("utf-8-sig").splitlines() == [
        "Time,SKU,Warehouse,Kind,On hand change,Reserved change,On hand after,Reason,Note,Reference,By",
        f"{time},{code},仓库 SH-1 (SH-1),Adjustment,-2,0,3,Damaged,wet box,,tests",
    ]
    sheet = load_workbook(io.BytesIO(xlsx_file.content)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == [time, code, "仓库 SH-1 (SH-1)", "调整", -2, 0, 3, "损坏", "wet box", None, "tests"]
    assert len(rows) == 2


async def test_the_warehouses_are_sorted_by_priority_code_or_name(client: AsyncClient) -> None:
    await make_warehouse("SH-1", priority=20)
    await make_warehouse("BJ-1", priority=30)
    await make_warehouse("GZ-1", priority=10)
    await staff_sign_in(client, "ops@example.com", *READER)

    def codes(text: str) -> list[str]:
        return re.findall(r'<td data-label="Code"><code>([^<]+)</code></td>', text)

    by_priority = await client.get("/admin/inventory/warehouses", headers=EN)
    by_code = await client.get("/admin/inventory/warehouses", params={"sort": "code"}, headers=EN)
    exported = await client.get(
        "/admin/inventory/warehouses", params={"sort": "code", "export": "csv"}, headers=EN
    )

    assert codes(by_priority.text) == ["GZ-1", "SH-1", "BJ-1"]
    assert codes(by_code.text) == ["BJ-1", "GZ-1", "SH-1"]
    assert '<a href="/admin/inventory/warehouses?sort=code" aria-current="true">Code</a>' in by_code.text
    assert exported.content.decode("utf-8-sig").splitlines() == [
        "Code,Warehouse name,Kind,Location,Serves,Priority,Handling cost,Status",
        "BJ-1,仓库 BJ-1,Regional warehouse,上海市 上海市,Everywhere,30,0.00,Active",
        "GZ-1,仓库 GZ-1,Regional warehouse,上海市 上海市,Everywhere,10,0.00,Active",
        "SH-1,仓库 SH-1,Regional warehouse,上海市 上海市,Everywhere,20,0.00,Active",
    ]
