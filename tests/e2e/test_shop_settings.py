"""An owner names the shop in the console and sees the name everywhere: the console's title, the
storefront's header and title (in another browser), the footer's ICP number and the notification
previews; a bad colour is refused next to its field. Screenshots and axe on each step."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import expect

from tests.e2e.browser import axe, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.factories.identity import PASSWORD, make_staff

pytestmark = pytest.mark.e2e


async def test_an_owner_renames_the_shop_and_every_page_shows_it(open_page: OpenPage) -> None:
    await make_staff(email="owner@example.com", permissions=["settings.manage"])
    console = await open_page("desktop")
    await staff_sign_in(console, "owner@example.com", PASSWORD, next_path="/admin/settings")
    await expect(console.get_by_role("heading", name="Shop profile", level=1)).to_be_visible()
    await shoot(console, "console-settings-profile")
    await axe(console)

    # a wrong colour is refused next to its field, nothing saved
    await console.get_by_label("Shop name (Chinese)").fill("山海小铺")
    await console.get_by_label("Shop name (English)").fill("Shanhai Store")
    await console.get_by_label("Brand colour").fill("blue")
    await console.get_by_role("button", name="Save").click()
    await expect(console.locator("#profile-brand_color-error")).to_have_text("The format is not valid.")
    await expect(console).to_have_title(re.compile(r" · Mercato$"))

    # saved: the console's title follows at once
    await console.get_by_label("Brand colour").fill("#0958D9")
    await console.get_by_label("ICP filing number").fill("沪ICP备12345678号-1")
    await console.get_by_role("button", name="Save").click()
    await expect(console.get_by_text("The settings were saved.")).to_be_visible()
    await expect(console).to_have_title("Shop settings · Shanhai Store")
    await shoot(console, "console-settings-saved")

    # the storefront, in a shopper's browser: header, title, footer, brand colour
    shopper = await open_page("phone")
    await shopper.goto("/")
    await expect(shopper.locator(".site-header .brand").first).to_contain_text("Shanhai Store")
    await expect(shopper).to_have_title(re.compile(r" · Shanhai Store$"))
    icp = shopper.get_by_role("link", name="沪ICP备12345678号-1")
    await expect(icp).to_have_attribute("href", "https://beian.miit.gov.cn/")
    brand = await shopper.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand')")
    assert brand.strip().upper() == "#0958D9"
    await shoot(shopper, "storefront-renamed")
    await axe(shopper)

    # the notification previews sign with the new name
    await console.get_by_role("link", name="Notification templates").first.click()
    await expect(console.get_by_text("[Shanhai Store] Order paid", exact=True)).to_be_visible()
    await expect(console.get_by_text("【山海小铺】订单已支付", exact=True)).to_be_visible()
    await shoot(console, "console-settings-notifications")
    await axe(console)
