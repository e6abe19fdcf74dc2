"""The console's group buying (/admin/group-offers/): the list by status with each offer's SKU,
prices and window, a draft made in the form, edited and published (asked first), refusals shown
on the form saving nothing, the live counts after groups form and fail, ending with a reason, and
the pages refused without promotions.read."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import catalog, social
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.i18n import format_datetime
from mercato.core.jobs import broker
from mercato.core.settings import get_settings
from mercato.identity.models import AuditEntry
from mercato.social.models import GroupOffer, StatusChange
from tests.factories.catalog import SYSTEM
from tests.factories.social import buyer, deliver, flash_shop, group_offer, open_group, pay
from tests.web.pages import EN, alert_of, csrf_of, field_error_of, staff_sign_in

pytestmark = pytest.mark.usefixtures("handlers")

MARKETER = ("promotions.read", "promotions.write")
GROUP_TOTAL = 1990 + 800  # the group price and the default template's 8 元 fee


def local(moment: dt.datetime) -> str:
    return moment.astimezone(get_settings().tz).strftime("%Y-%m-%dT%H:%M")


def shop_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=get_settings().tz)


def text_of(fragment: str) -> str:
    return re.sub(r"[ \t\n]+", " ", html.unescape(re.sub(r"<[^>]+>", "", fragment))).strip()


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


def counts_of(page: Response) -> dict[str, str]:
    return {k: text_of(v) for k, v in re.findall(r'<dd data-count="(\w+)">(.*?)</dd>', page.text)}


def facts_of(page: Response) -> dict[str, str]:
    return {k: text_of(v) for k, v in re.findall(r'<dd data-fact="(\w+)">(.*?)</dd>', page.text, re.DOTALL)}


def history_of(page: Response) -> list[tuple[str, str, str]]:
    """(from, to, reason) of each row of the status history."""
    panel = re.search(
        r'<section class="panel" aria-labelledby="history-title".*?</section>', page.text, re.DOTALL
    )
    assert panel is not None
    return [
        (text_of(f), text_of(t), text_of(r))
        for f, t, r in re.findall(
            r'<td data-label="From">(.*?)</td>\s*<td data-label="To">(.*?)</td>'
            r'.*?<td data-label="Reason">(.*?)</td>',
            panel.group(0),
            re.DOTALL,
        )
    ]


def window(offer: social.GroupOfferRead) -> str:
    tz = get_settings().tz
    return f"{format_datetime(offer.starts_at, tz, 'en')} – {format_datetime(offer.ends_at, tz, 'en')}"


async def offer_of(offer_id: int) -> social.GroupOfferRead:
    async with uow(write=False) as s:
        return await social.get_group_offer(s, offer_id=offer_id)


async def sku_code(sku_id: int) -> str:
    async with uow(write=False) as s:
        return (await catalog.get_sku_labels(s, sku_ids=[sku_id]))[sku_id].code


async def draft_offer(
    sku_id: int, *, starts_in: dt.timedelta = dt.timedelta(days=1), lasts: dt.timedelta = dt.timedelta(days=7)
) -> social.GroupOfferRead:
    """A draft 2 人团 on ``sku_id`` at 19.90 元."""
    start = clock.now() + starts_in
    async with uow() as s:
        return await social.create_group_offer(
            s,
            data=social.GroupOfferWrite(
                name="2 人团", sku_id=sku_id, price_amount=1990, starts_at=start, ends_at=start + lasts
            ),
            actor=SYSTEM,
        )


async def row_counts() -> tuple[int, ...]:
    async with uow(write=False) as s:
        return tuple(
            [
                (await s.execute(select(func.count()).select_from(model))).scalar_one()
                for model in (GroupOffer, StatusChange, AuditEntry)
            ]
        )


def form(csrf: str, sku: str, **changes: str) -> dict[str, str]:
    return {
        "csrf_token": csrf,
        "name": "3 人团",
        "sku": sku,
        "price": "19.90",
        "leader_price": "",
        "size": "3",
        "hours": "24",
        "per_customer": "1",
        "starts_at": local(clock.now() + dt.timedelta(hours=1)),
        "ends_at": local(clock.now() + dt.timedelta(days=2)),
        **changes,
    }


async def test_the_list_shows_a_published_offer_with_its_sku_prices_and_window(client: AsyncClient) -> None:
    red, black = await flash_shop(price=3000)
    active = await group_offer(red, price=1990, size=3, hours=24)
    draft = await draft_offer(black)
    await staff_sign_in(client, "reader@example.com", "promotions.read")
    code = await sku_code(red)

    listing = await client.get("/admin/group-offers/", headers=EN)
    actives = await client.get("/admin/group-offers/?status=active", headers=EN)
    ended = await client.get("/admin/group-offers/?status=ended", headers=EN)
    detail = await client.get(f"/admin/group-offers/{active.id}", headers=EN)

    assert (listing.status_code, actives.status_code, ended.status_code, detail.status_code) == (200,) * 4
    assert [(r["Offer"], r["Status"]) for r in rows_of(listing)] == [
        ("2 人团", "Draft"),  # the latest start first
        ("3 人团", "Active"),
    ]
    assert rows_of(actives) == [
        {
            "Offer": "3 人团",
            "SKU": f"{code} 纯棉圆领T恤 colour: 红色",
            "Group price / list price": "CN¥19.90 / CN¥30.00",
            "Group size": "3",
            "Hours to fill": "24",
            "Window": window(active),
            "Status": "Active",
        }
    ]
    assert f'href="/admin/group-offers/{draft.id}"' in listing.text
    assert f'href="/admin/group-offers/{draft.id}"' not in actives.text
    assert '<a href="/admin/group-offers/?status=active" aria-current="page">Active</a>' in actives.text
    assert "No group-buying offers yet." in ended.text
    assert '<a href="/admin/group-offers/" aria-current="page">Group buying</a>' in listing.text  # the menu
    assert "New offer" not in listing.text  # a reader gets no write buttons
    assert facts_of(detail) == {
        "sku": f"{code} 纯棉圆领T恤 colour: 红色",
        "list_price": "CN¥30.00",
        "price": "CN¥19.90",
        "leader_price": "—",
        "size": "3",
        "hours": "24 hours",
        "new_joiners_only": "No",
        "per_customer": "1",
        "simulated": "No",
        "window": window(active),
    }
    assert counts_of(detail) == {
        "forming": "0",
        "complete": "0",
        "failed": "0",
        "abandoned": "0",
        "seated": "0",
        "refunds": "0",
        "refunded_amount": "CN¥0.00",
    }
    assert history_of(detail) == [("Draft", "Active", "—")]
    assert "End the offer" not in detail.text


async def test_a_draft_made_in_the_form_is_edited_and_published(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    new = await client.get("/admin/group-offers/new", headers=EN)
    csrf = csrf_of(new)
    code = await sku_code(red)
    starts = local(clock.now() + dt.timedelta(hours=1))
    ends = local(clock.now() + dt.timedelta(days=2))

    created = await client.post(
        "/admin/group-offers/",
        data=form(
            csrf,
            code,
            leader_price="14.90",
            size="5",
            hours="12",
            per_customer="2",
            new_joiners_only="1",
            simulated="1",
            starts_at=starts,
            ends_at=ends,
        ),
        headers=EN,
    )
    offer_id = int(created.headers["location"].split("/")[3].split("?")[0])
    made = await offer_of(offer_id)
    edit = await client.get(f"/admin/group-offers/{offer_id}/edit", headers=EN)
    updated = await client.post(
        f"/admin/group-offers/{offer_id}",
        data=form(csrf, str(red), price="21", starts_at=starts, ends_at=ends),
        headers=EN,
    )
    asked = await client.post(
        f"/admin/group-offers/{offer_id}/publish", data={"csrf_token": csrf}, headers=EN
    )
    still_draft = await offer_of(offer_id)
    published = await client.post(
        f"/admin/group-offers/{offer_id}/publish", data={"csrf_token": csrf, "confirmed": "1"}
    )
    detail = await client.get(published.headers["location"], headers=EN)
    shown = await offer_of(offer_id)

    assert new.status_code == 200
    assert (
        '<input type="checkbox" id="group-simulated" name="simulated" value="1" aria-describedby' in new.text
    )
    assert (
        "Off by default. When on, a group not full in time still completes, with its seats left empty; "
        "the offer page tells shoppers so." in html.unescape(new.text)
    )
    assert 'id="group-size" name="size" type="text" value="2"' in new.text  # the domain's defaults
    assert created.headers["location"] == f"/admin/group-offers/{offer_id}?notice=created"
    assert (made.price_amount, made.leader_price_amount, made.size, made.hours, made.per_customer) == (
        1990,
        1490,
        5,
        12,
        2,
    )
    assert (made.new_joiners_only, made.simulated, made.status) == (True, True, social.GroupOfferStatus.draft)
    assert f'value="{code}"' in edit.text
    assert 'id="group-leader_price" name="leader_price" type="text" value="14.90"' in edit.text
    assert (
        'name="new_joiners_only" value="1" aria-describedby="group-new_joiners_only-hint" checked'
        in edit.text
    )
    assert 'name="simulated" value="1" aria-describedby="group-simulated-hint" checked' in edit.text
    assert updated.headers["location"] == f"/admin/group-offers/{offer_id}?notice=updated"
    assert asked.status_code == 200
    assert (
        '<p id="confirm-question">Publish the offer? Shoppers can open groups on it within its window.</p>'
        in html.unescape(asked.text)
    )
    assert still_draft.status is social.GroupOfferStatus.draft
    assert published.headers["location"] == f"/admin/group-offers/{offer_id}?notice=published"
    assert (shown.sku_id, shown.price_amount, shown.leader_price_amount, shown.size, shown.hours) == (
        red,
        2100,
        None,
        3,
        24,
    )
    assert (shown.per_customer, shown.new_joiners_only, shown.simulated, shown.status) == (
        1,
        False,
        False,
        social.GroupOfferStatus.active,
    )
    assert (shown.starts_at, shown.ends_at) == (shop_time(starts), shop_time(ends))
    assert "<p>Published: shoppers can open groups on it.</p>" in html.unescape(detail.text)
    assert history_of(detail) == [("Draft", "Active", "—")]


async def test_a_refused_form_comes_back_with_the_message_saving_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    draft = await draft_offer(red)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    csrf = csrf_of(await client.get("/admin/group-offers/new", headers=EN))
    code = await sku_code(red)
    before = await row_counts()

    not_below = await client.post("/admin/group-offers/", data=form(csrf, code, price="30"), headers=EN)
    backwards = await client.post(
        "/admin/group-offers/",
        data=form(
            csrf,
            code,
            starts_at=local(clock.now() + dt.timedelta(days=2)),
            ends_at=local(clock.now() + dt.timedelta(days=1)),
        ),
        headers=EN,
    )
    unknown = await client.post("/admin/group-offers/", data=form(csrf, "NO-SUCH-SKU"), headers=EN)
    too_big = await client.post("/admin/group-offers/", data=form(csrf, code, size="51"), headers=EN)
    leader_dearer = await client.post(
        f"/admin/group-offers/{draft.id}", data=form(csrf, code, leader_price="25"), headers=EN
    )

    assert [r.status_code for r in (not_below, backwards, unknown, too_big, leader_dearer)] == [422] * 5
    assert field_error_of(not_below, "group-price") == "The group price must be below the SKU's price."
    assert 'id="group-price" name="price" type="text" value="30"' in not_below.text
    assert field_error_of(backwards, "group-ends_at") == "The end must be after the start."
    assert 'value="3 人团"' in backwards.text
    assert field_error_of(unknown, "group-sku") == "No SKU has the code NO-SUCH-SKU."
    assert field_error_of(too_big, "group-size") == "Must be at most 50."
    assert field_error_of(leader_dearer, "group-leader_price") == "The value is not valid."
    assert await row_counts() == before
    assert await offer_of(draft.id) == draft


async def test_the_live_counts_show_a_failed_group_refunded_and_a_group_forming(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000, stock=10)
    offer = await group_offer(red, price=1990, size=3, hours=2)
    failing = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(failing.payment_id)
    clock.advance(dt.timedelta(hours=2, seconds=1))
    await social.settle_due_groups()
    await broker.wait_all()  # the refund is sent to the gateway after the commit
    await deliver()
    forming = await open_group(await buyer(), offer.id, total=GROUP_TOTAL)
    await pay(forming.payment_id)
    await open_group(await buyer(), offer.id, total=GROUP_TOTAL)  # its leader has not paid yet
    await staff_sign_in(client, "reader@example.com", "promotions.read")

    detail = await client.get(f"/admin/group-offers/{offer.id}", headers=EN)

    assert detail.status_code == 200
    assert counts_of(detail) == {
        "forming": "1",
        "complete": "0",
        "failed": "1",
        "abandoned": "0",
        "seated": "1",
        "refunds": "1",
        "refunded_amount": "CN¥27.90",
    }


async def test_ending_after_confirming_records_the_reason(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red)
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get(f"/admin/group-offers/{offer.id}", headers=EN)

    asked = await client.post(
        f"/admin/group-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(page), "reason": "活动调整"},
        headers=EN,
    )
    still_active = await offer_of(offer.id)
    ended = await client.post(
        f"/admin/group-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(page), "reason": "活动调整", "confirmed": "1"},
    )
    detail = await client.get(ended.headers["location"], headers=EN)
    before = await row_counts()
    again = await client.post(
        f"/admin/group-offers/{offer.id}/end",
        data={"csrf_token": csrf_of(detail), "confirmed": "1"},
        headers=EN,
    )

    assert (
        "End the offer? No new groups open; groups forming run to their own end. No undo."
        in html.unescape(page.text)
    )
    assert asked.status_code == 200
    assert '<input type="hidden" name="reason" value="活动调整">' in asked.text
    assert still_active.status is social.GroupOfferStatus.active
    assert ended.headers["location"] == f"/admin/group-offers/{offer.id}?notice=ended"
    assert (await offer_of(offer.id)).status is social.GroupOfferStatus.ended
    assert "<p>Ended: no new groups open.</p>" in detail.text
    assert history_of(detail) == [("Draft", "Active", "—"), ("Active", "Ended", "活动调整")]
    assert "End the offer" not in detail.text
    assert again.status_code == 409
    assert alert_of(again) == "Cannot change status from ended to ended."
    assert await row_counts() == before


async def test_a_publish_refused_after_the_end_has_passed_shows_why_and_changes_nothing(
    client: AsyncClient,
) -> None:
    red, _black = await flash_shop(price=3000)
    draft = await draft_offer(red, starts_in=dt.timedelta(0), lasts=dt.timedelta(hours=1))
    clock.advance(dt.timedelta(hours=2))
    await staff_sign_in(client, "marketer@example.com", *MARKETER)
    page = await client.get(f"/admin/group-offers/{draft.id}", headers=EN)
    before = await row_counts()

    refused = await client.post(
        f"/admin/group-offers/{draft.id}/publish",
        data={"csrf_token": csrf_of(page), "confirmed": "1"},
        headers=EN,
    )

    assert refused.status_code == 422
    assert alert_of(refused) == "The end must be after the start."
    assert (await offer_of(draft.id)).status is social.GroupOfferStatus.draft
    assert await row_counts() == before


async def test_the_pages_are_refused_without_the_permission(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    draft = await draft_offer(red)
    await staff_sign_in(client, "clerk@example.com", "orders.read")
    before = await row_counts()

    pages = [
        await client.get(path, headers=EN)
        for path in (
            "/admin/group-offers/",
            f"/admin/group-offers/{draft.id}",
            "/admin/group-offers/new",
            f"/admin/group-offers/{draft.id}/edit",
        )
    ]
    csrf = csrf_of(await client.get("/admin/orders/"))
    publish = await client.post(
        f"/admin/group-offers/{draft.id}/publish", data={"csrf_token": csrf, "confirmed": "1"}, headers=EN
    )
    created = await client.post("/admin/group-offers/", data=form(csrf, str(red)), headers=EN)
    orders_page = await client.get("/admin/orders/", headers=EN)

    assert [page.status_code for page in pages] == [403] * 4
    assert (publish.status_code, created.status_code) == (403, 403)
    assert (await offer_of(draft.id)).status is social.GroupOfferStatus.draft
    assert await row_counts() == before
    assert "/admin/group-offers/" not in orders_page.text  # no menu entry either
