"""The console's bargaining (/admin/bargain-offers/): the list by status, a draft made in the form
and published (asked first), the live counts after bargains are started, helped and bought, ending
with a reason, refusals shown on the page changing nothing, and the pages refused without
promotions.read."""

from __future__ import annotations

import datetime as dt
import html
import re

from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import catalog, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import get_settings
from mercato.identity.models import AuditEntry
from mercato.social.models import BargainOffer, StatusChange
from tests.factories.social import (
    bargain_offer,
    buy_bargain,
    buyer,
    flash_shop,
    help_bargain,
    helpers,
    start_bargain,
)
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

MARKETER = ("promotions.read", "promotions.write")


def local(moment: dt.datetime) -> str:
    return moment.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M")


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def rows_of(page: Response) -> list[dict[str, str]]:
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        {
            label: text_of(cell)
            for label, cell in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.DOTALL)
        }
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def counts_of(page: Response) -> dict[str, str]:
    return {k: text_of(v) for k, v in re.findall(r'<dd data-count="(\w+)">(.*?)</dd>', page.text)}


async def offer_of(offer_id: int) -> social.BargainOfferRead:
    async with uow(write=False) as s:
        return await social.get_bargain_offer(s, offer_id=offer_id)


async def sku_code(sku_id: int) -> str:
    async with uow(write=False) as s:
        return (await catalog.get_sku_labels(s, sku_ids=[sku_id]))[sku_id].code


async def row_counts() -> tuple[int, ...]:
    async with uow(write=False) as s:
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (BargainOffer, StatusChange, AuditEntry)
            ]
        )


def form(csrf: str, sku: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "砍到 10 元",
        "sku": sku,
        "price": "",
        "floor": "10",
        "helps_min": "3",
        "helps_max": "6",
        "hours": "24",
        "stock": "5",
        "per_customer": "1",
        "starts_at": local(clock.now() + dt.timedelta(hours=1)),
        "ends_at": local(clock.now() + dt.timedelta(days=2)),
        **changes,
    }


async def test_the_list_and_detail_show_an_offer_with_its_counts(client: AsyncClient) -> None:
    red, black = await flash_shop(price=3000)
    active = await bargain_offer(red, floor=1000, stock=5)
    draft = await bargain_offer(black, publish=False)
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    listing = await client.get("/admin/bargain-offers/", headers=EN)
    drafts = await client.get("/admin/bargain-offers/?status=draft", headers=EN)
    ended = await client.get("/admin/bargain-offers/?status=ended", headers=EN)
    detail = await client.get(f"/admin/bargain-offers/{active.id}", headers=EN)

    assert (listing.status_code, drafts.status_code, ended.status_code, detail.status_code) == (200,) * 4
    assert [(r["Offer"], r["Status"], r["Stock"], r["Sold"]) for r in rows_of(listing)] == [
        ("砍到 10 元", "Draft", "10", "0"),  # the latest start first
        ("砍到 10 元", "Active", "5", "0"),
    ]
    assert f'href="/admin/bargain-offers/{draft.id}"' in drafts.text
    assert f'href="/admin/bargain-offers/{active.id}"' not in drafts.text
    assert "No bargaining offers yet." in ended.text
    assert '<a href="/admin/bargain-offers/" aria-current="page">Bargaining</a>' in listing.text  # the menu
    assert "New offer" not in listing.text  # a reader gets no write buttons
    assert counts_of(detail) == {
        "started": "0",
        "active": "0",
        "floor_reached": "0",
        "ordered": "0",
        "bought": "0",
        "expired": "0",
        "helps": "0",
        "sold": "0 / 5",
    }
    assert '<dd data-fact="floor">CN¥10.00</dd>' in detail.text
    assert "Status history" in detail.text
    assert "End the offer" not in detail.text


