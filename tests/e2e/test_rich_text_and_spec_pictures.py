"""The product description's rich-text editor and the colour pictures, in Chromium under the
strict Content-Security-Policy (a violation or script error fails the test)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from mercato import catalog
from mercato.catalog.models import Product
from mercato.core import events
from mercato.core.db import uow
from tests.e2e.browser import axe, shoot, staff_sign_in
from tests.e2e.conftest import OpenPage
from tests.e2e.shop import DELIVERY, stocked_shop
from tests.factories.catalog import REVIEWER, SYSTEM, add_image
from tests.factories.identity import PASSWORD, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("handlers")]


async def _product_id(slug: str) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(Product.id).where(Product.slug == slug))).scalar_one()


async def _relist(product_id: int) -> None:
    async with uow() as s:
        await catalog.submit_for_review(s, product_id=product_id, actor=SYSTEM)
    async with uow() as s:
        await catalog.approve_listing(s, product_id=product_id, actor=REVIEWER)
    async with DELIVERY:
        await events.deliver_pending()


async def test_bold_text_typed_in_the_editor_is_bold_on_the_product_page(open_page: OpenPage) -> None:
    shop = await stocked_shop()
    product_id = await _product_id(shop.product_slug)
    async with uow() as s:
        await catalog.take_off_sale(
            s, product_id=product_id, data=catalog.TakeOffSale(reason="new description"), actor=SYSTEM
        )
    await make_staff(email="root@example.com", is_superuser=True)
    page = await open_page("desktop")
    await staff_sign_in(page, "root@example.com", PASSWORD, next_path=f"/admin/catalog/products/{product_id}")

    editor = page.get_by_test_id("rich-text-editor")
    await expect(editor).to_be_visible()
    await expect(page.locator("#product-description_html")).to_be_hidden()
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("Soft ")
    bold = page.get_by_role("button", name="Bold", exact=True)
    await bold.click()
    await page.keyboard.type("organic cotton")
    await expect(bold).to_have_attribute("aria-pressed", "true")
    await bold.click()
    await page.keyboard.type(", washed.")
    await shoot(page, "console-description-editor")
    await axe(page)
    await page.get_by_role("button", name="Save", exact=True).click()
    await page.wait_for_url(f"**/admin/catalog/products/{product_id}?notice=saved")

    saved = (await _get(product_id)).description_html
    assert saved == "<p>Soft <strong>organic cotton</strong>, washed.</p>"
    await _relist(product_id)
    shopper = await open_page("phone")
    await shopper.goto(f"/p/{shop.product_slug}")
    await expect(shopper.locator(".product-description .rich-text strong")).to_have_text("organic cotton")


async def test_picking_a_colour_shows_its_picture(page: Page) -> None:
    shop = await stocked_shop()
    product_id = await _product_id(shop.product_slug)
    red, black = await add_image(product_id, "red", (64, 48)), await add_image(product_id, "black", (48, 64))
    async with uow() as s:
        await catalog.set_spec_images(
            s,
            product_id=product_id,
            data=catalog.SpecImagesWrite(attribute_code="colour", images={"红色": red.id, "黑色": black.id}),
            actor=SYSTEM,
        )

    await page.goto(f"/p/{shop.product_slug}")
    shown = page.locator("img.product-gallery-main:visible")
    await expect(shown).to_have_attribute("src", red.url)
    await page.get_by_role("button", name="Black", exact=True).click()
    await expect(shown).to_have_attribute("src", black.url)
    await shoot(page, "product-colour-picture")
    await page.get_by_role("button", name="Red", exact=True).click()
    await expect(shown).to_have_attribute("src", red.url)


async def _get(product_id: int) -> catalog.ProductRead:
    async with uow(write=False) as s:
        return await catalog.get_product(s, product_id=product_id)
