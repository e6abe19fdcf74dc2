"""拼团 over the API: staff set up and publish an offer; shoppers see it on the product with the
groups close to complete, open a group, a friend joins through the group's link; refusals are
clean problems that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import AsyncClient

from mercato.core import clock
from tests.factories.checkout import shopper
from tests.factories.identity import make_staff, staff_headers
from tests.factories.social import flash_shop, group_offer, pay

pytestmark = pytest.mark.usefixtures("handlers")


async def marketer() -> dict[str, str]:
    staff = await make_staff(email="groups@example.com", permissions=["promotions.read", "promotions.write"])
    return await staff_headers(staff.id)


async def test_staff_create_publish_and_watch_an_offer(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    headers = await marketer()
    now = clock.now()
    body = {
        "name": "两人团",
        "sku_id": red,
        "price_amount": 1990,
        "leader_price_amount": 1490,
        "size": 2,
        "hours": 24,
        "starts_at": now.isoformat(),
        "ends_at": (now + dt.timedelta(days=3)).isoformat(),
    }

    created = await client.post("/api/v1/admin/group-offers", json=body, headers=headers)
    too_dear = await client.post(
        "/api/v1/admin/group-offers", json={**body, "price_amount": 3000}, headers=headers
    )
    bad_leader = await client.post(
        "/api/v1/admin/group-offers", json={**body, "leader_price_amount": 2500}, headers=headers
    )
    offer_id = created.json()["id"]
    published = await client.post(f"/api/v1/admin/group-offers/{offer_id}/publish", headers=headers)
    twice = await client.post(f"/api/v1/admin/group-offers/{offer_id}/publish", headers=headers)
    figures = await client.get(f"/api/v1/admin/group-offers/{offer_id}/figures", headers=headers)
    history = await client.get(f"/api/v1/admin/group-offers/{offer_id}/history", headers=headers)

    assert (created.status_code, published.json()["status"]) == (201, "active")
    assert (too_dear.status_code, too_dear.json()["code"]) == (422, "social.group_price_not_below")
    assert bad_leader.status_code == 422
    assert (twice.status_code, twice.json()["code"]) == (409, "social.illegal_transition")
    assert figures.json() == {
        "offer_id": offer_id,
        "forming": 0,
        "complete": 0,
        "failed": 0,
        "abandoned": 0,
        "seated": 0,
        "refunds": 0,
        "refunded_amount": 0,
    }
    assert [(h["from_status"], h["to_status"]) for h in history.json()] == [("draft", "active")]


async def test_open_then_a_friend_joins_through_the_link(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await group_offer(red, price=1990, leader_price=1490, size=2)
    leader, _ = await shopper(client)
    friend, _ = await shopper(client)

    quote = await client.post(f"/api/v1/group-offers/{offer.id}/confirm", json={}, headers=leader)
    opened = await client.post(
        f"/api/v1/group-offers/{offer.id}/groups",
        json={"expected_total_amount": quote.json()["price"]["total_amount"]},
        headers={**leader, "Idempotency-Key": "open-group-0001"},
    )
    hidden = await client.get(f"/api/v1/groups/{opened.json()['group_id']}")
    await pay(opened.json()["payment_id"])
    group_id = opened.json()["group_id"]
    listed = await client.get(f"/api/v1/products/{offer.product_id}/group-offers")
    shown = await client.get(f"/api/v1/groups/{group_id}")
    own = await client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"expected_total_amount": 2790},
        headers={**leader, "Idempotency-Key": "join-own-0001"},
    )
    joined = await client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"expected_total_amount": 2790},
        headers={**friend, "Idempotency-Key": "join-group-0001"},
    )
    retried = await client.post(
        f"/api/v1/groups/{group_id}/members",
        json={"expected_total_amount": 2790},
        headers={**friend, "Idempotency-Key": "join-group-0001"},
    )
    await pay(joined.json()["payment_id"])
    done = await client.get(f"/api/v1/groups/{group_id}")

    assert quote.json()["price"]["total_amount"] == 1490 + 800
    assert opened.status_code == 201
    assert hidden.status_code == 404
    assert [(g["id"], g["seats_left"]) for g in listed.json()[0]["groups"]] == [(group_id, 1)]
    assert [m["is_leader"] for m in shown.json()["members"]] == [True]
    assert "customer_id" not in shown.json()["members"][0]
    assert (own.status_code, own.json()["code"]) == (409, "social.group_own")
    assert (joined.status_code, retried.json()["order_id"]) == (201, joined.json()["order_id"])
    assert (done.json()["status"], done.json()["seats"]) == ("complete", 2)


async def test_joining_unknown_or_unpaid_groups_is_refused(client: AsyncClient) -> None:
    red, _black = await flash_shop()
    offer = await group_offer(red)
    auth, _ = await shopper(client)
    other, _ = await shopper(client)
    opened = await client.post(
        f"/api/v1/group-offers/{offer.id}/groups",
        json={"expected_total_amount": 2790},
        headers={**auth, "Idempotency-Key": "open-group-0002"},
    )

    unpaid = await client.post(
        f"/api/v1/groups/{opened.json()['group_id']}/members",
        json={"expected_total_amount": 2790},
        headers={**other, "Idempotency-Key": "join-group-0002"},
    )
    unknown = await client.post(
        "/api/v1/groups/999999/members",
        json={"expected_total_amount": 2790},
        headers={**other, "Idempotency-Key": "join-group-0003"},
    )
    anonymous = await client.post("/api/v1/groups/1/members", json={"expected_total_amount": 1})

    assert [(r.status_code, r.json()["code"]) for r in (unpaid, unknown)] == [
        (404, "social.group_not_found"),
        (404, "social.group_not_found"),
    ]
    assert anonymous.status_code == 401
