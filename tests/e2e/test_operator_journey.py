"""An operator ships a paid order and refunds a return, in the console on a desktop screen:
sign in → dashboard → orders → the paid order → ship it (carrier + tracking) → record a tracking
step by hand and mark the parcel signed for (manual tracking, on the order page) → the shopper
asks to return one T-shirt (in their own browser) → after-sales queue → approve → the shopper
sends it back → receive and grade → the refund goes through → the request and the order show the refund."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from mercato import aftersales, orders, payments
from mercato.core.db import uow
from tests.e2e.browser import axe, customer_sign_in, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.factories.orders import place
from tests.service.aftersales.support import pay

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def _paid_order(customer_id: int, sku: int) -> orders.OrderRead:
    async with DELIVERY:
        order = await pay(await place(customer_id, (sku, 2)), customer_id)
    assert order.status is orders.OrderStatus.paid
    return order


async def _read(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as s:
        return await orders.read_order(s, order_id=order_id)


async def _look(page: Page, name: str) -> None:
    await shoot(page, name)
    await axe(page)


async def test_an_operator_ships_the_order_and_refunds_a_return(open_page: OpenPage) -> None:
    shop = await stocked_shop(price=3000, stock=5)
    customer = await make_customer(phone="+8613900000088", password=PASSWORD, name="Lucy")
    order = await _paid_order(customer.id, shop.red)
    await make_staff(email="ops@example.com", is_superuser=True)
    console = await open_page("desktop")

    # sign in → the dashboard
    await staff_sign_in(console, "ops@example.com", PASSWORD)
    await expect(console.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    await _look(console, "console-dashboard")

    # orders → the paid order
    menu = console.get_by_role("navigation", name="Console menu")
    await menu.get_by_role("link", name="Orders", exact=True).click()
    await expect(console).to_have_url(re.compile(r"/admin/orders/$"))
    await _look(console, "console-orders")
    await console.get_by_role("link", name=order.number).click()
    await expect(console).to_have_url(re.compile(rf"/admin/orders/{order.number}$"))
    await expect(console.locator("[data-order-status]")).to_have_attribute("data-order-status", "paid")
    await _look(console, "console-order-paid")

    # ship it with SF Express
    ship = console.get_by_role("form", name="Ship this part")
    assert await ship.locator("input[name=csrf_token]").input_value(), (
        "the ship form carries an empty CSRF token: the browser's post would be refused (403)"
    )
    await ship.get_by_label("Carrier").select_option(label="顺丰速运")
    await ship.get_by_label("Tracking number").fill("SF1234567890")
    await ship.get_by_role("button", name="Ship").click()
    await expect(console.locator("[data-order-status]")).to_have_attribute("data-order-status", "shipped")
    await expect(console.get_by_text("SF1234567890", exact=True)).to_be_visible()
    await _look(console, "console-order-shipped")

    # manual tracking: a step on the way, then signed for (签收), both on the order page
    await console.get_by_text("Add a tracking step", exact=True).click()
    track = console.get_by_role("form", name="Add a tracking step to SF1234567890")
    await track.get_by_label("Status").select_option(label="In transit")
    await track.get_by_label("Description").fill("到达杭州转运中心")
    await track.get_by_label("Location").fill("杭州")
    await track.get_by_role("button", name="Add the step").click()
    await expect(console.get_by_role("status")).to_have_text("The tracking step was added.")
    step = console.get_by_role("listitem").filter(has_text="到达杭州转运中心")
    await expect(step).to_contain_text("In transit")
    await _look(console, "console-order-tracked")
    await console.get_by_role("button", name="Mark as delivered").click()
    await expect(console.locator("[data-order-status]")).to_have_attribute("data-order-status", "delivered")
    await expect(console.get_by_role("status")).to_have_text("The parcel was marked as delivered.")
    await expect(console.get_by_role("button", name="Mark as delivered")).to_have_count(0)
    assert (await _read(order.id)).status is orders.OrderStatus.delivered

    # the shopper asks to return one T-shirt (in a browser of their own)
    shopper = await open_page("desktop")
    await customer_sign_in(shopper, "13900000088", PASSWORD)
    await shopper.goto(f"/account/orders/{order.number}")
    await shopper.get_by_role("link", name="Return or refund").first.click()
    await expect(shopper.get_by_role("heading", name="Return or refund an item")).to_be_visible()
    await shopper.get_by_label("Return and refund").check()
    await shopper.get_by_label("Quantity").fill("1")
    await shopper.get_by_label("Reason").select_option("no_reason")
    await shoot(shopper, "journey-return-request")
    await axe(shopper)
    await shopper.get_by_role("button", name="Submit request").click()
    await expect(shopper).to_have_url(re.compile(r"/account/aftersales/\d+"))
    request_path = re.sub(r"^https?://[^/]+", "", shopper.url).split("?")[0]

    # the console's after-sales queue → the request → approve
    await menu.get_by_role("link", name="After-sales").click()
    await expect(console).to_have_url(re.compile(r"/admin/aftersales/$"))
    await _look(console, "console-aftersales")
    await console.get_by_role("row").filter(has_text=order.number).get_by_role("link").first.click()
    status = console.locator("[data-request-status]")
    await expect(status).to_have_attribute("data-request-status", "requested")
    await _look(console, "console-aftersales-requested")
    await console.get_by_role("button", name="Approve").click()
    await expect(status).to_have_attribute("data-request-status", "approved")

    # the shopper sends it back
    await shopper.goto(request_path)
    await shopper.get_by_label("Carrier").fill("顺丰速运")
    await shopper.get_by_label("Tracking number").fill("SF9876543210")
    await shopper.get_by_role("button", name="I have sent it").click()
    await expect(shopper.get_by_role("definition").filter(has_text="SF9876543210")).to_be_visible()

    # receive and grade: resellable → the refund is issued and goes through
    await console.reload()
    await expect(status).to_have_attribute("data-request-status", "shipped_back")
    await _look(console, "console-aftersales-shipped-back")
    await console.get_by_label("Resellable").fill("1")
    await console.get_by_role("button", name="Receive").click()
    for _ in range(20):  # the refund job and its event run in the background worker
        if await status.get_attribute("data-request-status") == "completed":
            break
        await console.wait_for_timeout(250)
        await console.reload()
    # refunded, then done: received → refund in progress → refunded → completed
    await expect(status).to_have_attribute("data-request-status", "completed")
    await expect(console.locator("[data-refund-status]")).to_have_attribute("data-refund-status", "succeeded")
    await expect(console.get_by_role("listitem").filter(has_text="refund 1 confirmed")).to_contain_text(
        "Refunded"
    )
    await _look(console, "console-aftersales-refunded")

    # the order shows the refund (one T-shirt, 30 元), and so does the shopper's request
    await console.goto(f"/admin/orders/{order.number}")
    await expect(console.get_by_text("Partly refunded")).to_be_visible()
    await _look(console, "console-order-refunded")
    await shopper.goto(request_path)
    await expect(shopper.get_by_text("Refunded").first).to_be_visible()
    await shoot(shopper, "journey-return-refunded")

    async with uow(write=False) as s:
        request = (await aftersales.list_requests(s, order_id=order.id)).items[0]
        payment = await payments.get_payment(s, payment_id=order.payment_id)  # type: ignore[arg-type]
    assert request.status is aftersales.AftersalesStatus.completed
    assert payment.refunded_amount == 3000
