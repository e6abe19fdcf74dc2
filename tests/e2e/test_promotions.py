"""Promotions in Chromium, on a phone (390 px) and a desktop (1280 px): a signed-in shopper sees the
券后价 on the product page, claims the coupon from the 领券 sheet (a bottom sheet on the phone, a
popover on the desktop), buys the product — checkout preselects the best coupon — pays in the
sandbox, and finds the discount on the order page. The coupon pages fit 390 and 360 px."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from tests.e2e.browser import customer_sign_in, no_horizontal_scroll, record_dialogs, shoot
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import stocked_shop
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.promotions import make_coupon_template

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def _add_red_to_cart(page: Page, viewport: str) -> None:
    if viewport == "phone":
        await page.locator(".buy-bar").get_by_role("button", name="Add to cart").click()
        sheet = page.get_by_role("dialog", name="Choose a specification")
        await sheet.get_by_role("button", name="Red").click()
        await sheet.get_by_role("button", name="Add to cart").click()
    else:
        await page.get_by_role("button", name="Red").click()
        await page.locator(".buy-form .actions").get_by_role("button", name="Add to cart").click()
    await page.wait_for_url("**/cart")


async def _check_out(page: Page) -> None:
    """From the cart: a new address, standard delivery, then the review page."""
    await page.get_by_role("link", name="Check out").click()
    await expect(page.get_by_role("heading", name="Add a delivery address")).to_be_visible()
    await page.get_by_label("Recipient").fill("韩梅梅")
    await page.get_by_label("Mobile number").fill("13900000088")
    await page.get_by_label("Province").select_option("浙江省")
    city, district = page.get_by_label("City"), page.get_by_label("District")
    await expect(city).to_be_enabled()
    await city.select_option("杭州市")
    await expect(district).to_be_enabled()
    await district.select_option("西湖区")
    await page.get_by_label("Street and number").fill("文三路 1 号")
    await page.get_by_role("button", name="Save and continue").click()
    await expect(page).to_have_url(re.compile(r"/checkout/delivery"))
    await page.get_by_role("button", name="Continue").click()
    await expect(page).to_have_url(re.compile(r"/checkout/review"))


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
async def test_a_shopper_claims_a_coupon_on_the_product_page_and_buys_with_it(
    open_page: OpenPage, viewport: str
) -> None:
    shop = await stocked_shop(price=12900, stock=5)
    await make_customer(phone="+8613900000088", password=PASSWORD)
    await make_coupon_template(name="满100减10", amount_off=1000, min_spend_amount=10000)
    page = await open_page(viewport)
    dialogs = record_dialogs(page)
    await customer_sign_in(page, "13900000088", PASSWORD)

    # the product page: 券后价, then the 领券 row opens the product's coupons
    await page.goto(f"/p/{shop.product_slug}")
    await expect(page.locator(".coupon-price")).to_have_text("After coupon CN¥119.00")
    await page.locator(".coupon-sheet > summary").click()
    panel = page.locator(".coupon-panel")
    await expect(panel).to_be_visible()
    if viewport == "phone":
        await expect(page.get_by_role("dialog", name="Coupons for this product")).to_be_visible()
    else:
        await expect(page.get_by_role("dialog")).to_have_count(0)  # a popover, not a modal
    await panel.get_by_role("button", name="Claim").click()
    await expect(panel.get_by_role("status")).to_have_text("Claimed")
    await shoot(page, f"promotions-claimed-{viewport}")
    if viewport == "phone":
        for width in (390, 360):
            await no_horizontal_scroll(page, width)
    await panel.get_by_role("button", name="Close").click()
    await expect(panel).to_be_hidden()

    # the wallet holds it
    await page.goto("/account/coupons")
    await expect(page.locator(".coupon-card")).to_have_count(1)
    await expect(page.get_by_role("link", name="Use now")).to_have_attribute("href", "/")
    if viewport == "phone":
        for width in (390, 360):
            await no_horizontal_scroll(page, width)
        await page.set_viewport_size({"width": 390, "height": 844})

    # buy it: checkout preselects the best coupon (¥129.00 − ¥10.00, free shipping over ¥99.00)
    await page.goto(f"/p/{shop.product_slug}")
    await _add_red_to_cart(page, viewport)
    await _check_out(page)
    await expect(page.locator(".checkout-total")).to_have_attribute("data-total", "11900")
    await shoot(page, f"promotions-review-{viewport}")
    await page.get_by_role("button", name="Place order and pay").click()
    await expect(page).to_have_url(re.compile(r"/pay/\d+$"))
    number = await page.locator("[data-order-number]").get_attribute("data-order-number")
    assert number
    await page.get_by_role("link", name="Pay in the sandbox").click()
    await expect(page.locator("[data-amount]")).to_have_attribute("data-amount", "11900")
    await page.get_by_role("button", name="Pay", exact=True).click()
    await page.get_by_role("link", name="Return to the shop").click()
    await expect(page.locator("#result-status")).to_have_attribute("data-outcome", "paid", timeout=15_000)

    # the order shows the coupon's discount
    await page.goto(f"/account/orders/{number}")
    await expect(page.get_by_text("满100减10").first).to_be_visible()
    await expect(page.get_by_text("−CN¥10.00").first).to_be_visible()
    await shoot(page, f"promotions-order-{viewport}")
    assert dialogs == []


async def test_the_claim_centre_fits_a_phone(open_page: OpenPage) -> None:
    for n in range(3):
        await make_coupon_template(
            name=f"满199减20 第{n + 1}批", amount_off=2000, min_spend_amount=19900, issued_quantity=63
        )
    page = await open_page("phone")
    await page.goto("/coupons")
    await expect(page.locator(".coupon-card")).to_have_count(3)
    await expect(page.locator(".coupon-progress").first).to_contain_text("63% claimed")
    await shoot(page, "promotions-claim-centre")
    for width in (390, 360):
        await no_horizontal_scroll(page, width)
