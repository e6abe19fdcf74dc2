"""A shopper buys on a phone: home → category → search → product → pick a colour → add to cart → change
the quantity in the cart (the total updates without a reload) → sign in → checkout → place the
order → pay in the sandbox gateway → the result says paid → the order shows paid.

Every key page is screenshotted at 390 and 1280 px and checked with axe-core."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from mercato import orders
from mercato.core.db import uow
from tests.e2e.browser import record_dialogs, shoot_both
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import stocked_shop
from tests.factories.identity import PASSWORD, make_customer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def _order_status(number: str) -> orders.OrderStatus:
    async with uow(write=False) as s:
        found = await orders.list_orders(s, number=number, limit=1)
    assert len(found.items) == 1
    return found.items[0].status


async def test_a_shopper_buys_and_pays_in_the_sandbox_on_a_phone(open_page: OpenPage) -> None:
    shop = await stocked_shop(price=3000, stock=5)
    await make_customer(phone="+8613900000077", password=PASSWORD, name="Lucy")
    page = await open_page("phone")
    dialogs = record_dialogs(page)

    # home → category
    await page.goto("/")
    await expect(page.get_by_role("heading", name="Welcome to Mercato")).to_be_visible()
    await shoot_both(page, "journey-home")
    await page.get_by_role("link", name=shop.category_name_en).first.click()
    await expect(page).to_have_url(re.compile(r"/c/clothing"))
    await expect(page.get_by_role("link", name=shop.product_title_en).first).to_be_visible()
    await shoot_both(page, "journey-category")

    # search from the header
    await page.get_by_role("searchbox", name="Search products").fill("T-shirt")
    await page.get_by_role("button", name="Search", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/search\?q=T-shirt"))
    await expect(page.get_by_role("heading", level=1)).to_have_text("Results for “T-shirt”")
    await shoot_both(page, "journey-search")

    # product: pick black, add two to the cart
    # the product card's own link (clicking it is test_a_product_card_opens_the_product_page)
    card = page.get_by_role("link", name=shop.product_title_en).first
    await page.goto(await card.get_attribute("href") or "")
    await expect(page).to_have_url(re.compile(r"/p/cotton-tee$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(shop.product_title_en)
    black = page.get_by_role("button", name="Black")
    await black.click()
    await expect(black).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("#buy-sku")).to_have_value(str(shop.black))
    await page.get_by_label("Quantity").fill("2")
    await shoot_both(page, "journey-product")
    await page.get_by_role("button", name="Add to cart").click()

    # cart: 2 × 30 元 + 10 元 shipping; one more without a reload → 3 × 30 元 + 12 元
    await page.goto("/cart")
    await expect(page.get_by_role("heading", name="Shopping cart")).to_be_visible()
    total = page.locator(".cart-total")
    await expect(total).to_have_attribute("data-total", "7000")
    await page.evaluate("() => { window.__notReloaded = true; }")
    await page.get_by_role("button", name="One more").click()
    await expect(total).to_have_attribute("data-total", "10200")
    assert await page.evaluate("() => window.__notReloaded === true"), "the cart page reloaded"
    await shoot_both(page, "journey-cart")

    # checkout → sign in first
    await page.get_by_role("link", name="Check out").click()
    await expect(page).to_have_url(re.compile(r"/account/login"))
    await page.get_by_label("Mobile number or email").fill("13900000077")
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in", exact=True).click()

    # step 1: a new address
    await expect(page).to_have_url(re.compile(r"/checkout$"))
    await expect(page.get_by_role("heading", name="Add a delivery address")).to_be_visible()
    await shoot_both(page, "journey-checkout-address")
    await page.get_by_label("Recipient").fill("韩梅梅")
    await page.get_by_label("Mobile number").fill("13900000077")
    await page.get_by_label("Province").select_option("浙江省")
    city, district = page.get_by_label("City"), page.get_by_label("District")
    await expect(city).to_be_enabled()
    await city.select_option("杭州市")
    await expect(district).to_be_enabled()
    await district.select_option("西湖区")
    await page.get_by_label("Street and number").fill("文三路 1 号")
    await page.get_by_role("button", name="Save and continue").click()

    # step 2: standard delivery
    await expect(page).to_have_url(re.compile(r"/checkout/delivery"))
    await shoot_both(page, "journey-checkout-delivery")
    await page.get_by_role("button", name="Continue").click()

    # step 3: review and place, paying with the sandbox
    await expect(page).to_have_url(re.compile(r"/checkout/review"))
    await expect(page.locator(".checkout-total")).to_have_attribute("data-total", "10200")
    await shoot_both(page, "journey-checkout-review")
    await page.get_by_role("button", name="Place order and pay").click()

    # the pay page → the sandbox gateway → pay
    await expect(page).to_have_url(re.compile(r"/pay/\d+$"))
    number = await page.locator("[data-order-number]").get_attribute("data-order-number")
    assert number
    await shoot_both(page, "journey-pay")
    await page.get_by_role("link", name="Pay in the sandbox").click()
    await expect(page).to_have_url(re.compile(r"/sandbox-gateway/pay/"))
    await expect(page.locator("[data-amount]")).to_have_attribute("data-amount", "10200")
    await shoot_both(page, "journey-sandbox")
    await page.get_by_role("button", name="Pay", exact=True).click()
    await page.get_by_role("link", name="Return to the shop").click()

    # the result says paid (it polls while the notification is on its way)
    await expect(page).to_have_url(re.compile(rf"/checkout/result/{number}$"))
    await expect(page.locator("#result-status")).to_have_attribute("data-outcome", "paid", timeout=15_000)
    await expect(page.get_by_text("Paid. Thank you for your order!")).to_be_visible()
    await shoot_both(page, "journey-result")

    # the order shows paid
    await page.get_by_role("link", name="View the order").click()
    await expect(page).to_have_url(re.compile(rf"/account/orders/{number}$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    status = page.locator("#order-status")
    await expect(status).to_have_class(re.compile(r"\bstatus-paid\b"))
    await expect(status).to_have_text("To be shipped")
    await shoot_both(page, "journey-order")
    assert await _order_status(number) is orders.OrderStatus.paid
    assert dialogs == []


async def test_a_product_card_opens_the_product_page(open_page: OpenPage) -> None:
    """Clicking a product in a category's results opens its page (not the product page
    swapped into the results by the listing's hx-boost)."""
    shop = await stocked_shop()
    page = await open_page("phone")
    await page.goto(f"/c/{shop.category_slug}")
    await page.get_by_role("link", name=shop.product_title_en).first.click()
    await expect(page).to_have_url(re.compile(r"/p/cotton-tee$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(shop.product_title_en)
    assert await page.title() == f"{shop.product_title_en} · Mercato"
