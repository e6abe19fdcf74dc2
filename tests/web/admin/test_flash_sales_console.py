"""The console's flash sales (/admin/flash-sessions/): the list by status with each published
session's phase, a draft made in the form and given its items, publish and cancel (asked first),
the live counts after a purchase, refusals shown on the page changing nothing, and the pages
refused without promotions.read."""

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
from mercato.social.models import FlashItem, FlashSession, StatusChange
from tests.factories.social import available, buy, buyer, flash_session, flash_shop
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

MARKETER = ("promotions.read", "promotions.write")
TOTAL = 990 + 800  # the sale price and the default template's 8 元 fee


def local(moment: dt.datetime) -> str:
    return moment.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M")


def shop_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=get_settings().tz)


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def rows_of(page: Response) -> list[dict[str, str]]:
    """The list's rows: each cell's text by its column label."""
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        {
            label: text_of(cell)
            for label, cell in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.DOTALL)
        }
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    ]


def counts_of(page: Response, item_id: int) -> dict[str, str]:
    """The live counts of one item on the detail page."""
    row = re.search(rf'<tr data-figures="{item_id}">(.*?)</tr>', page.text, re.DOTALL)
    assert row is not None, "no live counts for the item"
    return dict(re.findall(r'data-count="(\w+)">([^<]*)</td>', row.group(1)))


async def session_of(flash_session_id: int) -> social.FlashSessionRead:
    async with uow(write=False) as s:
        return await social.get_flash_session(s, flash_session_id=flash_session_id)


async def sku_code(sku_id: int) -> str:
    async with uow(write=False) as s:
        return (await catalog.get_sku_labels(s, sku_ids=[sku_id]))[sku_id].code


async def row_counts() -> tuple[int, ...]:
    async with uow(write=False) as s:
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (FlashSession, FlashItem, StatusChange, AuditEntry)
            ]
        )


async def test_the_list_shows_a_published_session_with_its_phase(client: AsyncClient) -> None:
    red, _black = await flash_shop(stock=20)
    published = await flash_session(red, quota=10)
    draft = await flash_session(red, publish=False, starts_in=dt.timedelta(days=1))
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    listing = await client.get("/admin/flash-sessions/", headers=EN)
    drafts = await client.get("/admin/flash-sessions/?status=draft", headers=EN)
    cancelled = await client.get("/admin/flash-sessions/?status=cancelled", headers=EN)
    detail = await client.get(f"/admin/flash-sessions/{published.id}", headers=EN)

    assert (listing.status_code, drafts.status_code, cancelled.status_code, detail.status_code) == (
        200,
        200,
        200,
        200,
    )
    rows = rows_of(listing)
    assert [(r["Session"], r["Status"], r["Items"], r["Phase"]) for r in rows] == [
        ("20:00 场", "Draft", "1", "—"),
        ("20:00 场", "Published (quotas held)", "1", "Selling now (抢购中)"),
    ]
    assert f'href="/admin/flash-sessions/{published.id}"' in listing.text
    assert f'href="/admin/flash-sessions/{draft.id}"' in drafts.text
    assert f'href="/admin/flash-sessions/{published.id}"' not in drafts.text
    assert '<a href="/admin/flash-sessions/?status=draft" aria-current="page">Draft</a>' in drafts.text
    assert "No flash-sale sessions yet." in cancelled.text
    assert '<a href="/admin/flash-sessions/" aria-current="page">Flash sales</a>' in listing.text  # the menu
    assert "New session" not in listing.text  # a reader gets no write buttons
    assert counts_of(detail, published.items[0].id) == {
        "left": "10",
        "pending": "0",
        "paid": "0",
        "released": "0",
        "refunded": "0",
        "orders": "0",
        "buyers": "0",
    }
    assert "Add an item" not in detail.text
    assert "Status history" in detail.text


