"""The flash-sale pages: session tabs with countdowns from the server's clock, the taken bar and
sold-out state, "remind me", and buying through the confirm page (a fresh idempotency key; a
sold-out attempt re-renders the page with the reason and places nothing)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import flash_session, flash_shop, left, purchase_statuses
from tests.web.pages import EN, alert_of, csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("handlers")


async def shopper_signed_in(client: AsyncClient, phone: str) -> int:
    customer = await make_customer(phone=phone)
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=customer.id,
            data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
        )
    client.cookies.clear()
    await sign_in(client, phone, PASSWORD)
    return customer.id


def form_values(page: str) -> dict[str, str]:
    """The hidden fields and the checked payment method of the buy form."""
    form = page[page.index('id="flash-form"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    values["provider"] = re.findall(r'name="provider" value="([a-z]+)" checked', form)[0]
    return values


async def test_the_page_shows_live_and_upcoming_sessions_with_their_countdowns(client: AsyncClient) -> None:
    red, black = await flash_shop(price=3000)
    live = await flash_session(red, price=990, quota=4, lasts=dt.timedelta(hours=1))
    await flash_session(black, starts_in=dt.timedelta(hours=3))

    page = await client.get("/flash-sale", headers=EN)

    assert page.status_code == 200
    assert page.text.count('class="flash-phase flash-phase-live"') == 1
    assert page.text.count('class="flash-phase flash-phase-upcoming"') == 1
    seconds = int(re.search(r'id="flash-countdown"[^>]*data-seconds="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    assert 3590 <= seconds <= 3600
    assert '<span class="flash-price">CN¥9.90</span> <s class="price-was">CN¥30.00</s>' in page.text
    assert f'href="/flash-sale/items/{live.items[0].id}"' in page.text
    assert '<progress class="flash-progress" max="4" value="0"' in page.text


async def test_a_shopper_buys_and_the_next_one_is_told_it_is_sold_out(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    session = await flash_session(red, price=990, quota=1)
    item_id = session.items[0].id
    await shopper_signed_in(client, "+8613800138001")

    confirm = await client.get(f"/flash-sale/items/{item_id}", headers=EN)
    values = form_values(confirm.text)
    bought = await client.post(f"/flash-sale/items/{item_id}/buy", data=values, headers=EN)
    await shopper_signed_in(client, "+8613800138002")
    second = await client.get(f"/flash-sale/items/{item_id}", headers=EN)
    late = await client.post(
        f"/flash-sale/items/{item_id}/buy",
        data={**values, "csrf_token": csrf_of(second), "idempotency_key": "another-key-123"},
        headers=EN,
    )
    listing = await client.get("/flash-sale", headers=EN)
    counts = await client.get("/flash-sale/live.json")

    assert confirm.status_code == 200
    assert values["expected_total_amount"] == "1790"
    assert (bought.status_code, bought.headers["location"].startswith("/pay/")) == (303, True)
    assert "Sold out" in second.text
    assert late.status_code == 409
    assert alert_of(late) == "Sold out: every unit of this flash sale has been taken."
    assert await purchase_statuses() == ["pending"]
    assert await left(item_id) == 0
    assert re.search(r'class="button flash-buy"[^>]*hidden', listing.text)
    assert counts.json() == {str(item_id): 0}
    assert counts.headers["cache-control"] == "no-store"


async def test_remind_me_for_an_upcoming_session(client: AsyncClient) -> None:
    red, _black = await flash_shop()
    session = await flash_session(red, starts_in=dt.timedelta(hours=2))
    await shopper_signed_in(client, "+8613800138003")

    page = await client.get(f"/flash-sale?session={session.id}", headers=EN)
    asked = await client.post(
        f"/flash-sale/sessions/{session.id}/remind", data={"csrf_token": csrf_of(page)}, headers=EN
    )
    after = await client.get(f"/flash-sale?session={session.id}", headers=EN)

    assert 'id="flash-remind"' in page.text
    assert asked.status_code == 303
    assert "We will send you a message when it starts." in after.text
    assert 'id="flash-remind"' not in after.text


async def test_signed_out_shoppers_are_sent_to_sign_in_and_nothing_is_bought(client: AsyncClient) -> None:
    red, _black = await flash_shop()
    session = await flash_session(red)

    page = await client.get(f"/flash-sale/items/{session.items[0].id}")
    gone = await client.get("/flash-sale/items/99999", headers=EN)

    assert (page.status_code, page.headers["location"]) == (
        303,
        f"/account/login?next=/flash-sale/items/{session.items[0].id}",
    )
    assert gone.status_code in (303, 404)
    assert await purchase_statuses() == []


async def test_an_empty_flash_sale_says_so(client: AsyncClient) -> None:
    page = await client.get("/flash-sale", headers=EN)

    assert page.status_code == 200
    assert "No flash sale is on now or coming in the next two days." in page.text
