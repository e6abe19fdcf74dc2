"""Privacy: download my data, delete my account confirmed with the password or an SMS code (the
deletion signs out everywhere and says what is kept); a wrong password or code, or a post
without the CSRF token, changes nothing."""

from __future__ import annotations

from httpx import AsyncClient

from mercato import identity
from mercato.core.db import uow
from tests.factories.identity import PASSWORD
from tests.web.pages import EN, alert_of, csrf_of, sms_code, token_count
from tests.web.storefront.shopping import signed_in_shopper


async def status_of(customer_id: int) -> str:
    async with uow(write=False) as s:
        try:
            return str((await identity.get_customer(s, customer_id=customer_id)).status)
        except identity.SessionInvalid:
            return "gone"


async def test_the_page_offers_the_download_and_both_confirmations(client: AsyncClient) -> None:
    await signed_in_shopper(client)

    page = await client.get("/account/privacy", headers=EN)

    assert page.status_code == 200
    assert 'href="/account/export.json"' in page.text
    assert 'action="/account/privacy/delete"' in page.text
    assert 'name="password"' in page.text
    assert 'action="/account/privacy/delete/code"' in page.text
    assert "Kept for legal reasons" in page.text
    assert '<a href="/account/privacy" aria-current="page">Privacy</a>' in page.text


async def test_a_wrong_password_deletes_nothing(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    page = await client.get("/account/privacy", headers=EN)

    response = await client.post(
        "/account/privacy/delete",
        data={"csrf_token": csrf_of(page), "method": "password", "password": "wrong-pass-1"},
        headers=EN,
    )
    blank = await client.post(
        "/account/privacy/delete",
        data={"csrf_token": csrf_of(page), "method": "password", "password": ""},
        headers=EN,
    )

    assert response.status_code == 401
    assert alert_of(response) == "The password is incorrect."
    assert '<p class="field-error" id="delete-password-error">The password is incorrect.</p>' in response.text
    assert blank.status_code == 401
    assert alert_of(blank) == "Confirm with your password or an SMS code."
    assert await status_of(customer.id) == "active"
    assert await token_count(revoked=False) == 1
    assert (await client.get("/account")).status_code == 200


async def test_deleting_with_the_password_signs_out_and_says_what_is_kept(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)
    page = await client.get("/account/privacy", headers=EN)

    response = await client.post(
        "/account/privacy/delete",
        data={"csrf_token": csrf_of(page), "method": "password", "password": PASSWORD},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/account/deleted"
    assert 'mercato_session=""' in response.headers["set-cookie"]
    assert await status_of(customer.id) == "gone"  # deleted: no longer an active customer
    assert await token_count(revoked=False) == 0
    gone = await client.get("/account/deleted", headers=EN)
    assert "Your account was deleted" in gone.text
    assert "Kept for legal reasons" in gone.text
    assert (await client.get("/account")).status_code == 303


async def test_deleting_with_an_sms_code(client: AsyncClient, sms: identity.ConsoleSms) -> None:
    customer = await signed_in_shopper(client)
    assert customer.phone is not None
    page = await client.get("/account/privacy", headers=EN)

    sent = await client.post("/account/privacy/delete/code", data={"csrf_token": csrf_of(page)}, headers=EN)
    code = sms_code(sms, customer.phone)
    wrong = await client.post(
        "/account/privacy/delete",
        data={
            "csrf_token": csrf_of(sent),
            "method": "code",
            "code": "000000" if code != "000000" else "111111",
        },
        headers=EN,
    )
    assert await status_of(customer.id) == "active"
    response = await client.post(
        "/account/privacy/delete", data={"csrf_token": csrf_of(sent), "method": "code", "code": code}
    )

    assert sent.status_code == 200
    assert 'name="code"' in sent.text
    assert wrong.status_code == 422
    assert '<p class="field-error" id="delete-code-error">' in wrong.text
    assert response.status_code == 303
    assert response.headers["location"] == "/account/deleted"
    assert await status_of(customer.id) == "gone"  # deleted: no longer an active customer


async def test_deleting_needs_the_csrf_token(client: AsyncClient) -> None:
    customer = await signed_in_shopper(client)

    forged = await client.post(
        "/account/privacy/delete", data={"csrf_token": "forged", "method": "password", "password": PASSWORD}
    )
    missing = await client.post("/account/privacy/delete", data={"method": "password", "password": PASSWORD})

    assert (forged.status_code, missing.status_code) == (403, 403)
    assert await status_of(customer.id) == "active"
    assert await token_count(revoked=False) == 1


async def test_privacy_needs_a_session(client: AsyncClient) -> None:
    response = await client.get("/account/privacy")

    assert response.status_code == 303
    assert response.headers["location"] == "/account/login?next=/account/privacy"
