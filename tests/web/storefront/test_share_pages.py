"""Sharing and invites in the shop: the share poster (a 750×1334 PNG the sharer's browser keeps
for 5 minutes), the "Share" control of the product and flash-sale pages, the ``?ref=`` cookie,
registering with it (the invitation recorded, both sides rewarded; a forged or self-invite code
ignored without blocking the sign-up) and the "invite friends" page."""

from __future__ import annotations

import io
import re

import pytest
from httpx import AsyncClient, Response
from PIL import Image

from mercato import identity
from tests.factories.identity import PASSWORD, make_customer
from tests.factories.social import (
    code_of,
    flash_session,
    flash_shop,
    invitation_rows,
    invite,
    invite_templates,
    shared_product,
    wallet_templates,
)
from tests.web.pages import EN, csrf_of, customer_count, post_form, set_cookie_header, sign_in, sms_code

pytestmark = pytest.mark.usefixtures("handlers", "empty_media")


def assert_poster(response: Response) -> None:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=300"
    with Image.open(io.BytesIO(response.content)) as poster:
        assert (poster.format, poster.size) == ("PNG", (750, 1334))


async def register_by_phone(client: AsyncClient, sms: identity.ConsoleSms, phone: str) -> Response:
    sent = await post_form(client, "/account/register", "/account/register/code/send", {"phone": phone})
    assert sent.status_code == 200
    form = {
        "channel": "phone",
        "phone": phone,
        "code": sms_code(sms, phone),
        "accept_privacy_policy": "yes",
        "csrf_token": csrf_of(sent),
    }
    return await client.post("/account/register", data=form)


async def test_the_poster_is_a_phone_sized_png_for_guests_and_sharers(client: AsyncClient) -> None:
    product = await shared_product()
    await make_customer(phone="+8613800138001", name="张三")

    guest = await client.get("/share/poster.png", params={"kind": "product", "id": product.id})
    await sign_in(client, "+8613800138001", PASSWORD)
    sharer = await client.get("/share/poster.png", params={"kind": "product", "id": product.id})
    again = await client.get("/share/poster.png", params={"kind": "product", "id": product.id})

    assert_poster(guest)
    assert_poster(sharer)
    assert sharer.content != guest.content  # the sharer's name and link, not the shop's
    assert again.content == sharer.content  # drawn once, then from the cache
    assert "mercato_device=" in set_cookie_header(sharer, "mercato_device")
    assert "mercato_device" not in again.headers.get("set-cookie", "")


async def test_the_invitation_poster_needs_a_signed_in_sharer(client: AsyncClient) -> None:
    await make_customer(phone="+8613800138001")

    guest = await client.get("/share/poster.png", params={"kind": "invite"}, headers=EN)
    await sign_in(client, "+8613800138001", PASSWORD)
    sharer = await client.get("/share/poster.png", params={"kind": "invite"})

    assert guest.status_code == 404
    assert "text/html" in guest.headers["content-type"]
    assert_poster(sharer)


@pytest.mark.parametrize(
    ("_case", "params", "status"),
    [
        ("unknown product", {"kind": "product", "id": "999"}, 404),
        ("unknown flash item", {"kind": "flash", "id": "999"}, 404),
        ("unknown group", {"kind": "group", "id": "999"}, 404),
        ("unknown bargain", {"kind": "bargain", "id": "999"}, 404),
        ("unknown kind", {"kind": "lottery", "id": "1"}, 422),
        ("not a number", {"kind": "product", "id": "x"}, 422),
    ],
)
async def test_nothing_to_share_is_an_error_page(
    client: AsyncClient, _case: str, params: dict[str, str], status: int
) -> None:
    response = await client.get("/share/poster.png", params=params, headers=EN)

    assert response.status_code == status
    assert "text/html" in response.headers["content-type"]


async def test_the_product_and_flash_pages_offer_save_poster_and_copy_link(client: AsyncClient) -> None:
    product = await shared_product()
    red, _black = await flash_shop(price=3000)
    item = (await flash_session(red, price=990)).items[0]
    sharer = await make_customer(phone="+8613800138001")

    page = await client.get(f"/p/{product.slug}", headers=EN)
    await sign_in(client, "+8613800138001", PASSWORD)
    flash_page = await client.get(f"/flash-sale/items/{item.id}", headers=EN)
    flash_poster = await client.get("/share/poster.png", params={"kind": "flash", "id": item.id})
    link = await client.get("/api/v1/share", params={"kind": "flash", "id": item.id})  # what "copy link" asks

    for text, kind, target in ((page.text, "product", product.id), (flash_page.text, "flash", item.id)):
        assert f'data-api="/api/v1/share?kind={kind}&amp;id={target}"' in text
        assert f'href="/share/poster.png?kind={kind}&amp;id={target}"' in text
        assert 'x-data="shareControl"' in text
        assert ">Save poster</a>" in text
        assert ">Copy link</button>" in text
    assert_poster(flash_poster)
    code = await code_of(sharer.id)
    assert link.json()["url"] == f"http://127.0.0.1:8000/flash-sale/items/{item.id}?ref={code}"


