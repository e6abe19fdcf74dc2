"""A flash sale in Chromium on a phone (390 px) and a desktop (1280 px): the shopper watches the
countdown to the start, the page turns live by itself, they buy the one unit at the sale price
and land on the pay page; the page then shows the item sold out. A session with the human check
on makes the browser solve its puzzle before the buy button is enabled."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.async_api import expect

from mercato import identity
from mercato.core.db import uow
from tests.e2e.browser import customer_sign_in, no_horizontal_scroll, shoot
from tests.e2e.conftest import OpenPage
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import flash_session, flash_shop, purchase_statuses

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def _shopper(phone: str) -> None:
    customer = await make_customer(phone=f"+86{phone}", password=PASSWORD)
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=customer.id,
            data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
        )


@pytest.mark.parametrize("viewport", ["phone", "desktop"])
async def test_countdown_then_buy_then_sold_out(open_page: OpenPage, viewport: str) -> None:
    red, _black = await flash_shop(price=3000)
    await flash_session(red, price=990, quota=1, starts_in=dt.timedelta(seconds=3))
    await _shopper("13900000077")
    page = await open_page(viewport)
    await customer_sign_in(page, "13900000077", PASSWORD)

    await page.goto("/flash-sale")
    await expect(page.locator(".flash-phase-upcoming")).to_have_text("Coming up")
    await expect(page.locator("#flash-countdown")).to_have_text(re.compile(r"^00:00:0[0-3]$"))
    # at zero the page reloads by itself and the session is on
    await expect(page.locator(".flash-phase-live")).to_have_text("On now", timeout=8_000)
    await expect(page.locator(".flash-taken")).to_have_text("0% taken")
    if viewport == "phone":
        await no_horizontal_scroll(page, 360)
    await shoot(page, "flash-sale-live")
    await page.get_by_role("link", name="Buy now").click()
    await expect(page.locator(".checkout-total")).to_have_text("CN¥17.90")
    await page.get_by_role("button", name="Buy now and pay").click()
    await expect(page).to_have_url(re.compile(r"/pay/\d+"))
    assert await purchase_statuses() == ["pending"]

    await page.goto("/flash-sale")
    await expect(page.locator(".flash-sold-out")).to_be_visible()
    await expect(page.get_by_role("link", name="Buy now")).to_be_hidden()
    await expect(page.locator(".flash-taken")).to_have_text("100% taken")
    await shoot(page, "flash-sale-sold-out")


async def test_the_human_check_is_solved_in_the_browser_before_buying(
    open_page: OpenPage, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_FLASH_PROOF_BITS", "12")
    from mercato.core.settings import get_settings  # noqa: PLC0415

    get_settings.cache_clear()
    red, _black = await flash_shop(price=3000)
    session = await flash_session(red, price=990, quota=5, human_check=True)
    await _shopper("13900000078")
    page = await open_page("phone")
    await customer_sign_in(page, "13900000078", PASSWORD)

    await page.goto(f"/flash-sale/items/{session.items[0].id}")
    button = page.locator("#flash-place")
    await expect(button).to_be_enabled()
    await expect(button).to_have_text("Buy now and pay")
    await button.click()
    await expect(page).to_have_url(re.compile(r"/pay/\d+"))
    assert await purchase_statuses() == ["pending"]
