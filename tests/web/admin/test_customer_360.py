"""The customer 360 (/admin/customers/{id}): profile, order figures and a page of orders,
addresses, after-sales, messages, tags and notes, with contact details masked; tags and notes
added through the page with customers.write, refused (and nothing written) without it."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient
from sqlalchemy import func, select

from mercato import identity
from mercato.core import events
from mercato.core.db import uow
from mercato.identity.models import AuditEntry, CustomerNote, CustomerTagging
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.orders.test_reports import paid
from tests.web.pages import EN, csrf_of, field_error_of, staff_sign_in

PHONE = "+8613812345678"


async def rows(model: type[object]) -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(model))).scalar_one()


async def audit_actions() -> list[str]:
    async with uow(write=False) as s:
        stmt = select(AuditEntry.action).where(AuditEntry.object_type == "customer").order_by(AuditEntry.id)
        return list((await s.execute(stmt)).scalars())


def kpi(page: str, name: str) -> str:
    match = re.search(rf'data-kpi="{name}">([^<]*)<', page)
    assert match is not None, name
    return match.group(1)


async def add_shanghai_address(customer_id: int, *, recipient: str, phone: str) -> None:
    """An address at 上海市 上海市 浦东新区 世纪大道 100 号 8 楼 (the street is what is masked)."""
    async with uow() as s:
        await identity.add_address(
            s,
            customer_id=customer_id,
            data=identity.AddressWrite(
                recipient=recipient,
                phone=phone,
                province="上海市",
                city="上海市",
                district="浦东新区",
                detail="世纪大道 100 号 8 楼",
            ),
        )


async def alice_with_orders() -> identity.CustomerRead:
    alice = await make_customer(phone=PHONE, email="alice@example.com", name="Alice")
    await add_shanghai_address(alice.id, recipient="王小明", phone="13912345678")
    hundred = (await listed_skus(price=10000))[0]
    fifty = (await listed_skus(price=5000))[0]
    fen = (await listed_skus(price=1))[0]
    for sku in (hundred, fifty, fen):
        await paid(await place(alice.id, (sku, 1)))
    await place(alice.id, (hundred, 1))  # unpaid: listed, not counted
    return alice


@pytest.mark.usefixtures("handlers")
async def test_the_360_shows_figures_orders_messages_and_addresses_masked(client: AsyncClient) -> None:
    alice = await alice_with_orders()
    await events.deliver_pending()  # OrderPaid → notify writes a message per paid order
    await staff_sign_in(client, "ops@example.com", "customers.read", "orders.read")

    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    assert page.status_code == 200
    text = page.text
    assert (kpi(text, "orders"), kpi(text, "paid")) == ("4", "3")
    assert kpi(text, "spend") == "CN¥150.01"
    assert kpi(text, "aov") == "CN¥50.00"
    assert kpi(text, "last") != "—"
    assert len(re.findall(r'<a href="/admin/orders/[^"]+">', text)) == 4
    assert "+86138****5678" in text
    assert "a***@example.com" in text
    assert "+86139****5678" in text  # the address's phone
    assert "王**" in text
    assert "上海市 上海市 浦东新区 世纪**" in text
    for secret in ("13812345678", "alice@example.com", "13912345678", "王小明", "世纪大道"):
        assert secret not in text
    assert "No after-sales requests." in text
    messages = text.split('id="messages-title"')[1].split("</section>")[0]
    assert messages.count("<li>") == 3
    assert messages.count("Unread") == 3
    assert 'action="/admin/customers/' not in text  # no customers.write: no forms


async def test_the_orders_are_paged(client: AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mercato.admin.routes.customers.ORDERS_PER_PAGE", 2)
    alice = await alice_with_orders()
    await staff_sign_in(client, "ops@example.com", "customers.read")

    first = await client.get(f"/admin/customers/{alice.id}", headers=EN)
    link = re.search(
        r'href="(/admin/customers/\d+\?orders_cursor=[^"#]+)#orders-title" rel="next"', first.text
    )
    assert link is not None
    second = await client.get(link.group(1).replace("&amp;", "&"), headers=EN)

    assert first.text.count('data-label="Order"') == 2
    assert second.text.count('data-label="Order"') == 2
    assert 'rel="next"' not in second.text.split('id="orders-title"')[1].split("</section>")[0]
    assert '<a href="/admin/orders/' not in first.text  # no orders.read: numbers without links


async def test_without_customers_read_the_page_is_forbidden(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "clerk@example.com", "orders.read")

    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    assert page.status_code == 403
    assert "13812345678" not in page.text
    assert "****" not in page.text


async def test_tagging_and_untagging_through_the_page(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "ops@example.com", "customers.read", "customers.write")
    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    added = await client.post(
        f"/admin/customers/{alice.id}/tags", data={"tag": " VIP ", "csrf_token": csrf_of(page)}
    )
    again = await client.post(
        f"/admin/customers/{alice.id}/tags", data={"tag": "vip", "csrf_token": csrf_of(page)}
    )
    shown = await client.get(f"/admin/customers/{alice.id}?notice=tagged", headers=EN)
    tag_id = re.search(rf'action="/admin/customers/{alice.id}/tags/(\d+)/delete"', shown.text)
    assert tag_id is not None
    removed = await client.post(
        f"/admin/customers/{alice.id}/tags/{tag_id.group(1)}/delete", data={"csrf_token": csrf_of(page)}
    )
    after = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    assert added.status_code == again.status_code == removed.status_code == 303
    assert added.headers["location"] == f"/admin/customers/{alice.id}?notice=tagged#tags-title"
    assert '<li class="tag">VIP' in shown.text
    assert "The tag was added." in shown.text
    assert "No tags." in after.text
    assert await audit_actions() == ["customer.tag", "customer.untag"]


async def test_a_bad_tag_is_shown_next_to_the_field_and_nothing_is_written(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "ops@example.com", "customers.read", "customers.write")
    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    long = await client.post(
        f"/admin/customers/{alice.id}/tags", data={"tag": "x" * 25, "csrf_token": csrf_of(page)}, headers=EN
    )
    blank = await client.post(
        f"/admin/customers/{alice.id}/tags", data={"tag": "  ", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert long.status_code == 422
    assert field_error_of(long, "tag-tag") == "A tag is 1 to 20 characters long."
    assert 'value="xxxxxxxxxxxxxxxxxxxxxxxxx"' in long.text
    assert blank.status_code == 422
    assert field_error_of(blank, "tag-tag") == "This field is required."
    assert await rows(CustomerTagging) == 0
    assert await audit_actions() == []


async def test_notes_through_the_page_newest_first(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "ops@example.com", "customers.read", "customers.write")
    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    first = await client.post(
        f"/admin/customers/{alice.id}/notes",
        data={"body": "Called 13812345678\nabout <b>it</b>", "csrf_token": csrf_of(page)},
    )
    await client.post(
        f"/admin/customers/{alice.id}/notes", data={"body": "Second", "csrf_token": csrf_of(page)}
    )
    too_long = await client.post(
        f"/admin/customers/{alice.id}/notes",
        data={"body": "y" * 2001, "csrf_token": csrf_of(page)},
        headers=EN,
    )
    shown = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    assert first.status_code == 303
    assert first.headers["location"] == f"/admin/customers/{alice.id}?notice=noted#notes-title"
    assert too_long.status_code == 422
    assert field_error_of(too_long, "note-body").startswith("Must be at most 2000 characters")
    assert await rows(CustomerNote) == 2
    notes = shown.text.split('id="notes-title"')[1]
    assert notes.index("Second") < notes.index("about &lt;b&gt;it&lt;/b&gt;")
    assert "ops@example.com" in notes
    assert await audit_actions() == ["customer.note", "customer.note"]


async def test_customers_read_alone_cannot_tag_or_note(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "viewer@example.com", "customers.read")
    page = await client.get(f"/admin/customers/{alice.id}", headers=EN)

    tagged = await client.post(
        f"/admin/customers/{alice.id}/tags", data={"tag": "VIP", "csrf_token": csrf_of(page)}, headers=EN
    )
    noted = await client.post(
        f"/admin/customers/{alice.id}/notes", data={"body": "hi", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert tagged.status_code == noted.status_code == 403
    assert (await rows(CustomerTagging), await rows(CustomerNote)) == (0, 0)
    assert await audit_actions() == []


async def test_a_post_without_the_csrf_token_is_refused(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE)
    await staff_sign_in(client, "ops@example.com", "customers.read", "customers.write")

    refused = await client.post(f"/admin/customers/{alice.id}/tags", data={"tag": "VIP"}, headers=EN)

    assert refused.status_code == 403
    assert await rows(CustomerTagging) == 0


async def test_the_list_filters_by_tag(client: AsyncClient) -> None:
    alice = await make_customer(phone=PHONE, name="Alice")
    await make_customer(name="Bob")
    async with uow() as s:
        tags = await identity.tag_customer(
            s, customer_id=alice.id, tag="VIP", actor=identity.Actor(staff_id=None, label="t")
        )
    await staff_sign_in(client, "ops@example.com", "customers.read")

    everyone = await client.get("/admin/customers/", headers=EN)
    vip = await client.get("/admin/customers/", params={"tag": str(tags[0].id)}, headers=EN)

    assert everyone.text.count("<tr>") == 1 + 2
    assert f'<option value="{tags[0].id}">VIP (1)</option>' in everyone.text
    assert vip.text.count("<tr>") == 1 + 1
    assert f'href="/admin/customers/{alice.id}"' in vip.text