async def test_a_draft_made_in_the_form_gets_its_items_and_is_published(client: AsyncClient) -> None:
    red, black = await flash_shop(price=3000, stock=20)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    starts = local(clock.now() + dt.timedelta(hours=1))
    ends = local(clock.now() + dt.timedelta(hours=3))
    page = await client.get("/admin/flash-sessions/new", headers=EN)
    csrf = csrf_of(page)

    created = await client.post(
        "/admin/flash-sessions/",
        data={
            "csrf_token": csrf,
            "name": "10:00 场",
            "starts_at": starts,
            "ends_at": ends,
            "note": "每人限购 2 件",
            "human_check": "1",
        },
        headers=EN,
    )
    flash_id = int(created.headers["location"].split("/")[3].split("?")[0])
    added = await client.post(
        f"/admin/flash-sessions/{flash_id}/items",
        data={
            "csrf_token": csrf,
            "sku": await sku_code(red),
            "price": "9.90",
            "quota": "5",
            "per_customer": "2",
        },
    )
    await client.post(
        f"/admin/flash-sessions/{flash_id}/items",
        data={"csrf_token": csrf, "sku": str(black), "price": "10", "quota": "3", "per_customer": "1"},
    )
    with_both = await session_of(flash_id)
    removed = await client.post(
        f"/admin/flash-sessions/{flash_id}/items/{with_both.items[1].id}/remove",
        data={"csrf_token": csrf, "confirmed": "1"},
    )
    asked = await client.post(
        f"/admin/flash-sessions/{flash_id}/publish", data={"csrf_token": csrf}, headers=EN
    )
    still_draft = await session_of(flash_id)
    published = await client.post(
        f"/admin/flash-sessions/{flash_id}/publish", data={"csrf_token": csrf, "confirmed": "1"}
    )
    detail = await client.get(f"/admin/flash-sessions/{flash_id}?notice=published", headers=EN)
    shown = await session_of(flash_id)

    assert created.status_code == 303, created.text
    assert created.headers["location"] == f"/admin/flash-sessions/{flash_id}?notice=created"
    assert added.headers["location"] == f"/admin/flash-sessions/{flash_id}?notice=item_added"
    assert [(i.sku_id, i.price_amount, i.quota, i.per_customer) for i in with_both.items] == [
        (red, 990, 5, 2),
        (black, 1000, 3, 1),
    ]
    assert removed.headers["location"] == f"/admin/flash-sessions/{flash_id}?notice=item_removed"
    assert asked.status_code == 200
    assert (
        '<p id="confirm-question">Publish the session? Each item\'s quota is set aside from stock now, and '
        "shoppers see it.</p>" in html.unescape(asked.text)
    )
    assert still_draft.status is social.FlashSessionStatus.draft
    assert published.headers["location"] == f"/admin/flash-sessions/{flash_id}?notice=published"
    assert (shown.name, shown.note, shown.human_check, shown.status) == (
        "10:00 场",
        "每人限购 2 件",
        True,
        social.FlashSessionStatus.published,
    )
    assert (shown.starts_at, shown.ends_at) == (shop_time(starts), shop_time(ends))
    assert [(i.sku_id, i.quota) for i in shown.items] == [(red, 5)]
    assert (await available(red), await available(black)) == (15, 20)
    assert "<p>Published: each item's quota is set aside from stock.</p>" in html.unescape(detail.text)
    assert 'data-phase="upcoming">Starting soon (即将开始)</span>' in detail.text
    assert counts_of(detail, shown.items[0].id)["left"] == "5"


async def test_a_refused_form_or_item_comes_back_with_the_message_saving_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    draft = await flash_session(red, publish=False)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get("/admin/flash-sessions/new", headers=EN)
    csrf = csrf_of(page)
    before = await row_counts()

    backwards = await client.post(
        "/admin/flash-sessions/",
        data={
            "csrf_token": csrf,
            "name": "10:00 场",
            "starts_at": local(clock.now() + dt.timedelta(days=2)),
            "ends_at": local(clock.now() + dt.timedelta(days=1)),
        },
        headers=EN,
    )
    unknown = await client.post(
        f"/admin/flash-sessions/{draft.id}/items",
        data={"csrf_token": csrf, "sku": "NO-SUCH-SKU", "price": "9.90", "quota": "5", "per_customer": "1"},
        headers=EN,
    )
    too_dear = await client.post(
        f"/admin/flash-sessions/{draft.id}/items",
        data={"csrf_token": csrf, "sku": str(red + 1), "price": "30", "quota": "5", "per_customer": "1"},
        headers=EN,
    )

    assert backwards.status_code == 422
    assert field_error_of(backwards, "flash-ends_at") == "The end must be after the start."
    assert 'value="10:00 场"' in backwards.text
    assert unknown.status_code == 422
    assert field_error_of(unknown, "flash-item-sku") == "No SKU has the code NO-SUCH-SKU."
    assert too_dear.status_code == 422
    assert (
        field_error_of(too_dear, "flash-item-price") == "The flash-sale price must be below the SKU's price."
    )
    assert 'value="30"' in too_dear.text
    assert await row_counts() == before


