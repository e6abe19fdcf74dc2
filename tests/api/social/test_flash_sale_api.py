"""Flash sales over the API: staff set a session up and publish it; shoppers see it with the
server's clock, confirm the price and buy; sold out, too early, over the limit, a forged human
check and bad input are clean problems that change nothing."""

from __future__ import annotations

import datetime as dt

from httpx import AsyncClient

from mercato.core import clock
from tests.factories.checkout import shopper
from tests.factories.identity import make_staff, staff_headers
from tests.factories.social import flash_session, flash_shop, left, purchase_statuses


async def marketer() -> dict[str, str]:
    staff = await make_staff(email="flash@example.com", permissions=["promotions.read", "promotions.write"])
    return await staff_headers(staff.id)


async def test_staff_set_up_publish_and_watch_a_session(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000, stock=20)
    headers = await marketer()
    start = clock.now() + dt.timedelta(minutes=5)
    body = {
        "name": "10:00 场",
        "starts_at": start.isoformat(),
        "ends_at": (start + dt.timedelta(hours=2)).isoformat(),
    }

    created = await client.post("/api/v1/admin/flash-sessions", json=body, headers=headers)
    session_id = created.json()["id"]
    item = await client.post(
        f"/api/v1/admin/flash-sessions/{session_id}/items",
        json={"sku_id": red, "price_amount": 1990, "quota": 8, "per_customer": 2},
        headers=headers,
    )
    too_dear = await client.post(
        f"/api/v1/admin/flash-sessions/{session_id}/items",
        json={"sku_id": red + 1, "price_amount": 3000, "quota": 1},
        headers=headers,
    )
    published = await client.post(f"/api/v1/admin/flash-sessions/{session_id}/publish", headers=headers)
    again = await client.post(f"/api/v1/admin/flash-sessions/{session_id}/publish", headers=headers)
    figures = await client.get(f"/api/v1/admin/flash-sessions/{session_id}/figures", headers=headers)
    history = await client.get(f"/api/v1/admin/flash-sessions/{session_id}/history", headers=headers)

    assert (created.status_code, item.status_code, published.status_code) == (201, 201, 200)
    assert (too_dear.status_code, too_dear.json()["code"]) == (422, "social.flash_price_not_below")
    assert published.json()["status"] == "published"
    assert (again.status_code, again.json()["code"]) == (409, "social.flash_session_not_editable")
    assert [(f["quota"], f["left"], f["orders"]) for f in figures.json()] == [(8, 8, 0)]
    assert [(h["from_status"], h["to_status"]) for h in history.json()] == [("draft", "published")]


async def test_a_shopper_without_the_permission_or_signed_out_is_refused(client: AsyncClient) -> None:
    staff = await make_staff(email="clerk@example.com", permissions=["orders.read"])
    clerk = await staff_headers(staff.id)

    listed = await client.get("/api/v1/admin/flash-sessions", headers=clerk)
    anonymous = await client.post("/api/v1/flash-sale/items/1/orders", json={"expected_total_amount": 1})

    assert listed.status_code == 403
    assert anonymous.status_code == 401


async def test_a_shopper_sees_confirms_and_buys_then_the_item_sells_out(client: AsyncClient) -> None:
    red, _black = await flash_shop(price=3000)
    session = await flash_session(red, price=990, quota=1)
    item_id = session.items[0].id
    auth, address_id = await shopper(client)
    other, _ = await shopper(client)

    page = await client.get("/api/v1/flash-sale", headers=auth)
    quote = await client.post(f"/api/v1/flash-sale/items/{item_id}/confirm", json={}, headers=auth)
    total = quote.json()["price"]["total_amount"]
    bought = await client.post(
        f"/api/v1/flash-sale/items/{item_id}/orders",
        json={"expected_total_amount": total},
        headers={**auth, "Idempotency-Key": "flash-order-0001"},
    )
    retried = await client.post(
        f"/api/v1/flash-sale/items/{item_id}/orders",
        json={"expected_total_amount": total},
        headers={**auth, "Idempotency-Key": "flash-order-0001"},
    )
    sold_out = await client.post(
        f"/api/v1/flash-sale/items/{item_id}/orders",
        json={"expected_total_amount": total},
        headers={**other, "Idempotency-Key": "flash-order-0002"},
    )
    after = await client.get("/api/v1/flash-sale", headers=auth)

    view = page.json()[0]
    assert (view["phase"], view["offers"][0]["left"], view["offers"][0]["price_amount"]) == ("live", 1, 990)
    assert dt.datetime.fromisoformat(view["server_now"]) <= clock.now()
    assert total == 990 + 800
    assert (bought.status_code, retried.status_code) == (201, 201)
    assert retried.json()["order_id"] == bought.json()["order_id"]
    assert (sold_out.status_code, sold_out.json()["code"]) == (409, "social.flash_sold_out")
    assert after.json()[0]["offers"][0]["left"] == 0
    order = await client.get(f"/api/v1/orders/{bought.json()['order_id']}", headers=auth)
    assert (order.json()["deal"], order.json()["total_amount"]) == (f"flash:{item_id}", total)
    assert address_id > 0


async def test_refusals_change_nothing(client: AsyncClient) -> None:
    red, black = await flash_shop(price=3000)
    live = await flash_session(red, quota=5, human_check=True)
    soon = await flash_session(black, starts_in=dt.timedelta(hours=1))
    auth, _address_id = await shopper(client)

    def order(item_id: int, key: str, **body: object) -> object:
        return client.post(
            f"/api/v1/flash-sale/items/{item_id}/orders",
            json={"expected_total_amount": 1790, **body},
            headers={**auth, "Idempotency-Key": key},
        )

    too_early = await order(soon.items[0].id, "refusal-0001")
    forged = await order(live.items[0].id, "refusal-0002", proof="not-a-proof")
    unknown = await order(99_999, "refusal-0003")
    over = await order(soon.items[0].id, "refusal-0004", quantity=100)
    no_key = await client.post(
        f"/api/v1/flash-sale/items/{live.items[0].id}/orders",
        json={"expected_total_amount": 1790},
        headers=auth,
    )
    remind = await client.post(f"/api/v1/flash-sale/sessions/{soon.id}/remind", headers=auth)
    remind_again = await client.post(f"/api/v1/flash-sale/sessions/{soon.id}/remind", headers=auth)
    remind_live = await client.post(f"/api/v1/flash-sale/sessions/{live.id}/remind", headers=auth)

    assert [(r.status_code, r.json()["code"]) for r in (too_early, forged, unknown)] == [  # type: ignore[attr-defined]
        (409, "social.flash_not_started"),
        (422, "social.human_check_failed"),
        (404, "social.flash_item_not_found"),
    ]
    assert over.status_code == 422  # type: ignore[attr-defined]
    assert no_key.status_code == 422
    assert (remind.json(), remind_again.json()) == ({"reminded": True}, {"reminded": False})
    assert (remind_live.status_code, remind_live.json()["code"]) == (409, "social.flash_ended")
    assert await purchase_statuses() == []
    assert (await left(live.items[0].id), await left(soon.items[0].id)) == (5, 10)
