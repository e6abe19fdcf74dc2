"""The address book's province → city → district pickers on a phone (390 px): choosing a
province fills the cities, a city the districts (htmx, no reload); 识别 fills the form from a
pasted line; the saved address holds the chosen names. Screenshots at 390 px, axe-core clean."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from mercato import identity
from mercato.core.db import uow
from tests.e2e.browser import axe, customer_sign_in, no_horizontal_scroll, shoot
from tests.e2e.conftest import OpenPage
from tests.factories.identity import PASSWORD, make_customer

pytestmark = pytest.mark.e2e


async def test_the_region_pickers_cascade_on_a_phone(open_page: OpenPage) -> None:
    customer = await make_customer(phone="+8613900000088", password=PASSWORD, name="韩梅梅")
    page = await open_page("phone")
    await customer_sign_in(page, "13900000088", PASSWORD)
    await page.goto("/account/addresses")

    form = page.locator('form[action="/account/addresses"]')
    await expect(form.get_by_label("Recipient")).to_have_value("韩梅梅")  # from the account
    await expect(form.get_by_label("Mobile number")).to_have_value("13900000088")
    city, district = form.get_by_label("City"), form.get_by_label("District")
    await expect(city).to_be_disabled()
    await shoot(page, "address-regions-empty")

    await form.get_by_label("Province").select_option("广东省")
    await expect(city).to_be_enabled()
    await city.select_option("深圳市")
    await expect(district).to_be_enabled()
    await district.select_option("南山区")
    await expect(form.get_by_label("Province")).to_have_value("广东省")
    await form.get_by_label("Street and number").fill("科技园路1号")
    await shoot(page, "address-regions-chosen")
    await axe(page)
    await form.get_by_role("button", name="Add address").click()
    await expect(page.get_by_text("Address added.")).to_be_visible()

    async with uow(write=False) as s:
        [saved] = await identity.list_addresses(s, customer_id=customer.id)
    assert (saved.province, saved.city, saved.district, saved.detail) == (
        "广东省",
        "深圳市",
        "南山区",
        "科技园路1号",
    )

    # 识别: a pasted line fills the fields, a municipality's city chosen with it
    await page.get_by_label("Paste a whole address").fill("李四 13700137000 北京市朝阳区建国路88号")
    await page.get_by_role("button", name="Recognise").click()
    await expect(form.get_by_label("Recipient")).to_have_value("李四")
    await expect(form.get_by_label("City")).to_have_value("北京市")
    await expect(form.get_by_label("District")).to_have_value("朝阳区")
    await expect(form.get_by_label("Street and number")).to_have_value("建国路88号")
    await shoot(page, "address-regions-recognised")
    await no_horizontal_scroll(page, 390)
