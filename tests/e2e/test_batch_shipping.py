"""An operator ships orders by spreadsheet, in the console on a desktop screen: orders → Batch ship
→ upload a file with a wrong order number, an unknown carrier and a duplicate row → the report
names each row and nothing ships → upload the corrected file → both orders are shipped."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from mercato import orders
from mercato.core.db import uow
from tests.e2e.browser import axe, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.factories.orders import place
from tests.service.aftersales.support import pay
from tests.web.admin.order_tools_support import csv_file

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def _paid_order(sku: int) -> orders.OrderRead:
    customer = await make_customer()
    async with DELIVERY:
        return await pay(await place(customer.id, (sku, 1)), customer.id)


async def _status(order_id: int) -> orders.OrderStatus:
    async with uow(write=False) as s:
        return (await orders.read_order(s, order_id=order_id)).status


async def test_an_operator_ships_orders_by_uploading_a_spreadsheet(open_page: OpenPage) -> None:
    shop = await stocked_shop(price=3000, stock=5)
    first = await _paid_order(shop.red)
    second = await _paid_order(shop.red)
    await make_staff(email="warehouse@example.com", permissions=["orders.read", "fulfillment.write"])
    console = await open_page("desktop")
    await staff_sign_in(console, "warehouse@example.com", PASSWORD)

    await console.goto("/admin/orders/")
    await console.get_by_role("link", name="Batch ship", exact=True).click()
    await expect(console).to_have_url(re.compile(r"/admin/orders/batch-ship$"))
    await expect(console.get_by_role("heading", name="Batch shipping", level=1)).to_be_visible()

    # a bad file: nothing ships, each problem is named by its row
    bad = csv_file(
        ["order_number", "carrier", "tracking_number"],
        [first.number, "shunfeng", "SF1000000001"],
        ["NO-SUCH-1", "shunfeng", "SF1000000002"],
        [second.number, "pigeon", "PG1000000003"],
        [first.number, "shunfeng", "SF1000000001"],
    )
    await console.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad}
    )
    await console.get_by_role("button", name="Ship", exact=True).click()
    alert = console.get_by_role("alert")
    await expect(alert).to_contain_text("Nothing was shipped: 3 rows of the file have problems.")
    report = console.locator("table.batch-errors tbody tr")
    await expect(report).to_have_count(3)
    await expect(report.nth(0)).to_contain_text("No order has the number NO-SUCH-1.")
    await expect(report.nth(1)).to_contain_text("Unknown carrier pigeon")
    await expect(report.nth(2)).to_contain_text("This row repeats row 2.")
    await shoot(console, "console-batch-ship-rejected")
    await axe(console)
    assert await _status(first.id) is orders.OrderStatus.paid
    assert await _status(second.id) is orders.OrderStatus.paid

    # the corrected file ships both
    good = csv_file(
        ["order_number", "carrier", "tracking_number"],
        [first.number, "shunfeng", "SF1000000001"],
        [second.number, "顺丰速运", "SF1000000003"],
    )
    await console.get_by_label("CSV or XLSX file").set_input_files(
        {"name": "good.csv", "mimeType": "text/csv", "buffer": good}
    )
    await console.get_by_role("button", name="Ship", exact=True).click()
    await expect(console.locator("#batch-result")).to_have_text("2 parcels were shipped.")
    await expect(console.locator("table.batch-shipped tbody tr")).to_have_count(2)
    await shoot(console, "console-batch-ship-shipped")
    await axe(console)
    assert await _status(first.id) is orders.OrderStatus.shipped
    assert await _status(second.id) is orders.OrderStatus.shipped
