"""My messages: the inbox newest first, the unread count in the account navigation, one message
marked read with htmx (a fragment, and the badge out of band) or by a plain post, all at once; a
message links to what it is about. Another customer's message is a 404 and stays unread; a post
without the CSRF token is refused."""

from __future__ import annotations

import re

from httpx import AsyncClient

from mercato import notify
from mercato.core.db import uow
from tests.web.pages import EN, csrf_of
from tests.web.storefront.shopping import other_customer, signed_in_shopper


async def tell(customer_id: int, number: str, *, link: str | None = None) -> notify.MessageRead:
    async with uow() as s:
        message = await notify.notify_customer(
            s,
            customer_id=customer_id,
            kind=notify.MessageKind.order_delivered,
            params={"order_number": number},
            dedupe_key=f"delivered:{number}",
            link=link,
        )
    assert message is not None
    return message


async def unread(customer_id: int) -> int:
    async with uow(write=False) as s:
        return (await notify.count_unread(s, customer_id=customer_id)).unread


def badge(page: str) -> str | None:
    match = re.search(r'<span class="badge" id="unread-badge">(\d+)<', page)
    return match.group(1) if match else None


async def test_the_inbox_lists_messages_newest_first_with_the_unread_count(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    first = await tell(customer.id, "2026112700000001", link="order:41")
    second = await tell(customer.id, "2026112700000002", link="aftersales:7")
    await tell((await other_customer()).id, "2026112700000003")

    page = await client.get("/account/messages", headers=EN)
    overview = await client.get("/account", headers=EN)

    assert page.status_code == 200
    assert re.findall(r'<li id="message-(\d+)"', page.text) == [str(second.id), str(first.id)]
    assert "2026112700000003" not in page.text
    assert badge(page.text) == badge(overview.text) == "2"
    assert 'href="/account/orders/by-id/41"' in page.text
    assert 'href="/account/aftersales/7"' in page.text
    assert page.text.count(">Mark as read<") == 2
    assert '<a href="/account/messages" aria-current="page">Messages' in page.text


async def test_htmx_marks_one_message_read_and_updates_the_badge(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    first = await tell(customer.id, "2026112700000001")
    await tell(customer.id, "2026112700000002")
    page = await client.get("/account/messages", headers=EN)

    response = await client.post(
        f"/account/messages/{first.id}/read",
        headers={**EN, "HX-Request": "true", "X-CSRF-Token": csrf_of(page)},
    )

    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li id="message-{first.id}" class="message">')
    assert "<html" not in response.text
    assert "Mark as read" not in response.text
    assert 'id="unread-badge" class="badge" hx-swap-oob="true">1<' in response.text
    assert await unread(customer.id) == 1
    unread_only = await client.get("/account/messages?unread=1", headers=EN)
    assert f'id="message-{first.id}"' not in unread_only.text


async def test_without_javascript_the_post_comes_back_to_the_inbox(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    message = await tell(customer.id, "2026112700000001")
    page = await client.get("/account/messages", headers=EN)

    response = await client.post(f"/account/messages/{message.id}/read", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 303
    assert response.headers["location"] == "/account/messages"
    assert await unread(customer.id) == 0
    assert badge((await client.get("/account/messages", headers=EN)).text) is None


async def test_all_shown_messages_are_marked_read_at_once(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    await tell(customer.id, "2026112700000001")
    await tell(customer.id, "2026112700000002")
    page = await client.get("/account/messages", headers=EN)
    later = await tell(customer.id, "2026112700000003")  # arrived after the page was shown

    response = await client.post(
        "/account/messages/read-all",
        data={
            "csrf_token": csrf_of(page),
            "up_to_id": re.findall(r'name="up_to_id" value="(\d+)"', page.text)[0],
        },
    )

    assert response.status_code == 303
    assert await unread(customer.id) == 1
    async with uow(write=False) as s:
        still = await notify.get_message(s, customer_id=customer.id, message_id=later.id)
    assert still.read_at is None


async def test_another_customers_message_is_not_found_and_stays_unread(client: AsyncClient) -> None:
    await signed_in_shopper(client)
    stranger = await other_customer()
    theirs = await tell(stranger.id, "2026112700000009")
    page = await client.get("/account/messages", headers=EN)

    response = await client.post(
        f"/account/messages/{theirs.id}/read", data={"csrf_token": csrf_of(page)}, headers=EN
    )
    everything = await client.post("/account/messages/read-all", data={"csrf_token": csrf_of(page)})

    assert response.status_code == 404
    assert everything.status_code == 303
    assert await unread(stranger.id) == 1


async def test_marking_read_needs_the_csrf_token(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    message = await tell(customer.id, "2026112700000001")

    forged = await client.post(f"/account/messages/{message.id}/read", data={"csrf_token": "forged"})
    missing = await client.post("/account/messages/read-all", headers={"HX-Request": "true"})

    assert (forged.status_code, missing.status_code) == (403, 403)
    assert await unread(customer.id) == 1


async def test_messages_need_a_session(client: AsyncClient) -> None:
    response = await client.get("/account/messages")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=/account/messages"
