"""The address book: list, add, edit, delete, default; errors next to the fields; another
customer's address is not found; CSRF; user text escaped."""

from __future__ import annotations

from httpx import ASGITransport, AsyncClient
from sqlalchemy import select

from mercato.core.db import uow
from mercato.identity.models import Address
from tests.factories.checkout import ADDRESS
from tests.factories.identity import PASSWORD, make_customer
from tests.web.pages import EN, csrf_of, sign_in

FORM = {k: str(v) for k, v in ADDRESS.items() if k != "is_default"}


async def rows() -> list[tuple[int, str, str, bool]]:
    """Every address as (customer id, recipient, phone, default), oldest first."""
    async with uow(write=False) as s:
        found = await s.execute(
            select(Address.customer_id, Address.recipient, Address.phone, Address.is_default).order_by(
                Address.id
            )
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


async def signed_in(client: AsyncClient, email: str = "ann@example.com") -> int:
    customer = await make_customer(email=email)
    await sign_in(client, email, PASSWORD)
    return customer.id


async def add(client: AsyncClient, **changes: str) -> None:
    page = await client.get("/account/addresses", headers=EN)
    added = await client.post("/account/addresses", data={**FORM, **changes, "csrf_token": csrf_of(page)})
    assert (added.status_code, added.headers["location"]) == (303, "/account/addresses?notice=added")


async def ids() -> list[int]:
    async with uow(write=False) as s:
        return list((await s.execute(select(Address.id).order_by(Address.id))).scalars())


async def test_adding_listing_editing_and_deleting_addresses(client: AsyncClient) -> None:
    customer_id = await signed_in(client)

    await add(client)
    await add(client, recipient="李雷", phone="13700000000")
    first, second = await ids()
    listed = await client.get("/account/addresses?notice=added", headers=EN)
    edit = await client.get(f"/account/addresses/{second}/edit", headers=EN)
    saved = await client.post(
        f"/account/addresses/{second}",
        data={**FORM, "recipient": "李雷雷", "phone": "13700000001", "csrf_token": csrf_of(edit)},
    )
    made_default = await client.post(
        f"/account/addresses/{second}/default", data={"csrf_token": csrf_of(edit)}
    )
    after_default = await rows()
    deleted = await client.post(f"/account/addresses/{second}/delete", data={"csrf_token": csrf_of(edit)})

    assert listed.status_code == 200
    assert "Address added." in listed.text
    assert "韩梅梅" in listed.text
    assert "李雷" in listed.text
    assert f'href="/account/addresses/{first}/edit"' in listed.text
    assert edit.status_code == 200
    assert 'value="李雷"' in edit.text
    assert (saved.status_code, saved.headers["location"]) == (303, "/account/addresses?notice=saved")
    assert made_default.headers["location"] == "/account/addresses?notice=default"
    assert after_default == [
        (customer_id, "韩梅梅", "+8613900000000", False),
        (customer_id, "李雷雷", "+8613700000001", True),
    ]
    assert deleted.headers["location"] == "/account/addresses?notice=deleted"
    assert await rows() == [(customer_id, "韩梅梅", "+8613900000000", True)]


async def test_a_bad_phone_or_postcode_shows_next_to_the_field_and_adds_nothing(client: AsyncClient) -> None:
    await signed_in(client)
    page = await client.get("/account/addresses", headers=EN)

    bad_phone = await client.post(
        "/account/addresses", data={**FORM, "phone": "12345", "csrf_token": csrf_of(page)}, headers=EN
    )
    bad_postcode = await client.post(
        "/account/addresses", data={**FORM, "postal_code": "31A", "csrf_token": csrf_of(page)}, headers=EN
    )
    missing = await client.post(
        "/account/addresses", data={**FORM, "recipient": " ", "csrf_token": csrf_of(page)}, headers=EN
    )

    assert bad_phone.status_code == 422
    assert 'id="address-phone-error"' in bad_phone.text
    assert "The mobile number is not valid." in bad_phone.text
    assert bad_postcode.status_code == 422
    assert 'id="address-postal_code-error"' in bad_postcode.text
    assert 'value="31A"' in bad_postcode.text
    assert missing.status_code == 422
    assert 'id="address-recipient-error"' in missing.text
    assert await rows() == []


async def test_another_customers_address_is_not_found_and_unchanged(client: AsyncClient, app: object) -> None:
    await signed_in(client)
    await add(client)
    [theirs] = await ids()
    before = await rows()

    transport = ASGITransport(app=app)  # type: ignore[arg-type]
    async with AsyncClient(transport=transport, base_url="http://testserver") as other:
        await signed_in(other, "eve@example.com")
        page = await other.get("/account/addresses", headers=EN)
        token = csrf_of(page)
        responses = [
            await other.get(f"/account/addresses/{theirs}/edit", headers=EN),
            await other.post(f"/account/addresses/{theirs}", data={**FORM, "csrf_token": token}, headers=EN),
            await other.post(f"/account/addresses/{theirs}/default", data={"csrf_token": token}, headers=EN),
            await other.post(f"/account/addresses/{theirs}/delete", data={"csrf_token": token}, headers=EN),
        ]
        listed = await other.get("/account/addresses", headers=EN)

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    assert "Address not found." in responses[0].text
    assert "韩梅梅" not in listed.text
    assert await rows() == before


async def test_a_bad_csrf_token_is_refused_and_nothing_changes(client: AsyncClient) -> None:
    await signed_in(client)
    await add(client)
    [mine] = await ids()
    before = await rows()

    responses = [
        await client.post("/account/addresses", data={**FORM, "csrf_token": "forged"}),
        await client.post(
            f"/account/addresses/{mine}", data={**FORM, "recipient": "X", "csrf_token": "forged"}
        ),
        await client.post(f"/account/addresses/{mine}/delete", data={}),
    ]

    assert [r.status_code for r in responses] == [403, 403, 403]
    assert await rows() == before


async def test_a_guest_is_sent_to_sign_in(client: AsyncClient) -> None:
    page = await client.get("/account/addresses")

    assert (page.status_code, page.headers["location"]) == (303, "/account/login?next=/account/addresses")


async def test_user_text_is_escaped(client: AsyncClient) -> None:
    await signed_in(client)
    await add(client, recipient="<script>alert(1)</script>")

    page = await client.get("/account/addresses", headers=EN)

    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
