"""The phone storefront (H5) in Chromium at 390 × 844: the tab bar and its cart count, the
product page's buy bar and its bottom-sheet spec picker, the filters sheet, the 分类 page, the
desktop category menu, and pages that must fit the screen with real orders behind them."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Locator, Page, expect

from tests.e2e.browser import axe, customer_sign_in, no_horizontal_scroll, shoot, shoot_both
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.catalog import make_category
from tests.factories.identity import PASSWORD, make_customer
from tests.web.storefront.shopping import delivered_order, shipped_order

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("handlers")]


def cart_tab(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Shop sections").get_by_role("link", name=re.compile(r"^Cart"))


async def test_the_tab_bar_counts_the_cart_and_marks_the_open_tab(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    page = await open_page("phone")
    await page.goto("/")
    tabs = page.get_by_role("navigation", name="Shop sections")
    await expect(tabs).to_be_visible()
    await expect(tabs.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
    await expect(page.locator(".site-nav")).to_be_hidden()  # the tabs replace the header links
    await expect(cart_tab(page)).to_have_accessible_name("Cart")

    # add two black T-shirts through the product page's buy bar
    await page.goto(f"/p/{shop.product_slug}")
    await expect(tabs).to_have_count(0)  # the buy bar takes the tab bar's place
    await page.get_by_role("button", name="Black").click()
    await page.get_by_label("Quantity").fill("2")
    await page.get_by_role("button", name="Add to cart").click()
    await page.wait_for_url("**/cart")
    await expect(cart_tab(page)).to_have_accessible_name("Cart Items: 2")
    await expect(cart_tab(page)).to_have_attribute("aria-current", "page")

    # a page whose route does not count the cart fetches the badge
    await page.goto("/account/login")
    await expect(cart_tab(page)).to_have_accessible_name("Cart Items: 2")
    await page.goto(f"/p/{shop.product_slug}")
    await expect(page.locator(".buy-bar .cart-badge")).to_have_text("Items: 2")

    # the last tab leads to the account (sign-in first); nothing hides behind the bar
    await page.goto("/")
    await tabs.get_by_role("link", name="Me", exact=True).click()
    await expect(page).to_have_url(re.compile(r"/account/login"))
    await expect(
        page.get_by_role("navigation", name="Shop sections").get_by_role("link", name="Me", exact=True)
    ).to_have_attribute("aria-current", "true")
    padding = await page.evaluate("() => parseFloat(getComputedStyle(document.body).paddingBottom)")
    bar = await page.evaluate("() => document.querySelector('.tab-bar').getBoundingClientRect().height")
    assert padding >= bar > 0


async def test_the_buy_bar_opens_the_spec_picker_as_a_bottom_sheet(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    page = await open_page("phone")
    await page.goto(f"/p/{shop.product_slug}")
    bar = page.locator(".buy-bar")
    await expect(bar).to_be_in_viewport()
    await expect(bar.get_by_role("link", name="Service")).to_have_attribute("href", "/account/messages")
    await expect(bar.get_by_role("link", name=re.compile("^Cart"))).to_have_attribute("href", "/cart")
    sheet = page.get_by_role("dialog", name="Choose a specification")
    await expect(sheet).to_have_count(0)

    # 加入购物车 without a choice opens the sheet; Escape closes it and focus goes back
    add = bar.get_by_role("button", name="Add to cart")
    await add.click()
    await expect(sheet).to_be_visible()
    await expect(sheet).to_have_attribute("aria-modal", "true")
    await expect(page.locator("#buy-sheet:focus-within")).to_have_count(1)
    await expect(sheet.get_by_role("button", name="Buy now")).to_be_hidden()  # opened to add to cart
    await shoot(page, "buy-sheet")
    await axe(page)
    for _ in range(12):  # Tab stays inside the sheet
        await page.keyboard.press("Tab")
        assert await page.evaluate(
            "() => document.getElementById('buy-sheet').contains(document.activeElement)"
        )
    await page.keyboard.press("Escape")
    await expect(sheet).to_have_count(0)
    await expect(add).to_be_focused()

    # the backdrop closes it too
    await bar.get_by_role("button", name="Buy now").click()
    await expect(sheet).to_be_visible()
    await expect(sheet.get_by_role("button", name="Add to cart")).to_be_hidden()
    await page.mouse.click(195, 100)
    await expect(sheet).to_have_count(0)

    # pick black in the sheet, two of them, add: the same form as the inline one is sent
    await add.click()
    await sheet.get_by_role("button", name="Black").click()
    await expect(page.locator("#buy-sku")).to_have_value(str(shop.black))
    await sheet.get_by_label("Quantity").fill("2")
    await sheet.get_by_role("button", name="Add to cart").click()
    await page.wait_for_url("**/cart")
    await expect(page.locator(".cart-total")).to_have_attribute("data-total", "7000")
    await expect(cart_tab(page)).to_have_accessible_name("Cart Items: 2")


async def test_buy_now_from_the_sheet_starts_checkout_with_that_sku(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    await make_customer(phone="+8613900000055", password=PASSWORD)
    page = await open_page("phone")
    await customer_sign_in(page, "13900000055", PASSWORD)
    await page.goto(f"/p/{shop.product_slug}")
    await page.locator(".buy-bar").get_by_role("button", name="Buy now").click()
    sheet = page.get_by_role("dialog", name="Choose a specification")
    await sheet.get_by_role("button", name="Red").click()
    await sheet.get_by_role("button", name="Buy now").click()
    await expect(page).to_have_url(re.compile(rf"/checkout\?.*sku_id={shop.red}"))


async def test_on_a_desktop_the_picker_stays_in_the_page(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    page = await open_page("desktop")
    await page.goto(f"/p/{shop.product_slug}")
    await expect(page.locator(".buy-bar")).to_be_hidden()
    await expect(page.get_by_role("navigation", name="Shop sections")).to_be_hidden()
    await page.get_by_role("button", name="Red").click()
    await page.get_by_role("button", name="Add to cart").click()
    await page.wait_for_url("**/cart")


async def test_filters_open_as_a_bottom_sheet_on_a_phone(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    page = await open_page("phone")
    await page.goto(f"/c/{shop.category_slug}")
    summary = page.locator(".filter-panel > summary")
    sheet = page.get_by_role("dialog", name="Filters")
    await expect(sheet).to_be_hidden()
    await summary.click()
    await expect(sheet).to_be_visible()
    await expect(sheet).to_be_in_viewport()
    await shoot(page, "filters-sheet")
    await axe(page)
    await page.reload()  # axe leaves inline styles that htmx would copy into the swapped results
    await summary.click()

    # a tick waits for Apply (the results are not reloaded under the sheet)
    await sheet.get_by_label("In stock only").check()
    await expect(sheet).to_be_visible()
    await expect(page).to_have_url(re.compile(rf"/c/{shop.category_slug}$"))
    await page.keyboard.press("Escape")
    await expect(sheet).to_be_hidden()
    await expect(summary).to_be_focused()

    await summary.click()
    await sheet.get_by_role("button", name="Apply filters").click()
    await expect(page).to_have_url(re.compile(r"in_stock=1"))
    await expect(page.locator(".filter-panel > summary")).to_have_accessible_name("Filters 1 in use")
    await expect(page.get_by_role("dialog", name="Filters")).to_be_hidden()
    await expect(page.get_by_role("link", name=shop.product_title_en).first).to_be_visible()


async def test_on_a_desktop_the_filters_are_a_sidebar(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    page = await open_page("desktop")
    await page.goto(f"/c/{shop.category_slug}")
    await expect(page.get_by_label("In stock only")).to_be_visible()
    await expect(page.get_by_role("dialog")).to_have_count(0)


async def test_the_category_page_has_a_rail_of_top_categories(open_page: OpenPage) -> None:
    await stocked_shop()
    home = await make_category("家居", slug="home-living")
    await make_category("厨具", parent_id=home.id, slug="kitchen")
    page = await open_page("phone", locale="zh_CN")
    await page.goto("/")
    await page.get_by_role("navigation", name="商城导航").get_by_role("link", name="分类").click()
    await expect(page).to_have_url(re.compile(r"/categories$"))
    rail = page.get_by_role("navigation", name="一级类目")
    await expect(rail.get_by_role("link").first).to_have_attribute("aria-current", "page")
    await rail.get_by_role("link", name="服装").click()
    await expect(rail.get_by_role("link", name="服装")).to_have_attribute("aria-current", "page")
    await rail.get_by_role("link", name="家居").click()
    await expect(page).to_have_url(re.compile(r"/categories\?top=home-living$"))
    await expect(page.get_by_role("heading", name="家居", level=2)).to_be_visible()
    await shoot_both(page, "categories-rail")
    await no_horizontal_scroll(page, 390)
    await page.get_by_role("link", name="厨具").click()
    await expect(page).to_have_url(re.compile(r"/c/kitchen$"))
    await expect(
        page.get_by_role("navigation", name="商城导航").get_by_role("link", name="分类")
    ).to_have_attribute("aria-current", "true")


async def test_the_desktop_header_has_a_category_menu(open_page: OpenPage) -> None:
    await stocked_shop()
    page = await open_page("desktop")
    await page.goto("/")
    menu = page.locator(".category-menu")
    await menu.locator("summary").click()
    link = menu.get_by_role("link", name="Category", exact=False).first
    await expect(link).to_be_visible()
    await shoot(page, "category-menu")
    await axe(page)
    await page.keyboard.press("Escape")
    await expect(link).to_be_hidden()
    await menu.locator("summary").click()
    await menu.get_by_role("link", name="All categories").click()
    await expect(page).to_have_url(re.compile(r"/categories$"))


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
@pytest.mark.parametrize("state", ["shipped", "delivered"])
async def test_an_order_with_parcels_fits_a_phone(open_page: OpenPage, state: str, locale: str) -> None:
    """Defect 1: a shopper's order page was 455 px wide at 390 px."""
    shop = await stocked_shop(title_en="Cotton crew-neck T-shirt, heavyweight, garment-dyed, pre-shrunk")
    customer = await make_customer(phone="+8613900000066", password=PASSWORD)
    async with DELIVERY:
        made = shipped_order if state == "shipped" else delivered_order
        order = await made(customer.id, shop.red)
    page = await open_page("phone")
    await customer_sign_in(page, "13900000066", PASSWORD)
    await page.goto(f"/locale/{locale}?next=/")
    for path in (f"/account/orders/{order.number}", "/account/orders", "/account"):
        await page.goto(path)
        await shoot(page, f"order-{state}-{locale}{path.replace('/', '-')}")
        await no_horizontal_scroll(page, 390)
        await no_horizontal_scroll(page, 360)


async def test_the_account_tabs_fit_a_phone(open_page: OpenPage) -> None:
    """Defect 1: the account pages' tab row ran off the screen at 390 px with no hint."""
    await make_customer(phone="+8613900000044", password=PASSWORD)
    page = await open_page("phone")
    await customer_sign_in(page, "13900000044", PASSWORD)
    for path in ("/account", "/account/orders", "/account/aftersales", "/account/messages"):
        await page.goto(path)
        tabs = page.get_by_role("navigation", name="My account").get_by_role("link")
        assert await tabs.count() == 7  # overview, orders, returns, coupons, addresses, messages, privacy
        for n in range(7):
            await expect(tabs.nth(n)).to_be_in_viewport(ratio=1)
        width = await page.evaluate("() => document.querySelector('.account-nav ul').scrollWidth")
        assert width <= 390 - 2 * 16, path
