"""An operator looks a customer up in the console and works on their 360, on a desktop screen and
a 390 px phone: the profile and order figures with contact details masked, the orders linking to
the order page, a tag added and removed, a note written; the order list found by the customer's
phone. Screenshots in test-output/screenshots, axe-core clean, nothing wider than the phone."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.async_api import Page, expect

from mercato import identity, orders
from tests.e2e.browser import axe, no_horizontal_scroll, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import stocked_shop
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.factories.orders import place
from tests.service.orders.test_reports import paid
from tests.web.admin.test_customer_360 import add_shanghai_address

pytestmark = pytest.mark.e2e


async def _look(page: Page, name: str) -> None:
    await shoot(page, name)
    await axe(page)


def _yuan(fen: int) -> str:
    return f"CN¥{Decimal(fen).scaleb(-2):,.2f}"


async def _customer_with_orders() -> tuple[identity.CustomerRead, list[orders.OrderRead]]:
    shop = await stocked_shop(price=3000, stock=10)
    customer = await make_customer(phone="+8613900000066", email="lucy@example.com", name="Lucy")
    await add_shanghai_address(customer.id, recipient="李露西", phone="13900000066")
    bought = [await paid(await place(customer.id, (shop.red, n))) for n in (1, 2)]
    return customer, bought


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
async def test_an_operator_works_on_a_customer_360(open_page: OpenPage, viewport: str) -> None:
    customer, bought = await _customer_with_orders()
    number = bought[0].number
    spend = sum(order.total_amount for order in bought)
    await make_staff(
        email="care@example.com", permissions=["customers.read", "customers.write", "orders.read"]
    )
    console = await open_page(viewport)
    await staff_sign_in(console, "care@example.com", PASSWORD, next_path=f"/admin/customers/{customer.id}")

    # the 360: masked profile, figures, orders, addresses
    await expect(
        console.get_by_role("heading", name=f"Customer #{customer.id} · Lucy", level=1)
    ).to_be_visible()
    body = await console.locator("main").inner_text()
    assert "+86139****0066" in body
    assert "l***@example.com" in body
    assert "13900000066" not in body
    assert "lucy@example.com" not in body
    assert "世纪大道" not in body
    await expect(console.locator('[data-kpi="paid"]')).to_have_text("2")
    await expect(console.locator('[data-kpi="spend"]')).to_have_text(_yuan(spend))
    await expect(console.locator('[data-kpi="aov"]')).to_have_text(_yuan((spend + 1) // 2))
    await no_horizontal_scroll(console, 390 if viewport == "phone" else 1280)
    await _look(console, "console-customer-360")

    # a tag, added then removed
    await console.get_by_label("Add a tag").fill("VIP")
    await console.get_by_role("button", name="Add tag").click()
    await expect(console.get_by_role("status")).to_have_text("The tag was added.")
    await expect(console.locator(".customer-tags")).to_contain_text("VIP")
    await console.get_by_role("button", name="Remove the tag VIP").click()
    await expect(console.get_by_role("status")).to_have_text("The tag was removed.")
    await expect(console.get_by_text("No tags.")).to_be_visible()

    # a note; a tag too long is refused next to the field
    await console.get_by_label("New note").fill("Prefers deliveries after 6 pm.")
    await console.get_by_role("button", name="Save note").click()
    await expect(console.locator(".customer-notes")).to_contain_text("Prefers deliveries after 6 pm.")
    await expect(console.locator(".customer-notes")).to_contain_text("care@example.com")
    await console.get_by_label("Add a tag").fill("x" * 25)
    await console.get_by_role("button", name="Add tag").click()
    await expect(console.locator("#tag-tag-error")).to_have_text("A tag is 1 to 20 characters long.")
    await _look(console, "console-customer-360-refused")

    # an order of theirs, then the order list searched by their phone
    await console.get_by_role("link", name=number).click()
    await expect(console).to_have_url(re.compile(rf"/admin/orders/{number}$"))
    await console.goto("/admin/orders/?customer=139%200000%200066")
    await expect(console.locator("table tbody tr")).to_have_count(2)
    await _look(console, "console-orders-by-customer")
