"""Bargaining over the API: staff set an offer up, publish and watch it; a shopper starts a
bargain, friends help (each once, never the initiator, not from a used device), anyone with the
link sees the cuts with masked names, and the initiator buys at the price now; refusals are clean
4xx problems that change nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from httpx import AsyncClient

from mercato.core import clock
from tests.factories.checkout import shopper
from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.factories.social import bargain_counts, bargain_offer, flash_shop, offer_sold

pytestmark = pytest.mark.usefixtures("handlers")


async def marketer() -> dict[str, str]:
    staff = await make_staff(email="bargain@example.com", permissions=["promotions.read", "promotions.write"])
    return await staff_headers(staff.id)


async def test_staff_set_up_publish_watch_and_end_an_offer(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    headers = await marketer()
    start = clock.now()
    body = {
        "name": "砍到 10 元",
        "sku_id": red,
        "floor_amount": 1000,
        "helps_min": 3,
        "helps_max": 6,
        "hours": 24,
        "stock": 5,
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(days=3)).isoformat(),
    }

    created = await client.post("/api/v1/admin/bargain-offers", json=body, headers=headers)
    offer_id = created.json()["id"]
    too_low = await client.post(
        "/api/v1/admin/bargain-offers", json={**body, "floor_amount": 3000}, headers=headers
    )
    too_many = await client.post(
        "/api/v1/admin/bargain-offers", json={**body, "floor_amount": 2998}, headers=headers
    )
    backwards = await client.post(
        "/api/v1/admin/bargain-offers", json={**body, "helps_min": 7}, headers=headers
    )
    edited = await client.put(
        f"/api/v1/admin/bargain-offers/{offer_id}", json={**body, "stock": 8}, headers=headers
    )
    published = await client.post(f"/api/v1/admin/bargain-offers/{offer_id}/publish", headers=headers)
    again = await client.post(f"/api/v1/admin/bargain-offers/{offer_id}/publish", headers=headers)
    listed = await client.get("/api/v1/admin/bargain-offers?status=active", headers=headers)
    figures = await client.get(f"/api/v1/admin/bargain-offers/{offer_id}/figures", headers=headers)
    ended = await client.post(
        f"/api/v1/admin/bargain-offers/{offer_id}/end", json={"reason": "提前结束"}, headers=headers
    )
    history = await client.get(f"/api/v1/admin/bargain-offers/{offer_id}/history", headers=headers)
    shoppers_see = await client.get("/api/v1/bargain-offers")

    assert (created.status_code, created.json()["price_amount"], created.json()["status"]) == (
        201,
        3000,
        "draft",
    )
    assert [(r.status_code, r.json()["code"]) for r in (too_low, too_many)] == [
        (422, "social.bargain_floor_not_below"),
        (422, "social.bargain_cuts_too_small"),
    ]
    assert (backwards.status_code, backwards.json()["code"]) == (422, "core.validation_failed")
    assert (edited.status_code, edited.json()["stock"]) == (200, 8)
    assert (published.status_code, published.json()["status"]) == (200, "active")
    assert (again.status_code, again.json()["code"]) == (409, "social.bargain_offer_not_editable")
    assert [o["id"] for o in listed.json()] == [offer_id]
    assert figures.json() == {
        "offer_id": offer_id,
        "started": 0,
        "active": 0,
        "floor_reached": 0,
        "ordered": 0,
        "bought": 0,
        "expired": 0,
        "helps": 0,
        "stock": 8,
        "sold": 0,
    }
    assert ended.json()["status"] == "ended"
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in history.json()] == [
        ("draft", "active", ""),
        ("active", "ended", "提前结束"),
    ]
    assert shoppers_see.json() == []


async def test_staff_without_the_permission_and_signed_out_shoppers_are_refused(client: AsyncClient) -> None:
    staff = await make_staff(email="clerk@example.com", permissions=["orders.read"])
    clerk = await staff_headers(staff.id)

    listed = await client.get("/api/v1/admin/bargain-offers", headers=clerk)
    anonymous_start = await client.post("/api/v1/bargain-offers/1/bargains")
    anonymous_help = await client.post("/api/v1/bargains/1/help")

    assert (listed.status_code, anonymous_start.status_code, anonymous_help.status_code) == (403, 401, 401)


async def test_a_bargain_is_started_helped_seen_by_anyone_and_bought(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5), stock=2)
    auth, _address_id = await shopper(client)
    _first, first = await signed_in_customer(client, name="张三")
    _second, second = await signed_in_customer(client, name="李四")

    offers = await client.get("/api/v1/bargain-offers")
    started = await client.post(
        f"/api/v1/bargain-offers/{offer.id}/bargains", headers={**auth, "X-Device-Id": "initiator-phone"}
    )
    bargain_id = started.json()["id"]
    helped = await client.post(
        f"/api/v1/bargains/{bargain_id}/help", headers={**first, "X-Device-Id": "first-phone"}
    )
    public = await client.get(f"/api/v1/bargains/{bargain_id}")
    as_friend = await client.get(f"/api/v1/bargains/{bargain_id}", headers=first)
    quote = await client.post(f"/api/v1/bargains/{bargain_id}/confirm", json={}, headers=auth)
    total = quote.json()["price"]["total_amount"]
    not_theirs = await client.post(
        f"/api/v1/bargains/{bargain_id}/orders",
        json={"expected_total_amount": total},
        headers={**second, "Idempotency-Key": "bargain-order-0000"},
    )
    bought = await client.post(
        f"/api/v1/bargains/{bargain_id}/orders",
        json={"expected_total_amount": total},
        headers={**auth, "Idempotency-Key": "bargain-order-0001"},
    )
    retried = await client.post(
        f"/api/v1/bargains/{bargain_id}/orders",
        json={"expected_total_amount": total},
        headers={**auth, "Idempotency-Key": "bargain-order-0001"},
    )
    mine = await client.get("/api/v1/bargains/mine", headers=auth)

    assert [(o["id"], o["price_amount"], o["floor_amount"], o["left"]) for o in offers.json()] == [
        (offer.id, 3000, 1000, 2)
    ]
    assert (started.status_code, started.json()["current_amount"], started.json()["helps_needed"]) == (
        201,
        3000,
        5,
    )
    cut = helped.json()
    assert (helped.status_code, cut["position"], cut["helper_name"]) == (201, 1, "张**")
    view = public.json()
    assert (view["current_amount"], view["helps_done"], view["is_mine"], view["order_id"]) == (
        3000 - cut["amount"],
        1,
        False,
        None,
    )
    assert view["helps"] == [
        {"position": 1, "amount": cut["amount"], "helper_name": "张**", "created_at": cut["created_at"]}
    ]
    assert (as_friend.json()["helped"], as_friend.json()["is_mine"]) == (True, False)
    assert total == 3000 - cut["amount"] + 800
    assert (not_theirs.status_code, not_theirs.json()["code"]) == (403, "social.bargain_not_yours")
    assert (bought.status_code, retried.status_code) == (201, 201)
    assert retried.json()["order_id"] == bought.json()["order_id"]
    assert [(b["id"], b["status"], b["order_id"]) for b in mine.json()] == [
        (bargain_id, "ordered", bought.json()["order_id"])
    ]
    order = await client.get(f"/api/v1/orders/{bought.json()['order_id']}", headers=auth)
    assert (order.json()["deal"], order.json()["total_amount"]) == (f"bargain:{bargain_id}", total)
    assert await offer_sold(offer.id) == 1


async def test_refused_helps_are_clean_problems_that_change_nothing(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    offer = await bargain_offer(red, floor=1000, helps=(5, 5), per_customer=1)
    auth, _address_id = await shopper(client)
    _first, first = await signed_in_customer(client)
    _second, second = await signed_in_customer(client)
    started = await client.post(
        f"/api/v1/bargain-offers/{offer.id}/bargains", headers={**auth, "X-Device-Id": "initiator-phone"}
    )
    bargain_id = started.json()["id"]
    await client.post(f"/api/v1/bargains/{bargain_id}/help", headers={**first, "X-Device-Id": "first-phone"})
    before = (await bargain_counts(), (await client.get(f"/api/v1/bargains/{bargain_id}")).json())

    own = await client.post(f"/api/v1/bargains/{bargain_id}/help", headers=auth)
    twice = await client.post(f"/api/v1/bargains/{bargain_id}/help", headers={**first, "X-Device-Id": "new"})
    same_device = await client.post(
        f"/api/v1/bargains/{bargain_id}/help", headers={**second, "X-Device-Id": "initiator-phone"}
    )
    unknown = await client.post("/api/v1/bargains/99999/help", headers=second)
    second_start = await client.post(f"/api/v1/bargain-offers/{offer.id}/bargains", headers=auth)
    no_key = await client.post(
        f"/api/v1/bargains/{bargain_id}/orders", json={"expected_total_amount": 3800}, headers=auth
    )
    bad_device = await client.post(
        f"/api/v1/bargains/{bargain_id}/help", headers={**second, "X-Device-Id": "not a device id!"}
    )

    assert [(r.status_code, r.json()["code"]) for r in (own, twice, same_device, unknown, second_start)] == [
        (409, "social.bargain_own_help"),
        (409, "social.bargain_already_helped"),
        (409, "social.bargain_same_device"),
        (404, "social.bargain_not_found"),
        (409, "social.bargain_limit_reached"),
    ]
    assert (no_key.status_code, bad_device.status_code) == (422, 422)
    after = (await client.get(f"/api/v1/bargains/{bargain_id}")).json()
    assert await bargain_counts() == before[0]
    assert {k: after[k] for k in ("current_amount", "helps_done", "status", "helps")} == {
        k: before[1][k] for k in ("current_amount", "helps_done", "status", "helps")
    }