async def test_the_live_counts_show_a_purchase(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    flash = await flash_session(red, price=990, quota=10)
    item_id = flash.items[0].id
    await buy(await buyer(), item_id, total=TOTAL)
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    detail = await client.get(f"/admin/flash-sessions/{flash.id}", headers=EN)

    assert detail.status_code == 200
    assert counts_of(detail, item_id) == {
        "left": "9",
        "pending": "1",
        "paid": "0",
        "released": "0",
        "refunded": "0",
        "orders": "1",
        "buyers": "1",
    }
    assert '<progress max="10" value="1"' in detail.text


async def test_a_published_session_cancelled_after_confirming_gives_its_quota_back(
    client: AsyncClient,
) -> None:
    red, _black = await flash_shop(stock=20)
    flash = await flash_session(red, quota=10)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get(f"/admin/flash-sessions/{flash.id}", headers=EN)

    asked = await client.post(
        f"/admin/flash-sessions/{flash.id}/cancel",
        data={"csrf_token": csrf_of(page), "reason": "改期"},
        headers=EN,
    )
    held = await available(red)
    cancelled = await client.post(
        f"/admin/flash-sessions/{flash.id}/cancel",
        data={"csrf_token": csrf_of(page), "reason": "改期", "confirmed": "1"},
    )
    detail = await client.get(cancelled.headers["location"], headers=EN)

    assert asked.status_code == 200
    assert '<input type="hidden" name="reason" value="改期">' in asked.text
    assert held == 10
    assert cancelled.headers["location"] == f"/admin/flash-sessions/{flash.id}?notice=cancelled"
    assert (await session_of(flash.id)).status is social.FlashSessionStatus.cancelled
    assert await available(red) == 20
    assert "Cancelled: what was not sold went back to stock." in detail.text
    history = re.search(
        r'<section class="panel" aria-labelledby="history-title".*?</section>', detail.text, re.DOTALL
    )
    assert history is not None
    assert [
        (text_of(f), text_of(t), text_of(r))
        for f, t, r in re.findall(
            r'<td data-label="From">(.*?)</td>\s*<td data-label="To">(.*?)</td>'
            r'.*?<td data-label="Reason">(.*?)</td>',
            history.group(0),
            re.DOTALL,
        )
    ] == [
        ("Draft", "Published (quotas held)", "—"),
        ("Published (quotas held)", "Cancelled", "改期"),
    ]


async def test_a_publish_refused_for_want_of_stock_shows_why_and_changes_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(stock=5)
    draft = await flash_session(red, quota=6, publish=False)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get(f"/admin/flash-sessions/{draft.id}", headers=EN)
    before = await row_counts()

    refused = await client.post(
        f"/admin/flash-sessions/{draft.id}/publish",
        data={"csrf_token": csrf_of(page), "confirmed": "1"},
        headers=EN,
    )

    assert refused.status_code == 409
    assert alert_of(refused) == "There is not enough stock to set aside the quota of 纯棉圆领T恤 (6 units)."
    assert (await session_of(draft.id)).status is social.FlashSessionStatus.draft
    assert await available(red) == 5
    assert await row_counts() == before


async def test_the_pages_are_refused_without_the_permission(client: AsyncClient) -> None:
    red, _black = await flash_shop(stock=20)
    draft = await flash_session(red, publish=False)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    before = await row_counts()

    pages = [
        await client.get(path, headers=EN)
        for path in (
            "/admin/flash-sessions/",
            f"/admin/flash-sessions/{draft.id}",
            "/admin/flash-sessions/new",
            f"/admin/flash-sessions/{draft.id}/edit",
        )
    ]
    csrf = csrf_of(await client.get("/admin/orders/"))
    publish = await client.post(
        f"/admin/flash-sessions/{draft.id}/publish", data={"csrf_token": csrf, "confirmed": "1"}, headers=EN
    )
    orders_page = await client.get("/admin/orders/", headers=EN)

    assert [page.status_code for page in pages] == [403] * 4
    assert publish.status_code == 403
    assert (await session_of(draft.id)).status is social.FlashSessionStatus.draft
    assert await available(red) == 20
    assert await row_counts() == before
    assert "/admin/flash-sessions/" not in orders_page.text  # no menu entry either
