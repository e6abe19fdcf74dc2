"""Exporting the console's order list: the orders its filters show, as CSV or XLSX with every
column exact and personal data masked; large exports through the job with a progress page that
only their requester may see and download; every export audited."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from httpx import AsyncClient
from openpyxl import load_workbook
from sqlalchemy import select

from mercato import fulfillment, orders
from mercato.admin.routes.orders import FILTERS, _list_filters
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.core.settings import get_settings
from mercato.fulfillment import tasks
from mercato.fulfillment.models import OrderExport
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.factories.spreadsheets import audit_entries, count
from tests.web.admin.order_tools_support import paid_orders
from tests.web.pages import EN, csrf_of, staff_login, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers", "empty_media")

EN_HEADER = [
    "Order number",
    "Placed at",
    "Paid at",
    "Status",
    "Customer",
    "Recipient",
    "Recipient phone",
    "Province",
    "City",
    "Items",
    "Goods total",
    "Shipping",
    "Discount",
    "Total",
    "Currency",
    "Payment provider",
    "Tracking numbers",
]


def shop_time(order: orders.OrderRead, field: str) -> str:
    value: dt.datetime = getattr(order, field)
    return value.astimezone(get_settings().tz).strftime("%Y-%m-%d %H:%M:%S")


async def export(client: AsyncClient, headers: dict[str, str] | None = None, **form: str):  # type: ignore[no-untyped-def]
    page = await client.get("/admin/orders/", headers=headers or {})
    return await client.post(
        "/admin/orders/export", data={**form, "csrf_token": csrf_of(page)}, headers=headers or {}
    )


async def test_a_small_export_downloads_the_filtered_orders_as_csv_and_xlsx(client: AsyncClient) -> None:
    paid = (await paid_orders(1, units=2))[0]
    other = await make_customer()
    await place(other.id, (paid.lines[0].sku_id, 1))  # unpaid: filtered out
    staff_id = await staff_sign_in(client, "clerk@example.com", "orders.read")

    as_csv = await export(client, EN, status="paid", format="csv")
    as_xlsx = await export(client, EN, status="paid", format="xlsx")

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"] == "text/csv; charset=utf-8"
    assert as_csv.headers["cache-control"] == "no-store"
    assert re.fullmatch(
        r'attachment; filename="orders-\d{8}-\d{6}\.csv"', as_csv.headers["content-disposition"]
    )
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0] == EN_HEADER
    expected = [
        paid.number,
        shop_time(paid, "placed_at"),
        shop_time(paid, "paid_at"),
        "Paid, to ship",
        rows[1][4],
        "李**",
        "138****8000",
        "上海市",
        "上海市",
        "纯棉圆领T恤（红色） × 2",
        "60.00",
        "10.00",
        "0.00",
        "70.00",
        "CNY",
        "Sandbox gateway",
        "",
    ]
    assert rows[1:] == [expected]
    assert re.fullmatch(rf"#{paid.customer_id} \+861\d\d\*\*\*\*\d{{4}}", rows[1][4])
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).worksheets[0]
    cells = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert cells[0] == EN_HEADER
    assert cells[1][:10] == expected[:10]
    assert cells[1][10:14] == [60, 10, 0, 70]
    assert cells[1][14:] == ["CNY", "Sandbox gateway", None]
    assert len(cells) == 2
    entries = await audit_entries("orders.exported")
    assert [(e.actor_id, e.object_id, e.after) for e in entries] == [
        (staff_id, "", {"filters": {"status": "paid"}, "format": "csv", "rows": 1}),
        (staff_id, "", {"filters": {"status": "paid"}, "format": "xlsx", "rows": 1}),
    ]
    assert await count(OrderExport) == 0


async def test_the_header_and_labels_follow_the_language(client: AsyncClient) -> None:
    paid = (await paid_orders(1))[0]
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    response = await export(client, {"Accept-Language": "zh-CN"}, q=paid.number, format="csv")

    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["订单号", "下单时间", "付款时间", "状态"]
    assert rows[1][0] == paid.number
    assert rows[1][3] == "已支付，待发货"


async def test_a_large_export_runs_as_a_job_with_progress_for_its_requester_only(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_ORDER_EXPORT_SYNC_ROWS", "1")
    get_settings.cache_clear()
    first, second = await paid_orders(2)
    staff_id = await staff_sign_in(client, "clerk@example.com", "orders.read")

    queued = await export(client, EN, format="csv")

    assert queued.status_code == 303
    match = re.fullmatch(r"/admin/orders/exports/(\d+)", queued.headers["location"])
    assert match is not None
    export_id = int(match.group(1))
    await broker.wait_all()
    page = await client.get(queued.headers["location"], headers=EN)
    part = await client.get(queued.headers["location"], headers={**EN, "HX-Request": "true"})
    file = await client.get(f"/admin/orders/exports/{export_id}/file")

    assert page.status_code == 200
    assert 'data-export-status="done"' in page.text
    assert 'value="100"' in page.text
    assert "The file is ready: 2 orders." in page.text
    assert "hx-trigger" not in page.text.split('id="export-status"')[1]
    assert 'id="export-status"' in part.text
    assert "<html" not in part.text
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert [row[0] for row in rows[1:]] == [second.number, first.number]  # newest first, as listed
    assert file.headers["content-disposition"].endswith('.csv"')
    entries = await audit_entries("orders.exported")
    assert [(e.actor_id, e.object_id, e.after) for e in entries] == [
        (staff_id, str(export_id), {"filters": {}, "format": "csv", "rows": None})
    ]
    async with uow(write=False) as s:
        done = await fulfillment.get_order_export(s, export_id=export_id, staff_id=staff_id)
    assert (done.status, done.rows_done, done.rows_total, done.percent) == (
        fulfillment.ExportStatus.done,
        2,
        2,
        100,
    )
    assert await tasks.run_order_export(export_id) is False  # idempotent: done stays done

    client.cookies.clear()
    await staff_sign_in(client, "other@example.com", "orders.read")
    assert (await client.get(f"/admin/orders/exports/{export_id}", headers=EN)).status_code == 404
    assert (await client.get(f"/admin/orders/exports/{export_id}/file", headers=EN)).status_code == 404

    client.cookies.clear()
    await staff_login(client, "clerk@example.com")
    clock.advance(dt.timedelta(hours=25))
    expired = await client.get(f"/admin/orders/exports/{export_id}/file", headers=EN)
    assert expired.status_code == 409
    assert await fulfillment.sweep_order_exports() == 1
    expired_page = await client.get(f"/admin/orders/exports/{export_id}", headers=EN)
    assert "This export has expired: export the orders again." in expired_page.text


async def test_the_progress_page_polls_while_the_job_works(client: AsyncClient) -> None:
    staff_id = await staff_sign_in(client, "clerk@example.com", "orders.read")
    async with uow() as s:
        s.add(
            OrderExport(
                staff_id=staff_id,
                status="running",
                file_format="csv",
                locale="en",
                filters={},
                rows_total=400,
                rows_done=100,
                filename="orders.csv",
                error="",
                attempts=1,
                created_at=clock.now(),
                started_at=clock.now(),
            )
        )
    async with uow(write=False) as s:
        export_id = (await s.execute(select(OrderExport.id))).scalar_one()

    part = await client.get(f"/admin/orders/exports/{export_id}", headers={**EN, "HX-Request": "true"})

    assert (
        f'hx-get="/admin/orders/exports/{export_id}" hx-trigger="every 1s" hx-swap="outerHTML"' in part.text
    )
    assert "100 of 400 orders written" in part.text
    assert '<progress class="export-progress" max="100" value="25"' in part.text
    assert "/file" not in part.text


async def test_exporting_needs_the_permission_and_the_token(client: AsyncClient) -> None:
    await paid_orders(1)
    await staff_sign_in(client, "nobody@example.com", "customers.read")
    page = await client.get("/admin/", headers=EN)

    refused = await client.post(
        "/admin/orders/export", data={"format": "csv", "csrf_token": csrf_of(page)}, headers=EN
    )
    no_token = await client.post("/admin/orders/export", data={"format": "csv"}, headers=EN)

    assert refused.status_code == 403
    assert no_token.status_code == 403
    assert await audit_entries("orders.exported") == []
    assert await count(OrderExport) == 0


def test_every_list_filter_can_be_exported() -> None:
    """A filter added to the order list must be added to the export's filters too."""
    args, errors = _list_filters(
        {
            name: {
                "status": "paid",
                "delivery": "express",
                "placed_from": "2026-11-01",
                "placed_to": "2026-11-02",
            }.get(name, "x")
            for name in FILTERS
        },
        "en",
    )
    assert errors == {}
    supported = set(fulfillment.OrderExportFilters.model_fields)
    assert set(args) | {"sku_id", "buyer"} <= supported
