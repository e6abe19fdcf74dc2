"""The pages of the shop and the console, in Chromium at phone and desktop size: screenshots,
no serious axe-core findings, CSRF tokens in every posting form, the JavaScript budget, the skip
link, and no sideways scrolling at 390 and 360 px (every storefront page, with what it shows
seeded: an order, an after-sales request, an address, the checkout steps)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from mercato import aftersales, cart, identity
from mercato.core.db import uow
from tests.e2e.browser import (
    JS_BUDGET_BYTES,
    assert_js_budget,
    axe,
    customer_sign_in,
    load_measuring_js,
    no_horizontal_scroll,
    shoot,
    staff_sign_in,
)
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.factories.orders import place
from tests.factories.payments import make_payment
from tests.service.aftersales.support import pay

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("handlers")]

#: name -> (path, who must be signed in: "" nobody, "customer", "staff"); "shop" pages need the
#: stocked shop, "cart" a line in the cart; ``{…}`` in a customer's path is filled from what
#: ``_customer_with_orders`` seeds (``number``, ``line``, ``request``, ``address``, ``payment``).
PAGES = {
    "home": ("/", ""),
    "categories": ("/categories", ""),
    "sign-in": ("/account/login", ""),
    "register": ("/account/register", ""),
    "password-reset": ("/account/password-reset", ""),
    "category": ("/c/clothing", ""),
    "search": ("/search?q=T-shirt", ""),
    "search-form": ("/search", ""),
    "product": ("/p/cotton-tee", ""),
    "cart": ("/cart", ""),
    "account": ("/account", "customer"),
    "account-orders": ("/account/orders", "customer"),
    "account-order": ("/account/orders/{number}", "customer"),
    "account-aftersales": ("/account/aftersales", "customer"),
    "aftersales-new": ("/account/aftersales/new?order={number}&line={line}", "customer"),
    "aftersales-request": ("/account/aftersales/{request}", "customer"),
    "account-addresses": ("/account/addresses", "customer"),
    "account-messages": ("/account/messages", "customer"),
    "account-privacy": ("/account/privacy", "customer"),
    "checkout-address": ("/checkout", "customer"),
    "checkout-delivery": ("/checkout/delivery?address_id={address}", "customer"),
    "checkout-review": ("/checkout/review?address_id={address}&delivery=standard", "customer"),
    "pay": ("/pay/{payment}", "customer"),
    "checkout-result": ("/checkout/result/{number}", "customer"),
    "console-sign-in": ("/admin/login", ""),
    "console-dashboard": ("/admin/", "staff"),
    "console-orders": ("/admin/orders/", "staff"),
    "console-order": ("/admin/orders/{number}", "staff"),
    "console-aftersales": ("/admin/aftersales/", "staff"),
    "console-pickup": ("/admin/pickup", "staff"),
    "console-products": ("/admin/catalog/", "staff"),
    "console-inventory": ("/admin/inventory/", "staff"),
    "console-customers": ("/admin/customers/", "staff"),
    "console-staff": ("/admin/staff/", "staff"),
    "console-banners": ("/admin/content/banners", "staff"),
    "audit-log": ("/admin/audit/", "staff"),
}
#: The one page over the budget, by its measured size (ADR 0020): ECharts' smallest build that
#: draws the dashboard's chart is 531 KB raw (182 KB gzipped). Growth beyond this fails.
OVER_BUDGET = {"console-dashboard": 540 * 1024}
SHOP_PAGES = {
    "home",
    "categories",
    "category",
    "search",
    "product",
    "cart",
    "console-order",
    "console-products",
}
#: Customer pages that show an order, an after-sales request, an address or the checkout.
ORDER_PAGES = {name for name, (path, who) in PAGES.items() if who == "customer" and "{" in path} | {
    "checkout-address"
}
BOTH = pytest.mark.parametrize("viewport", ["phone", "desktop"])
CUSTOMER_PHONE = "+8613900000099"


async def add_to_cart(page: Page) -> None:
    """On the open product page, add the chosen SKU to the cart as a shopper would at this width:
    on a phone through the buy bar and its sheet, on a desktop with the inline form."""
    await page.get_by_role("button", name="Add to cart").click()
    sheet = page.get_by_role("dialog", name="Choose a specification")
    if page.viewport_size and page.viewport_size["width"] < 768:
        await sheet.get_by_role("button", name="Add to cart").click()
    await page.wait_for_url("**/cart")


async def _customer_with_orders() -> dict[str, int | str]:
    """The signed-in customer's paid order with a refund request on it, an unpaid order with its
    payment, a default address and a line in the cart (the shop must be stocked)."""
    shop = await stocked_shop(stock=10)
    customer = await make_customer(phone=CUSTOMER_PHONE, password=PASSWORD, name="Lucy")
    async with DELIVERY:
        order = await pay(await place(customer.id, (shop.red, 2)), customer.id)
    unpaid = await place(customer.id, (shop.black, 1))
    payment = await make_payment(
        reference=f"order:{unpaid.id}", customer_id=customer.id, amount=unpaid.total_amount
    )
    async with uow() as s:
        request = await aftersales.create_request(
            s,
            customer_id=customer.id,
            data=aftersales.CreateRequest(
                order_id=order.id,
                order_line_id=order.lines[0].id,
                kind=aftersales.AftersalesKind.refund_only,
                quantity=1,
                reason_code=aftersales.ReasonCode.no_reason,
            ),
        )
        address = await identity.add_address(
            s, customer_id=customer.id, data=identity.AddressWrite(**ADDRESS)
        )
        await cart.add_line(
            s, customer_id=customer.id, guest_token=None, data=cart.AddLine(sku_id=shop.black, quantity=1)
        )
    return {
        "number": order.number,
        "line": order.lines[0].id,
        "request": request.id,
        "address": address.id,
        "payment": payment.id,
    }


async def _open(page: Page, name: str) -> str:
    """Seed what the page shows and sign in as it needs; return its path (not yet opened)."""
    path, who = PAGES[name]
    if name in SHOP_PAGES:
        shop = await stocked_shop()
        if name == "cart":
            await page.goto(f"/p/{shop.product_slug}")
            await add_to_cart(page)
        if name == "console-order":
            customer = await make_customer(name="Lucy")
            async with DELIVERY:
                order = await pay(await place(customer.id, (shop.red, 2)), customer.id)
            path = path.format(number=order.number)
    if name in ORDER_PAGES:
        path = path.format(**await _customer_with_orders())
    if who == "staff":
        await make_staff(email="root@example.com", is_superuser=True)
        await staff_sign_in(page, "root@example.com", PASSWORD, next_path=path)
    elif who == "customer":
        if name not in ORDER_PAGES:
            await make_customer(phone=CUSTOMER_PHONE, password=PASSWORD, name="Lucy")
        await customer_sign_in(page, "13900000099", PASSWORD)
    return path


async def _post_forms_carry_a_csrf_token(page: Page) -> None:
    """Every form that posts has a non-empty CSRF token (else the browser's post is a 403)."""
    missing = await page.evaluate(
        """() => [...document.querySelectorAll('form')]
            .filter(f => f.method === 'post'
                    && !(f.querySelector('input[name=csrf_token]') || {}).value)
            .map(f => f.getAttribute('action'))"""
    )
    assert missing == [], f"{page.url}: forms without a CSRF token: {missing}"


async def _skip_link_moves_focus_to_main(page: Page, path: str) -> None:
    """Tab from the top of a fresh load reaches the skip link first; Enter moves focus to main."""
    await page.goto(path)
    await page.keyboard.press("Tab")
    focused = await page.evaluate("() => [document.activeElement.className, document.activeElement.text]")
    assert focused == ["skip-link", "Skip to main content"], f"{path}: Tab first reached {focused}"
    await expect(page.locator("a.skip-link")).to_be_in_viewport()
    await page.keyboard.press("Enter")
    assert await page.evaluate("() => document.activeElement.id") == "main", path
    assert page.url.endswith(f"{path}#main"), page.url


@BOTH
@pytest.mark.parametrize("name", PAGES)
async def test_page_in_the_browser(page: Page, name: str, viewport: str) -> None:
    """One load of the page, then: a full-page screenshot, no serious or critical axe-core
    findings, a CSRF token in every form that posts, and at desktop size the skip link (first on
    Tab, moves focus to main), at phone size no sideways scrolling at 390 and 360 px; last, the
    JavaScript budget of that first load.

    The JavaScript budget (150 KiB: "no page ships more than 150 KB of JavaScript") is
    enforced on the raw script bytes of one page load: the decoded bodies of every script
    response, which is what the browser must parse and run on a phone, and which does not change
    when a proxy in front compresses or not. The app serves scripts gzip-compressed, so about a
    third of it crosses the network; that gzip figure is reported beside it but not enforced: it
    would let about three times as much code through. The dashboard is the one exception
    (``OVER_BUDGET``, ADR 0020)."""
    path = await _open(page, name)
    weight = await load_measuring_js(page, path)
    assert page.url.endswith(path), page.url
    assert await page.title() != "", page.url
    assert weight.scripts, "the page loads no script: the measure would be meaningless"
    print(f"\n{name} JavaScript:\n{weight.report()}")
    await shoot(page, name)
    await axe(page)
    await _post_forms_carry_a_csrf_token(page)
    if viewport == "desktop":
        await _skip_link_moves_focus_to_main(page, path)
    else:
        await no_horizontal_scroll(page, 390)
        await no_horizontal_scroll(page, 360)
    assert_js_budget(weight, OVER_BUDGET.get(name, JS_BUDGET_BYTES))


async def test_the_shop_speaks_chinese_by_default(open_page: OpenPage) -> None:
    """The default locale (zh-CN) in a phone screenshot: the CJK font renders, axe is clean."""
    await stocked_shop()
    page = await open_page("phone", locale="zh_CN")
    await page.goto("/")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await expect(page.get_by_role("link", name="登录", exact=True).first).to_be_visible()
    await shoot(page, "home-zh")
    await axe(page)


async def test_axe_check_fails_on_serious_violations(page: Page) -> None:
    """The harness itself: a page with an unlabelled field and an image without alt text fails."""
    await page.set_content(
        '<html lang="en"><head><title>Bad</title></head><body><main>'
        '<h1>Bad</h1><img src="data:,"><input type="text"></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        await axe(page)
    assert "[critical] image-alt" in str(failure.value)
    assert "[critical] label" in str(failure.value)
