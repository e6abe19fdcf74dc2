"""The console shell in Chromium: the sidebar on a desktop (1366×900) and the menu drawer on a
phone (390×844) — only the areas the staff member's roles allow, the current page marked, no
sideways scrolling, axe-core clean; screenshots in test-output/screenshots."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from tests.e2e.browser import axe, no_horizontal_scroll, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.factories.identity import PASSWORD, make_staff

pytestmark = [pytest.mark.e2e]

DESKTOP = {"width": 1366, "height": 900}


async def test_the_sidebar_on_a_desktop_shows_what_the_roles_allow(open_page: OpenPage) -> None:
    await make_staff(email="clerk@example.com", permissions=["orders.read", "aftersales.read"])
    page = await open_page("desktop")
    await page.set_viewport_size(DESKTOP)
    await staff_sign_in(page, "clerk@example.com", PASSWORD, next_path="/admin/aftersales/")

    sidebar = page.locator("nav.console-column")
    await expect(sidebar).to_be_visible()
    await expect(page.locator("details.console-drawer")).to_be_hidden()
    assert await sidebar.locator("summary").all_inner_texts() == ["At a glance", "Orders"]
    await expect(sidebar.locator('a[aria-current="page"]')).to_have_text("After-sales")
    crumbs = page.get_by_role("navigation", name="Breadcrumb").locator("li")
    assert await crumbs.all_inner_texts() == ["Orders", "After-sales"]
    box = await sidebar.bounding_box()
    assert box is not None
    assert (box["x"], box["width"]) == (0, 240)
    await shoot(page, "console-sidebar")
    await axe(page)
    await sidebar.get_by_text("Orders", exact=True).first.click()  # the group's summary folds it
    await expect(sidebar.get_by_role("link", name="After-sales")).to_be_hidden()


async def test_the_menu_is_a_drawer_on_a_phone(open_page: OpenPage) -> None:
    await make_staff(email="root@example.com", is_superuser=True)
    page = await open_page("phone")
    await staff_sign_in(page, "root@example.com", PASSWORD, next_path="/admin/catalog/brands")

    drawer = page.locator("nav.console-drawer-panel")
    await expect(page.locator("nav.console-column")).to_be_hidden()
    await expect(drawer).to_be_hidden()
    await no_horizontal_scroll(page, 390)
    await page.set_viewport_size({"width": 390, "height": 844})
    await shoot(page, "console-menu-closed")
    await page.get_by_text("Menu", exact=True).click()
    await expect(drawer).to_be_visible()
    await expect(drawer.locator('a[aria-current="page"]')).to_have_text("Brands")
    await no_horizontal_scroll(page, 390)
    await page.set_viewport_size({"width": 390, "height": 844})
    await shoot(page, "console-menu-open")
    await axe(page)
    await page.keyboard.press("Escape")
    await expect(drawer).to_be_hidden()
    await page.get_by_text("Menu", exact=True).click()
    await drawer.get_by_role("link", name="Banned terms").click()
    await page.wait_for_url("**/admin/catalog/banned-terms")
    await expect(page.locator("h1")).to_have_text("Banned terms")
