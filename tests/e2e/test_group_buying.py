"""Group buying in Chromium on a phone: a friend opens the group's shared link, sees the leader
(masked) and the empty seat with the time left, joins, pays in the sandbox gateway, and the group
page then says the group is complete."""

from __future__ import annotations

import asyncio
import re

import pytest
from playwright.async_api import expect

from mercato import identity, social
from mercato.core.db import uow
from tests.e2e.browser import customer_sign_in, no_horizontal_scroll, shoot
from tests.e2e.conftest import OpenPage
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import buyer, flash_shop, group_offer, open_group, pay

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("worker")]


async def test_a_friend_joins_from_the_shared_link_and_the_group_completes(open_page: OpenPage) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red, price=1990, size=2)
    opened = await open_group(await buyer(), offer.id, total=1990 + 800)
    await pay(opened.payment_id)
    friend = await make_customer(phone="+8613900000066", password=PASSWORD)
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=friend.id,
            data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
        )
    page = await open_page("phone")
    await customer_sign_in(page, "13900000066", PASSWORD)

    await page.goto(f"/groups/{opened.group_id}")  # the link the leader shared
    await expect(page.locator("#group-status")).to_contain_text("1 more needed")
    await expect(page.locator(".group-seat-taken")).to_have_count(1)
    await no_horizontal_scroll(page, 360)
    await shoot(page, "group-shared-link")
    await page.get_by_role("link", name="Join this group").click()
    await expect(page.locator(".checkout-total")).to_have_attribute("data-total", "2790")
    await page.get_by_role("button", name="Pay and take a seat").click()
    await expect(page).to_have_url(re.compile(r"/pay/\d+$"))
    await page.get_by_role("link", name="Pay in the sandbox").click()
    await page.get_by_role("button", name="Pay", exact=True).click()
    await page.get_by_role("link", name="Return to the shop").click()
    await expect(page.locator("#result-status")).to_have_attribute("data-outcome", "paid", timeout=15_000)

    for _ in range(50):  # the seat is taken when the worker has handled the payment
        async with uow(write=False) as s:
            if (await social.get_group(s, group_id=opened.group_id)).status is social.GroupStatus.complete:
                break
        await asyncio.sleep(0.2)
    await page.goto(f"/groups/{opened.group_id}")
    await expect(page.locator("#group-status")).to_contain_text("Complete", timeout=10_000)
    await expect(page.locator(".group-seat-taken")).to_have_count(2)
    await shoot(page, "group-complete")
