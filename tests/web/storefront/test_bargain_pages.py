"""The bargaining pages: the offers to start, a bargain's page (price now, the progress bar, the
helps, what is left, every cut with a masked name, the countdown, sharing), a friend's help, the
same-device refusal changing nothing, and the initiator buying through the confirm page."""

from __future__ import annotations

import html
import re

import pytest
from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import bargain_counts, bargain_offer, flash_shop, offer_sold, read_bargain
from tests.web.pages import EN, alert_of, csrf_of, sign_in

pytestmark = pytest.mark.usefixtures("handlers")

DEVICE = "mercato_device"


async def signed_in_as(
    client: AsyncClient, phone: str, *, name: str = "测试", address: bool = False, keep_device: bool = False
) -> int:
    """A new customer signed in on ``client`` (the browser's device cookie kept when asked)."""
    customer = await make_customer(phone=phone, name=name)
    if address:
        async with uow() as s:
            await identity.add_address(
                s,
                customer_id=customer.id,
                data=identity.AddressWrite(**{k: v for k, v in ADDRESS.items() if k != "is_default"}),  # type: ignore[arg-type]
            )
    device = client.cookies.get(DEVICE)
    client.cookies.clear()
    if keep_device and device:
        client.cookies.set(DEVICE, device)
    await sign_in(client, phone, PASSWORD)
    return customer.id


def form_values(page: str) -> dict[str, str]:
    """The hidden fields and the checked payment method of the buy form."""
    form = page[page.index('id="bargain-form"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', form))
    values["provider"] = re.findall(r'name="provider" value="([a-z]+)" checked', form)[0]
    return values


async def start_on_page(client: AsyncClient, offer_id: int) -> tuple[int, str]:
    listing = await client.get("/bargains", headers=EN)
    started = await client.post(
        f"/bargains/offers/{offer_id}/start", data={"csrf_token": csrf_of(listing)}, headers=EN
    )
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    return int(location.split("/")[2].split("?")[0]), location


async def test_the_offers_page_starts_a_bargain_and_its_page_shows_the_way_to_the_floor(
    client: AsyncClient,
) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5), stock=3)
    await signed_in_as(client, "+8613800139001")

    listing = await client.get("/bargains", headers=EN)
    bargain_id, location = await start_on_page(client, offer.id)
    page = await client.get(location, headers=EN)
    text = html.unescape(page.text)

    assert listing.status_code == 200
    assert f'action="/bargains/offers/{offer.id}/start"' in listing.text
    assert "3 left" in listing.text
    assert DEVICE in listing.headers.get("set-cookie", "") or client.cookies.get(DEVICE)
    assert location == f"/bargains/{bargain_id}?notice=started"
    assert "Your bargain has started: share it so friends help cut the price." in text
    assert '<progress class="bargain-progress" id="bargain-progress" max="2000" value="0"' in page.text
    assert '<span id="bargain-helps">0 of 5 helps</span>' in page.text
    assert '<span id="bargain-left">Only CN¥20.00 to go</span>' in text
    assert (
        f'<a class="button" id="bargain-buy" href="/bargains/{bargain_id}/buy">Buy now at CN¥30.00</a>'
        in text
    )
    assert f'data-api="/api/v1/share?kind=bargain&amp;id={bargain_id}"' in page.text
    seconds = int(re.search(r'id="bargain-countdown"[^>]*data-seconds="(\d+)"', page.text).group(1))  # type: ignore[union-attr]
    assert 86390 <= seconds <= 86400
    assert 'id="bargain-help"' not in page.text  # no helping one's own
    mine = await client.get("/bargains", headers=EN)
    assert f'<a href="/bargains/{bargain_id}">' in mine.text