async def test_a_ref_link_sets_the_referral_cookie_for_thirty_days(client: AsyncClient) -> None:
    product = await shared_product()
    code = await code_of((await make_customer()).id)

    opened = await client.get(f"/p/{product.slug}", params={"ref": code.lower()})
    plain = await client.get(f"/p/{product.slug}")
    garbage = await client.get("/", params={"ref": "<script>"})
    api = await client.get("/api/v1/shop", params={"ref": code})

    cookie = set_cookie_header(opened, "mercato_ref")
    assert cookie.startswith(f"mercato_ref={code};")
    assert "HttpOnly" in cookie
    assert "Max-Age=2592000" in cookie
    assert "SameSite=lax" in cookie
    assert "Path=/" in cookie
    assert "mercato_device=" in set_cookie_header(opened, "mercato_device")
    assert opened.headers["cache-control"] == "no-store"  # it sets a cookie: never cached
    for response in (plain, garbage, api):
        assert "mercato_ref" not in response.headers.get("set-cookie", "")


async def test_registering_with_the_referral_cookie_records_the_invitation(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    inviter_templ, invitee_templ = await invite_templates()
    inviter = await make_customer(phone="+8613800138001")
    code = await code_of(inviter.id)

    landing = await client.get("/account/register", params={"ref": code})
    registered = await register_by_phone(client, sms, "+8613800138009")

    assert landing.status_code == 200
    assert registered.status_code == 303
    assert set_cookie_header(registered, "mercato_ref").startswith('mercato_ref="";')  # used up
    ((invitee_id, inviter_id, recorded_code, paid),) = await invitation_rows()
    assert (inviter_id, recorded_code, paid) == (inviter.id, code, False)
    assert await wallet_templates(inviter.id) == [inviter_templ]
    assert await wallet_templates(invitee_id) == [invitee_templ]


async def test_a_forged_referral_is_ignored_and_the_sign_up_goes_on(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await invite_templates()

    await client.get("/", params={"ref": "K7M3Q9XA"})
    registered = await register_by_phone(client, sms, "+8613800138009")

    assert registered.status_code == 303
    assert await customer_count() == 1
    assert await invitation_rows() == []


async def test_a_second_account_from_the_inviters_own_device_gets_no_invitation(
    client: AsyncClient, sms: identity.ConsoleSms
) -> None:
    await invite_templates()
    inviter = await make_customer(phone="+8613800138001")
    await sign_in(client, "+8613800138001", PASSWORD)
    invite_page = await client.get("/account/invite")  # shares from this browser
    code = await code_of(inviter.id)
    client.cookies.delete("mercato_session")

    await client.get("/", params={"ref": code})
    registered = await register_by_phone(client, sms, "+8613800138009")

    assert invite_page.status_code == 200
    assert registered.status_code == 303
    assert await customer_count() == 2
    assert await invitation_rows() == []
    assert await wallet_templates(inviter.id) == []


async def test_the_invite_page_shows_the_code_link_poster_and_counts(client: AsyncClient) -> None:
    await invite_templates()
    inviter = await make_customer(phone="+8613800138001")
    await sign_in(client, "+8613800138001", PASSWORD)

    overview = await client.get("/account", headers=EN)
    page = await client.get("/account/invite", headers=EN)
    code = await code_of(inviter.id)
    await invite((await make_customer()).id, code)
    after = await client.get("/account/invite", headers=EN)

    assert '<a href="/account/invite">Invite friends</a>' in overview.text
    assert page.status_code == 200
    assert f'<p class="invite-code" id="invite-code">{code}</p>' in page.text
    assert f'value="http://127.0.0.1:8000/account/register?ref={code}"' in page.text
    assert 'src="/share/poster.png?kind=invite"' in page.text
    figures = dict(re.findall(r'<dd data-figure="([a-z]+)">(\d+)</dd>', after.text))
    assert figures == {"registered": "1", "ordered": "0", "coupons": "1"}


async def test_the_invite_page_needs_sign_in(client: AsyncClient) -> None:
    response = await client.get("/account/invite")

    assert response.status_code == 303
    assert response.headers["location"].startswith("/account/login?next=")