async def test_a_draft_made_in_the_form_is_edited_and_published(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get("/admin/bargain-offers/new", headers=EN)
    csrf = csrf_of(page)
    code = await sku_code(red)

    created = await client.post(
        "/admin/bargain-offers/", data=form(csrf, code, new_helpers_only="1"), headers=EN
    )
    offer_id = int(created.headers["location"].split("/")[3].split("?")[0])
    edit = await client.get(f"/admin/bargain-offers/{offer_id}/edit", headers=EN)
    updated = await client.post(
        f"/admin/bargain-offers/{offer_id}", data=form(csrf, code, price="25.5", stock="7"), headers=EN
    )
    asked = await client.post(
        f"/admin/bargain-offers/{offer_id}/publish", data={"csrf_token": csrf}, headers=EN
    )
    still_draft = await offer_of(offer_id)
    published = await client.post(
        f"/admin/bargain-offers/{offer_id}/publish", data={"csrf_token": csrf, "confirmed": "1"}
    )
    detail = await client.get(published.headers["location"], headers=EN)
    shown = await offer_of(offer_id)

    assert created.headers["location"] == f"/admin/bargain-offers/{offer_id}?notice=created"
    assert f'value="{code}"' in edit.text
    assert 'name="new_helpers_only" value="1" checked' in edit.text
    assert updated.headers["location"] == f"/admin/bargain-offers/{offer_id}?notice=updated"
    assert asked.status_code == 200
    assert (
        '<p id="confirm-question">Publish the offer? Shoppers can start bargains on it within its window.</p>'
        in html.unescape(asked.text)
    )
    assert still_draft.status is social.BargainOfferStatus.draft
    assert published.headers["location"] == f"/admin/bargain-offers/{offer_id}?notice=published"
    assert (shown.sku_id, shown.price_amount, shown.floor_amount, shown.stock, shown.new_helpers_only) == (
        red,
        2550,
        1000,
        7,
        False,
    )
    assert (shown.helps_min, shown.helps_max, shown.status) == (3, 6, social.BargainOfferStatus.active)
    assert "Published: shoppers can start bargains on it." in html.unescape(detail.text)


async def test_a_refused_form_comes_back_with_the_message_saving_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    csrf = csrf_of(await client.get("/admin/bargain-offers/new", headers=EN))
    code = await sku_code(red)
    before = await row_counts()

    too_low = await client.post("/admin/bargain-offers/", data=form(csrf, code, floor="30"), headers=EN)
    unknown = await client.post("/admin/bargain-offers/", data=form(csrf, "NO-SUCH-SKU"), headers=EN)
    above = await client.post("/admin/bargain-offers/", data=form(csrf, code, price="31"), headers=EN)
    backwards = await client.post(
        "/admin/bargain-offers/", data=form(csrf, code, helps_min="8", helps_max="4"), headers=EN
    )

    assert [r.status_code for r in (too_low, unknown, above, backwards)] == [422] * 4
    assert field_error_of(too_low, "bargain-floor") == "The floor price must be below the starting price."
    assert field_error_of(unknown, "bargain-sku") == "No SKU has the code NO-SUCH-SKU."
    assert field_error_of(above, "bargain-price") == "The starting price cannot be above the SKU's own price."
    assert field_error_of(backwards, "bargain-helps_max") != ""
    assert 'value="砍到 10 元"' in too_low.text
    assert await row_counts() == before


async def test_the_live_counts_follow_bargains_and_ending_records_the_reason(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(2, 2), stock=5)
    first, second = await buyer(), await buyer()
    reached = await start_bargain(first, offer.id)
    for friend in await helpers(2):
        await help_bargain(reached.id, friend)
    await buy_bargain(first, reached.id, total=1000 + 800)
    await start_bargain(second, offer.id)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get(f"/admin/bargain-offers/{offer.id}", headers=EN)

    asked = await client.post(
        f"/admin/bargain-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(page), "reason": "活动调整"},
        headers=EN,
    )
    ended = await client.post(
        f"/admin/bargain-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(page), "reason": "活动调整", "confirmed": "1"},
    )
    detail = await client.get(ended.headers["location"], headers=EN)
    again = await client.post(
        f"/admin/bargain-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(detail), "confirmed": "1"},
        headers=EN,
    )

    assert counts_of(page) == {
        "started": "2",
        "active": "1",
        "floor_reached": "1",
        "ordered": "1",
        "bought": "0",
        "expired": "0",
        "helps": "2",
        "sold": "1 / 5",
    }
    assert '<input type="hidden" name="reason" value="活动调整">' in asked.text
    assert ended.headers["location"] == f"/admin/bargain-offers/{offer.id}?notice=ended"
    assert (await offer_of(offer.id)).status is social.BargainOfferStatus.ended
    assert "Ended: no new bargains start." in detail.text
    assert "活动调整" in detail.text
    assert again.status_code == 409
    assert alert_of(again) == "Cannot change status from ended to ended."


async def test_the_pages_are_refused_without_the_permission(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    draft = await bargain_offer(red, publish=False)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    before = await row_counts()

    pages = [
        await client.get(path, headers=EN)
        for path in (
            "/admin/bargain-offers/",
            f"/admin/bargain-offers/{draft.id}",
            "/admin/bargain-offers/new",
            f"/admin/bargain-offers/{draft.id}/edit",
        )
    ]
    csrf = csrf_of(await client.get("/admin/orders/"))
    publish = await client.post(
        f"/admin/bargain-offers/{draft.id}/publish", data={"csrf_token": csrf, "confirmed": "1"}, headers=EN
    )
    orders_page = await client.get("/admin/orders/", headers=EN)

    assert [page.status_code for page in pages] == [403] * 4
    assert publish.status_code == 403
    assert (await offer_of(draft.id)).status is social.BargainOfferStatus.draft
    assert await row_counts() == before
    assert "/admin/bargain-offers/" not in orders_page.text  # no menu entry either