async def test_a_friend_helps_and_anyone_sees_the_cut_with_a_masked_name(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    await signed_in_as(client, "+8613800139002")
    bargain_id, _location = await start_on_page(client, offer.id)
    await signed_in_as(client, "+8613800139003", name="张三")

    before = await client.get(f"/bargains/{bargain_id}", headers=EN)
    helped = await client.post(
        f"/bargains/{bargain_id}/help", data={"csrf_token": csrf_of(before)}, headers=EN
    )
    after = await client.get(helped.headers["location"], headers=EN)
    again = await client.post(f"/bargains/{bargain_id}/help", data={"csrf_token": csrf_of(after)}, headers=EN)
    client.cookies.clear()
    anonymous = await client.get(f"/bargains/{bargain_id}", headers=EN)

    cut = (await read_bargain(bargain_id)).helps[0].amount
    assert 'id="bargain-help"' in before.text
    assert (helped.status_code, helped.headers["location"]) == (303, f"/bargains/{bargain_id}?notice=helped")
    text = html.unescape(after.text)
    assert "Thank you for helping!" in text
    assert f"You cut CN¥{cut / 100:.2f} off this bargain." in text
    assert (
        f'<span class="bargain-helper">张**</span> <span class="bargain-cut">−CN¥{cut / 100:.2f}</span>'
        in text
    )
    assert '<span id="bargain-helps">1 of 5 helps</span>' in after.text
    assert again.status_code == 409
    assert alert_of(again) == "You have already helped cut this bargain."
    assert 'id="bargain-sign-in"' in anonymous.text
    assert "张**" in anonymous.text
    assert (await bargain_counts())[1] == 1


async def test_a_help_from_the_initiators_device_is_refused_and_changes_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    await signed_in_as(client, "+8613800139004")
    bargain_id, _location = await start_on_page(client, offer.id)
    await signed_in_as(client, "+8613800139005", keep_device=True)
    page = await client.get(f"/bargains/{bargain_id}", headers=EN)
    before = await bargain_counts()

    refused = await client.post(
        f"/bargains/{bargain_id}/help", data={"csrf_token": csrf_of(page)}, headers=EN
    )

    assert refused.status_code == 409
    assert (
        alert_of(refused)
        == "This device has already been used on this bargain: each friend helps from their own."
    )
    assert await bargain_counts() == before
    assert (await read_bargain(bargain_id)).helps_done == 0


async def test_the_initiator_buys_at_the_price_now_through_the_confirm_page(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5))
    await signed_in_as(client, "+8613800139006", address=True)
    bargain_id, _location = await start_on_page(client, offer.id)

    confirm = await client.get(f"/bargains/{bargain_id}/buy", headers=EN)
    values = form_values(confirm.text)
    bought = await client.post(f"/bargains/{bargain_id}/buy", data=values, headers=EN)
    again = await client.post(
        f"/bargains/{bargain_id}/buy", data={**values, "idempotency_key": "another-key-123"}, headers=EN
    )
    page = await client.get(f"/bargains/{bargain_id}", headers=EN)

    assert confirm.status_code == 200
    assert values["expected_total_amount"] == "3800"
    assert (bought.status_code, bought.headers["location"].startswith("/pay/")) == (303, True)
    assert again.status_code == 409
    assert alert_of(again) == "This bargain has been ordered or bought already."
    assert "Your order is waiting for payment." in page.text
    assert await offer_sold(offer.id) == 1


async def test_signed_out_visitors_are_sent_to_sign_in_and_unknown_bargains_are_404(
    client: AsyncClient,
) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red)
    listing = await client.get("/bargains", headers=EN)

    start = await client.post(f"/bargains/offers/{offer.id}/start", data={"csrf_token": csrf_of(listing)})
    buy = await client.get("/bargains/1/buy")
    gone = await client.get("/bargains/99999", headers=EN)

    assert (start.status_code, start.headers["location"]) == (303, "/account/login?next=/bargains")
    assert (buy.status_code, buy.headers["location"]) == (303, "/account/login?next=/bargains/1/buy")
    assert gone.status_code == 404
    assert await bargain_counts() == (0, 0, 1)  # the offer's publication only
