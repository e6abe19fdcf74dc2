"""The social plays' console pages in Chromium on a desktop: a flash-sale session's live counts
with their chart (drawn under the strict CSP), the group-buying and bargaining detail pages with
theirs; every page passes axe and fits a phone."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import axe, no_horizontal_scroll, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.factories.identity import PASSWORD, make_staff
from tests.factories.social import bargain_offer, buy, buyer, flash_session, flash_shop, group_offer

pytestmark = [pytest.mark.e2e]


async def test_the_live_counts_are_charted(open_page: OpenPage) -> None:
    await make_staff(email="plays@example.com", permissions=["promotions.read", "promotions.write"])
    red, black = await flash_shop(price=3000)
    session = await flash_session(red, price=990, quota=5)
    await buy(await buyer(), session.items[0].id, total=990 + 800)
    offer = await group_offer(black)
    bargains = await bargain_offer(black)
    page = await open_page("desktop")
    await staff_sign_in(page, "plays@example.com", PASSWORD, next_path=f"/admin/flash-sessions/{session.id}")

    await expect(page.locator(".bar-chart svg, .bar-chart canvas").first).to_be_visible()
    await shoot(page, "flash-console-detail")
    await axe(page)
    for path, name in (
        (f"/admin/group-offers/{offer.id}", "group-offer-console"),
        (f"/admin/bargain-offers/{bargains.id}", "bargain-offer-console"),
    ):
        await page.goto(path)
        await expect(page.get_by_role("heading", name="Live counts")).to_be_visible()
        await shoot(page, name)
        await axe(page)
    await page.set_viewport_size({"width": 390, "height": 844})
    for path in (f"/admin/flash-sessions/{session.id}", f"/admin/bargain-offers/{bargains.id}"):
        await page.goto(path)
        await no_horizontal_scroll(page, 390)
