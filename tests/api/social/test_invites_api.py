"""Sharing and invites over the API: share links carrying the caller's invite code, posters,
the invite summary, and entering a friend's code after registering (a forged code, one's own
code or device, a second code and a late one are clean problems that change nothing)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from httpx import AsyncClient
from PIL import Image

from mercato.core import clock
from tests.factories.identity import signed_in_customer
from tests.factories.social import (
    code_of,
    deliver,
    flash_shop,
    invitation_rows,
    invite_templates,
    paid_order,
    shared_product,
    wallet_templates,
)

pytestmark = pytest.mark.usefixtures("handlers", "empty_media")

BASE = "http://127.0.0.1:8000"
EN = {"Accept-Language": "en"}


async def test_a_guest_shares_a_plain_link(client: AsyncClient) -> None:
    product = await shared_product()

    response = await client.get("/api/v1/share", params={"kind": "product", "id": product.id})

    assert response.status_code == 200
    assert response.json() == {
        "kind": "product",
        "id": product.id,
        "title": "小米手环9 NFC版",
        "url": f"{BASE}/p/{product.slug}",
        "poster_url": f"{BASE}/api/v1/share/poster.png?kind=product&id={product.id}",
        "code": None,
    }


async def test_a_signed_in_shopper_shares_links_carrying_their_code(client: AsyncClient) -> None:
    product = await shared_product()
    customer, auth = await signed_in_customer(client)

    first = await client.get("/api/v1/share", params={"kind": "product", "id": product.id}, headers=auth)
    again = await client.get("/api/v1/share", params={"kind": "product", "id": product.id}, headers=auth)
    invitation = await client.get("/api/v1/share", params={"kind": "invite"}, headers=auth)
    summary = await client.get("/api/v1/me/invite", headers=auth)

    code = await code_of(customer.id)
    assert first.json()["url"] == f"{BASE}/p/{product.slug}?ref={code}"
    assert (first.json()["code"], again.json()["code"]) == (code, code)
    assert invitation.json()["url"] == f"{BASE}/account/register?ref={code}"
    assert summary.status_code == 200
    assert summary.json() == {
        "code": code,
        "link": f"{BASE}/account/register?ref={code}",
        "registered": 0,
        "ordered": 0,
        "coupons_earned": 0,
    }
    assert first.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    ("_case", "params", "status", "code"),
    [
        ("unknown product", {"kind": "product", "id": 999}, 404, "social.share_target_not_found"),
        ("unknown flash item", {"kind": "flash", "id": 999}, 404, "social.share_target_not_found"),
        ("unknown group", {"kind": "group", "id": 999}, 404, "social.share_target_not_found"),
        ("unknown bargain", {"kind": "bargain", "id": 999}, 404, "social.share_target_not_found"),
        ("a guest's invitation", {"kind": "invite"}, 404, "social.share_target_not_found"),
        ("unknown kind", {"kind": "lottery", "id": 1}, 422, "core.validation_failed"),
        ("negative id", {"kind": "product", "id": -1}, 422, "core.validation_failed"),
    ],
)
async def test_nothing_to_share_is_a_clean_problem(
    client: AsyncClient, _case: str, params: dict[str, object], status: int, code: str
) -> None:
    link = await client.get("/api/v1/share", params=params)
    poster = await client.get("/api/v1/share/poster.png", params=params)

    assert (link.status_code, link.json()["code"]) == (status, code)
    assert (poster.status_code, poster.json()["code"]) == (status, code)


async def test_the_poster_is_a_phone_sized_png_kept_privately_for_five_minutes(client: AsyncClient) -> None:
    product = await shared_product()
    _customer, auth = await signed_in_customer(client, name="张三")

    response = await client.get(
        "/api/v1/share/poster.png", params={"kind": "product", "id": product.id}, headers=auth
    )

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, max-age=300"
    with Image.open(io.BytesIO(response.content)) as poster:
        assert (poster.format, poster.size) == ("PNG", (750, 1334))


async def test_entering_a_friends_code_rewards_both_once(client: AsyncClient) -> None:
    inviter_templ, invitee_templ = await invite_templates()
    red, _black = await flash_shop()
    inviter, inviter_auth = await signed_in_customer(client)
    code = (await client.get("/api/v1/me/invite", headers=inviter_auth)).json()["code"]
    friend, friend_auth = await signed_in_customer(client)

    entered = await client.post("/api/v1/me/invitation", json={"code": code.lower()}, headers=friend_auth)
    again = await client.post("/api/v1/me/invitation", json={"code": code}, headers=friend_auth)

    assert entered.status_code == 201
    body = entered.json()
    assert (body["inviter_id"], body["invitee_id"], body["code"], body["first_paid_at"]) == (
        inviter.id,
        friend.id,
        code,
        None,
    )
    assert again.status_code == 201
    assert again.json() == body
    await paid_order(friend.id, red)
    await deliver()
    summary = (await client.get("/api/v1/me/invite", headers=inviter_auth)).json()
    assert (summary["registered"], summary["ordered"], summary["coupons_earned"]) == (1, 1, 2)
    assert await wallet_templates(inviter.id) == [inviter_templ] * 2
    assert await wallet_templates(friend.id) == [invitee_templ] * 2


async def test_bad_invitations_are_clean_problems_that_change_nothing(client: AsyncClient) -> None:
    await invite_templates()
    inviter, inviter_auth = await signed_in_customer(client)
    code = await code_of(inviter.id)
    await client.get("/api/v1/me/invite", headers={**inviter_auth, "X-Device-Id": "inviters-phone-1"})
    other, _other_auth = await signed_in_customer(client)
    friend, friend_auth = await signed_in_customer(client)

    forged = await client.post("/api/v1/me/invitation", json={"code": "K7M3Q9XA"}, headers=friend_auth)
    garbage = await client.post("/api/v1/me/invitation", json={"code": "<script>"}, headers=friend_auth)
    own = await client.post("/api/v1/me/invitation", json={"code": code}, headers=inviter_auth)
    same_device = await client.post(
        "/api/v1/me/invitation",
        json={"code": code},
        headers={**friend_auth, "X-Device-Id": "inviters-phone-1"},
    )
    missing = await client.post("/api/v1/me/invitation", json={}, headers=friend_auth)
    signed_out = await client.post("/api/v1/me/invitation", json={"code": code})

    assert (forged.status_code, forged.json()["code"]) == (422, "social.invite_code_invalid")
    assert (garbage.status_code, garbage.json()["code"]) == (422, "social.invite_code_invalid")
    assert (own.status_code, own.json()["code"]) == (422, "social.self_invite")
    assert (same_device.status_code, same_device.json()["code"]) == (422, "social.self_invite")
    assert (missing.status_code, missing.json()["code"]) == (422, "core.validation_failed")
    assert signed_out.status_code == 401
    assert await invitation_rows() == []
    assert (await wallet_templates(inviter.id), await wallet_templates(friend.id)) == ([], [])

    accepted = await client.post("/api/v1/me/invitation", json={"code": code}, headers=friend_auth)
    second = await client.post(
        "/api/v1/me/invitation", json={"code": await code_of(other.id)}, headers=friend_auth
    )
    assert accepted.status_code == 201
    assert (second.status_code, second.json()["code"]) == (409, "social.already_invited")
    assert await invitation_rows() == [(friend.id, inviter.id, code, False)]


async def test_a_code_entered_over_an_hour_after_registering_is_refused(client: AsyncClient) -> None:
    inviter, _auth = await signed_in_customer(client)
    code = await code_of(inviter.id)
    _friend, friend_auth = await signed_in_customer(client)
    clock.advance(dt.timedelta(hours=1, minutes=1))

    late = await client.post("/api/v1/me/invitation", json={"code": code}, headers={**friend_auth, **EN})

    assert (late.status_code, late.json()["code"]) == (409, "social.invitation_too_late")
    assert late.json()["detail"] == (
        "Invite codes are accepted only within 60 minutes of signing up, before a first order."
    )
    assert await invitation_rows() == []
