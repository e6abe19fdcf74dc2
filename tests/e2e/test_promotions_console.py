"""The console's marketing pages in Chromium at 1366 px and 390 px: a promotion's detail page with
its report chart, the new-promotion form, a coupon's page with its runs, and the campaign
calendar — no sideways scrolling on a phone, axe-core clean, no CSP violation; screenshots in
test-output/screenshots."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import axe, no_horizontal_scroll, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.factories.identity import PASSWORD, make_staff
from tests.factories.promotions import make_promotion, published_template, reduction

pytestmark = [pytest.mark.e2e]

SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_the_marketing_pages_fit_the_screen(open_page: OpenPage, size: str) -> None:
    await make_staff(email="marketer@example.com", permissions=["promotions.read", "promotions.write"])
    promotion = await make_promotion(reduction((19900, 2000), (39900, 5000)), name="满 199 减 20")
    template = await published_template(name="新人券")
    page = await open_page("phone" if size == "phone" else "desktop")
    await page.set_viewport_size(SIZES[size])  # type: ignore[arg-type]
    await staff_sign_in(page, "marketer@example.com", PASSWORD, next_path=f"/admin/promotions/{promotion.id}")

    await expect(page.get_by_role("heading", name="Report")).to_be_visible()
    await expect(page.locator(".sales-chart svg")).to_be_visible()
    await shoot(page, "promotion-detail")
    await axe(page)
    for path, name in (
        ("/admin/promotions/", "promotions"),
        ("/admin/promotions/new?kind=full_reduction", "promotion-form"),
        (f"/admin/coupons/{template.id}", "coupon-detail"),
        ("/admin/campaigns/calendar", "campaign-calendar"),
    ):
        await page.goto(path)
        await shoot(page, name)
        await axe(page)
        if size == "phone":
            await no_horizontal_scroll(page, SIZES["phone"]["width"])
