"""Batch shipping by spreadsheet: a good file ships every row as the order page's Ship button
does; a file with any bad row gets a per-row report and ships nothing; the same file twice
ships once; the permission and the CSRF token are required."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response

from mercato import fulfillment, orders
from mercato.fulfillment.models import Shipment
from tests.factories.spreadsheets import audit_entries, count, xlsx_bytes
from tests.service.aftersales.support import read_order
from tests.web.admin.order_tools_support import batch_count, csv_file, paid_orders, shipments, stock_levels
from tests.web.pages import EN, alert_of, csrf_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")

HEADER = ["order_number", "carrier", "tracking_number"]


async def upload(
    client: AsyncClient, data: bytes, name: str = "ship.csv", headers: dict[str, str] | None = None
) -> Response:
    page = await client.get("/admin/orders/batch-ship", headers=headers or EN)
    assert page.status_code == 200
    return await client.post(
        "/admin/orders/batch-ship",
        data={"csrf_token": csrf_of(page)},
        files={"file": (name, data, "application/octet-stream")},
        headers=headers or EN,
    )


def report_of(page: Response) -> list[list[str]]:
    body = page.text.split('class="stack import-errors batch-errors"')[1].split("</table>")[0]
    rows = body.split("<tbody>")[1].split("<tr>")[1:]
    cells = []
    for row in rows:
        parts = row.split("</td>")[:-1]
        cells.append([part.rsplit(">", 1)[1] if not part.endswith("</code>") else "" for part in parts])
    return cells


async def test_a_good_file_ships_every_row(client: AsyncClient) -> None:
    first, second = await paid_orders(2, units=2)
    before = await stock_levels()
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")

    shipped = await upload(
        client,
        xlsx_bytes(
            [[first.number, "shunfeng", "sf1000000001"], [second.number, "中通快递", "ZT2000000002"]],
            ["订单号", "快递公司", "快递单号"],
        ),
        name="ship.xlsx",
    )

    assert shipped.status_code == 200
    assert "2 parcels were shipped." in shipped.text
    assert await shipments() == [
        (first.id, "shunfeng", "SF1000000001"),
        (second.id, "zhongtong", "ZT2000000002"),
    ]
    assert (await read_order(first.id)).status is orders.OrderStatus.shipped
    assert (await read_order(second.id)).status is orders.OrderStatus.shipped
    assert before == [(10, 4), (10, 0)]  # red: two orders of two held; black untouched
    assert await stock_levels() == [(6, 0), (10, 0)]  # consumed on shipment, as one ship does
    assert len(await audit_entries("shipment.create")) == 2
    assert [(e.after or {})["filename"] for e in await audit_entries("shipment.batch")] == ["ship.xlsx"]


async def test_a_bad_file_gets_a_report_per_row_and_ships_nothing(client: AsyncClient) -> None:
    first, second = await paid_orders(2)
    before = await stock_levels()
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    data = csv_file(
        HEADER,
        [first.number, "shunfeng", "SF1000000001"],
        ["NO-SUCH-1", "shunfeng", "SF1000000002"],
        [second.number, "pigeon", "PG1000000003"],
        [first.number, "shunfeng", "SF1000000001"],
        [second.number, "yunda", "x"],
    )

    refused = await upload(client, data)

    assert refused.status_code == 422
    assert alert_of(refused) == "Nothing was shipped: 4 rows of the file have problems."
    assert report_of(refused) == [
        ["3", "", "No order has the number NO-SUCH-1."],
        ["4", "", "Unknown carrier pigeon: use a code or name from the list."],
        ["5", "", "This row repeats row 2."],
        ["6", "", "A tracking number has 6 to 32 letters, digits or dashes."],
    ]
    assert "<code>NO-SUCH-1</code>" in refused.text
    assert await count(Shipment) == 0
    assert await batch_count() == 0
    assert (await read_order(first.id)).status is orders.OrderStatus.paid
    assert (await read_order(second.id)).status is orders.OrderStatus.paid
    assert await stock_levels() == before
    assert await audit_entries("shipment.batch") == []


async def test_the_report_is_in_the_request_language(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")

    refused = await upload(
        client,
        csv_file(HEADER, [order.number, "pigeon", "SF1000000001"]),
        headers={"Accept-Language": "zh-CN"},
    )

    assert refused.status_code == 422
    assert report_of(refused) == [["2", "", "未知的快递公司 pigeon：请填写列表中的代码或名称。"]]


async def test_the_same_file_twice_ships_once(client: AsyncClient) -> None:
    first, second = await paid_orders(2)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")
    data = csv_file(HEADER, [first.number, "shunfeng", "SF1000000001"])
    await upload(client, data)

    again = await upload(client, data)
    overlapping = await upload(
        client,
        csv_file(HEADER, [first.number, "shunfeng", "SF1000000001"], [second.number, "ems", "EMS0000002"]),
    )

    assert again.status_code == 409
    assert alert_of(again) == "This file was shipped already (1 rows): nothing was shipped again."
    assert overlapping.status_code == 422
    assert report_of(overlapping) == [["2", "", "This order has already been shipped."]]
    assert await shipments() == [(first.id, "shunfeng", "SF1000000001")]
    assert (await read_order(second.id)).status is orders.OrderStatus.paid
    assert await batch_count() == 1


async def test_unreadable_files_and_missing_columns_are_refused(client: AsyncClient) -> None:
    await paid_orders(1)
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")

    no_columns = await upload(client, csv_file(["order", "tracking"], ["1", "2"]))
    empty = await upload(client, b"")

    assert no_columns.status_code == 422
    assert "The file needs the columns order_number, carrier and tracking_number" in no_columns.text
    assert empty.status_code == 422
    assert await count(Shipment) == 0


async def test_batch_shipping_needs_the_permission_and_the_token(client: AsyncClient) -> None:
    (order,) = await paid_orders(1)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    page = await client.get("/admin/orders/", headers=EN)
    data = csv_file(HEADER, [order.number, "shunfeng", "SF1000000001"])

    refused = await client.post(
        "/admin/orders/batch-ship",
        data={"csrf_token": csrf_of(page)},
        files={"file": ("a.csv", data, "text/csv")},
        headers=EN,
    )
    no_token = await client.post(
        "/admin/orders/batch-ship", files={"file": ("a.csv", data, "text/csv")}, headers=EN
    )

    assert refused.status_code == 403
    assert no_token.status_code == 403
    assert (await client.get("/admin/orders/batch-ship", headers=EN)).status_code == 403
    assert await count(Shipment) == 0
    assert (await read_order(order.id)).status is orders.OrderStatus.paid


async def test_the_template_has_the_columns(client: AsyncClient) -> None:
    await staff_sign_in(client, "warehouse@example.com", "orders.read", "fulfillment.write")

    template = await client.get("/admin/orders/batch-ship/template.csv")

    assert template.status_code == 200
    assert template.content == b"\xef\xbb\xbforder_number,carrier,tracking_number,warehouse\r\n"
    assert list(fulfillment.list_carriers())[0].code == "shunfeng"
