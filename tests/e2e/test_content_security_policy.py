"""The strict Content-Security-Policy in Chromium (ADR 0023): the harness notices a violation,
and what runs JavaScript — the Alpine components (CSP build), the console's ECharts chart and
Swagger UI — works under the policy. ``open_page`` fails any test on a violation."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, expect

from mercato import catalog, content
from mercato.core.db import uow
from tests.e2e.browser import record_dialogs, shoot, staff_sign_in
from tests.e2e.conftest import CSP_REPORTER, OpenPage, is_csp_violation
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.catalog import SYSTEM
from tests.factories.identity import PASSWORD, make_customer, make_staff
from tests.factories.media import decoded, image_bytes
from tests.factories.orders import place
from tests.service.aftersales.support import pay

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("handlers")]


async def _until(page: Page, script: str) -> None:
    """Poll ``script`` (a function returning a boolean) until it holds, at most 5 s."""
    for _ in range(50):
        if await page.evaluate(script):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{page.url}: never true: {script}")


async def test_the_harness_reports_every_kind_of_violation(browser: Browser, live_server: str) -> None:
    """An inline script, a style attribute and eval on a real page are refused and reported."""
    context = await browser.new_context(base_url=live_server)
    try:
        await context.add_init_script(CSP_REPORTER)
        page = await context.new_page()
        reported: list[str] = []

        def on_console(message: ConsoleMessage) -> None:
            if is_csp_violation(message) and message.text.startswith("CSP violation:"):
                reported.append(message.text)

        page.on("console", on_console)
        await page.goto("/")
        refused = await page.evaluate(
            """async () => {
                const background = getComputedStyle(document.body).backgroundColor;
                const script = document.createElement('script');
                script.textContent = 'window.__inlineRan = true';
                document.body.append(script);
                document.body.setAttribute('style', 'background: red');
                setTimeout('window.__evalRan = true', 0);  // a string is compiled like eval
                await new Promise((resolve) => setTimeout(resolve, 100));
                return [
                    window.__inlineRan ?? false,
                    getComputedStyle(document.body).backgroundColor !== background,
                    window.__evalRan ?? false,
                ];
            }"""
        )
        for _ in range(20):  # the reports are logged asynchronously
            if len(reported) >= 3:
                break
            await asyncio.sleep(0.1)
    finally:
        await context.close()

    assert refused == [False, False, False]  # nothing ran, the style did not apply
    directives = sorted(text.split()[2] for text in reported)
    assert directives == ["script-src", "script-src-elem", "style-src-attr"], reported


async def test_the_alpine_components_run_under_the_policy(open_page: OpenPage) -> None:
    """Gallery, banner strip, filter panel and the console's delete confirmation, on the CSP build."""
    shop = await stocked_shop()
    async with uow() as session:
        product = await catalog.get_storefront_product_by_slug(session, slug=shop.product_slug)
        for n in range(2):
            await catalog.add_product_image(
                session,
                product_id=product.id,
                image=decoded(image_bytes("PNG", (300, 300))),
                filename=f"{n}.png",
                declared_type="image/png",
                alt=f"Side {n + 1}",
                actor=SYSTEM,
            )
        for n in range(2):
            await content.create_banner(
                session,
                data=content.BannerWrite.model_validate(
                    {"title": f"横幅{n}", "link": "/c/clothing", "position": n}
                ),
                image=decoded(image_bytes("PNG", (1200, 400)), thumbnail=False),
                actor=SYSTEM,
            )
    await make_staff(email="ops@example.com", is_superuser=True)
    page = await open_page("desktop")

    # home: "Next promotion" scrolls the banner strip
    await page.goto("/")
    await page.get_by_role("button", name="Next promotion").click()
    await _until(page, "() => document.querySelector('.banner-track').scrollLeft > 0")

    # category on a wide screen: the filter panel opens by itself
    await page.goto(f"/c/{shop.category_slug}")
    await expect(page.locator("details.filter-panel")).to_have_attribute("open", "")

    # product: a thumbnail shows its picture; a spec value picks its SKU
    await page.goto(f"/p/{shop.product_slug}")
    mains = page.locator("img.product-gallery-main")
    await expect(mains.nth(1)).to_be_hidden()
    second = page.get_by_role("button", name="Picture 2")
    await second.click()
    await expect(mains.nth(1)).to_be_visible()
    await expect(mains.nth(0)).to_be_hidden()
    await expect(second).to_have_attribute("aria-pressed", "true")
    await expect(page.get_by_role("button", name="Picture 1")).to_have_attribute("aria-pressed", "false")
    await page.get_by_role("button", name="Red").click()
    await expect(page.locator("#buy-sku")).to_have_value(str(shop.red))
    await expect(page.locator(".sku-select")).to_be_hidden()
    await shoot(page, "csp-product")

    # console: deleting a banner asks in its dialog first; cancelling keeps it, confirming deletes it
    await staff_sign_in(page, "ops@example.com", PASSWORD, next_path="/admin/content/banners")
    dialogs = record_dialogs(page)
    question = page.locator("dialog.confirm").first
    await page.get_by_role("button", name="Delete").first.click()
    await expect(question).to_be_visible()
    await question.get_by_role("button", name="Cancel").click()
    await expect(question).to_be_hidden()
    await expect(page.get_by_role("button", name="Delete")).to_have_count(2)
    await page.get_by_role("button", name="Delete").first.click()
    await question.get_by_role("button", name="Delete").click()
    await expect(page.get_by_role("status")).to_have_text("The banner was deleted.")
    await expect(page.get_by_role("button", name="Delete")).to_have_count(1)
    assert dialogs == []


async def test_the_dashboard_chart_draws_under_the_policy(open_page: OpenPage) -> None:
    """ECharts (SVG renderer) needs neither eval nor inline styles."""
    shop = await stocked_shop()
    customer = await make_customer(name="Lucy")
    async with DELIVERY:
        await pay(await place(customer.id, (shop.red, 1)), customer.id)
    await make_staff(email="ops@example.com", is_superuser=True)
    page = await open_page("desktop")

    await staff_sign_in(page, "ops@example.com", PASSWORD)
    await expect(page.locator(".sales-chart svg")).to_be_visible()
    await page.locator(".sales-chart svg").hover()  # the tooltip is drawn too
    await shoot(page, "csp-dashboard")


@pytest.mark.parametrize("viewport", ["desktop"])
async def test_swagger_ui_runs_under_the_policy(page: Page) -> None:
    response = await page.goto("/api/docs")

    assert response is not None
    assert "'unsafe" not in response.headers["content-security-policy"]
    await expect(page.get_by_role("heading", name="Mercato API")).to_be_visible()
    await expect(page.locator(".opblock").first).to_be_visible()
    await page.locator(".opblock-summary").first.click()  # an operation opens
    await expect(page.locator(".opblock-body").first).to_be_visible()
    await shoot(page, "csp-api-docs")
