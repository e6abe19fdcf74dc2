"""The console's customer pages (customers.read): the list with search and one account, with the
phone number and email address masked everywhere."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from tests.factories.identity import PASSWORD, make_customer
from tests.web.pages import EN, csrf_of, post_form, sign_in, sms_code, staff_sign_in


async def test_the_list_masks_phone_numbers_and_emails(client: AsyncClient) -> None:
    await make_customer(phone="+8613812345678", email="alice@example.com", name="Alice")
    await make_customer(phone="+8613900001111", name="<script>alert(1)</script>")
    await staff_sign_in(client, "ops@example.com", "customers.read")

    page = await client.get("/admin/customers/", headers=EN)

    assert page.status_code == 200
    assert page.text.count("<tr>") == 1 + 2
    assert "+86138****5678" in page.text
    assert "+86139****1111" in page.text
    assert "a***@example.com" in page.text
    for secret in ("13812345678", "12345678", "13900001111", "alice@example.com"):
        assert secret not in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_search_by_name_email_or_phone_digits(client: AsyncClient) -> None:
    alice = await make_customer(phone="+8613812345678", email="alice@example.com", name="Alice")
    await make_customer(phone="+8613900001111", email="bob@example.com", name="Bob")
    await staff_sign_in(client, "ops@example.com", "customers.read")

    by_name = await client.get("/admin/customers/", params={"q": "ali"}, headers=EN)
    by_email = await client.get("/admin/customers/", params={"q": "BOB@"}, headers=EN)
    by_digits = await client.get("/admin/customers/", params={"q": "138 1234"}, headers=EN)
    nothing = await client.get("/admin/customers/", params={"q": "zzz"}, headers=EN)

    assert by_name.text.count("<tr>") == 1 + 1
    assert f'href="/admin/customers/{alice.id}"' in by_name.text
    assert by_email.text.count("<tr>") == 1 + 1
    assert "b***@example.com" in by_email.text
    assert by_digits.text.count("<tr>") == 1 + 1
    assert "+86138****5678" in by_digits.text
    assert "No customers match." in nothing.text


async def test_the_detail_page_masks_the_contact_details(client: AsyncClient) -> None:
    customer = await make_customer(phone="+8613812345678", email="alice@example.com", name="Alice")
    await staff_sign_in(client, "ops@example.com", "customers.read")

    page = await client.get(f"/admin/customers/{customer.id}", headers=EN)
    missing = await client.get("/admin/customers/999999", headers=EN)

    assert page.status_code == 200
    assert "+86138****5678" in page.text
    assert "a***@example.com" in page.text
    assert "13812345678" not in page.text
    assert "alice@example.com" not in page.text
    assert "Alice" in page.text
    assert missing.status_code == 404
    assert "Customer not found." in missing.text


async def test_the_detail_page_shows_the_last_sign_in(client: AsyncClient) -> None:
    customer = await make_customer(phone="+8613812345678", name="Alice")
    await staff_sign_in(client, "ops@example.com", "customers.read")
    before = await client.get(f"/admin/customers/{customer.id}", headers=EN)
    await sign_in(client, "13812345678", PASSWORD)

    page = await client.get(f"/admin/customers/{customer.id}", headers=EN)

    assert "<dt>Last sign-in</dt>\n    <dd>—</dd>" in before.text
    assert "<dt>Last sign-in</dt>" in page.text
    assert "<dt>Last sign-in</dt>\n    <dd>—</dd>" not in page.text


async def test_registering_counts_as_the_first_sign_in(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    sent = await post_form(
        client, "/account/register", "/account/register/code/send", {"phone": "13800138001"}
    )
    form = {
        "channel": "phone",
        "phone": "+8613800138001",
        "code": sms_code(sms, "+8613800138001"),
        "accept_privacy_policy": "yes",
        "csrf_token": csrf_of(sent),
    }
    assert (await client.post("/account/register", data=form)).status_code == 303
    async with uow(write=False) as session:
        found = await identity.list_customers(session, query="13800138001")
    customer = found.items[0]
    await staff_sign_in(client, "ops@example.com", "customers.read")

    page = await client.get(f"/admin/customers/{customer.id}", headers=EN)

    assert customer.last_login_at is not None
    assert "<dt>Last sign-in</dt>" in page.text
    assert "<dt>Last sign-in</dt>\n    <dd>—</dd>" not in page.text


async def test_customers_need_customers_read(client: AsyncClient) -> None:
    customer = await make_customer(phone="+8613812345678", name="Alice")
    await staff_sign_in(client, "ops@example.com", "inventory.read")

    listing = await client.get("/admin/customers/", headers=EN)
    detail = await client.get(f"/admin/customers/{customer.id}", headers=EN)

    assert listing.status_code == 403
    assert "You need the customers.read permission." in listing.text
    assert detail.status_code == 403
    assert "Alice" not in detail.text
    assert "****" not in listing.text


async def test_customer_pages_need_a_staff_session(client: AsyncClient) -> None:
    response = await client.get("/admin/customers/?q=ali")

    assert response.status_code == 303
    assert response.headers["location"] == "/admin/login?next=/admin/customers/%3Fq%3Dali"
