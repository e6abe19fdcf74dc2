"""Shipping over the API: staff ship each part and record tracking, Kuaidi100 pushes arrive at
the notify endpoint, the shopper follows their parcels; permissions, other shoppers' orders and
bad input are refused with nothing changed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from httpx import AsyncClient

from tests.factories.identity import make_staff, signed_in_customer, staff_headers
from tests.providers.fake_kuaidi100 import FakeKuaidi100, running_fake_kuaidi100, step, use_fake
from tests.service.fulfillment.factories import counts, split_order, stock, verify_stock

SHIPMENTS = "/api/v1/admin/fulfillment/shipments"
NOTIFY = "/api/v1/fulfillment/notify/kuaidi100"
ACK = {"result": True, "returnCode": "200", "message": "成功"}


async def staff(*permissions: str, email: str = "ship@example.com") -> dict[str, str]:
    return await staff_headers((await make_staff(email=email, permissions=list(permissions))).id)


def body(order_id: int, sub_order_id: int, number: str, carrier: str = "yuantong") -> dict[str, object]:
    return {"order_id": order_id, "sub_order_id": sub_order_id, "carrier": carrier, "tracking_number": number}


async def test_staff_ship_each_part_and_the_shopper_follows_the_parcels(client: AsyncClient) -> None:
    customer, auth = await signed_in_customer(client, password=None)
    split = await split_order(customer_id=customer.id)
    writer = await staff("fulfillment.read", "fulfillment.write")
    order_path = f"/api/v1/orders/{split.order.id}"

    first = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "SHOP-0001", "shop"), headers=writer
    )
    retry = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "SHOP-0001", "shop"), headers=writer
    )
    partly = (await client.get(order_path, headers=auth)).json()
    second = await client.post(
        SHIPMENTS,
        json=body(split.order.id, split.far_part, "YT1000000002"),
        headers={**writer, "Idempotency-Key": "ship-far-0001"},
    )
    listed = (await client.get(f"{SHIPMENTS}?order_id={split.order.id}", headers=writer)).json()
    near_id, far_id = first.json()["id"], second.json()["id"]
    moving = await client.post(
        f"{SHIPMENTS}/{far_id}/events",
        json={"status": "out_for_delivery", "context": "快递员正在派件", "location": "上海"},
        headers=writer,
    )
    for shipment_id in (near_id, far_id):
        delivered = await client.post(f"{SHIPMENTS}/{shipment_id}/deliver", headers=writer)
        assert delivered.status_code == 200, delivered.text
    mine = (await client.get(f"{order_path}/shipments", headers=auth)).json()
    done = (await client.get(order_path, headers=auth)).json()

    assert (first.status_code, retry.status_code, retry.json()["id"]) == (201, 201, near_id)
    assert (first.json()["carrier_name"], first.json()["status"]) == ("商家配送", "shipped")
    assert (partly["status"], [s["status"] for s in partly["sub_orders"]]) == (
        "partially_shipped",
        ["shipped", "paid"],
    )
    assert second.status_code == 201, second.text
    assert [(s["id"], s["status"]) for s in listed["items"]] == [(far_id, "shipped"), (near_id, "shipped")]
    assert [e["context"] for e in moving.json()["events"]] == ["快递员正在派件"]
    assert [(s["id"], s["status"], [e["status"] for e in s["events"]]) for s in mine] == [
        (near_id, "delivered", ["delivered"]),
        (far_id, "delivered", ["delivered", "out_for_delivery"]),
    ]
    assert [(i["sku_id"], i["quantity"]) for s in mine for i in s["items"]] == [
        (split.red, 2),
        (split.black, 1),
    ]
    assert set(mine[0]) == {
        "id",
        "sub_order_id",
        "carrier",
        "carrier_name",
        "tracking_number",
        "status",
        "shipped_at",
        "delivered_at",
        "items",
        "events",
    }
    assert done["status"] == "delivered"
    assert [await stock(split.red, split.near), await stock(split.black, split.far)] == [(3, 0), (4, 0)]
    assert await verify_stock() == []


async def test_permissions_and_other_shoppers_orders(client: AsyncClient) -> None:
    customer, auth = await signed_in_customer(client, password=None)
    _other, other_auth = await signed_in_customer(client, password=None)
    split = await split_order(customer_id=customer.id)
    reader = await staff("fulfillment.read", email="reader@example.com")
    nobody = await staff(email="nobody@example.com")
    before = await counts()

    as_reader = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "YT1"), headers=reader
    )
    list_as_nobody = await client.get(SHIPMENTS, headers=nobody)
    as_customer = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "YT1"), headers=auth
    )
    not_theirs = await client.get(f"/api/v1/orders/{split.order.id}/shipments", headers=other_auth)
    no_code = await client.get(f"/api/v1/orders/{split.order.id}/pickup-code", headers=other_auth)

    assert (as_reader.status_code, as_reader.json()["code"]) == (403, "identity.permission_denied")
    assert list_as_nobody.status_code == 403
    assert as_customer.status_code == 401
    assert [(r.status_code, r.json()["code"]) for r in (not_theirs, no_code)] == [
        (404, "orders.order_not_found")
    ] * 2
    assert await counts() == before


@pytest.mark.parametrize(
    ("_case", "change", "status", "code"),
    [
        ("unknown carrier", {"carrier": "pigeon"}, 422, "fulfillment.unknown_carrier"),
        ("number too short", {"tracking_number": "YT1"}, 422, "core.validation_failed"),
        ("number with spaces", {"tracking_number": "YT 100 000"}, 422, "core.validation_failed"),
        ("unknown order", {"order_id": 999999}, 404, "orders.order_not_found"),
        ("already shipped", {"tracking_number": "YT9999999999"}, 409, "fulfillment.already_shipped"),
        ("number of another parcel", {"sub_order_id": None}, 409, "fulfillment.tracking_number_in_use"),
    ],
)
async def test_bad_shipments_are_refused_and_change_nothing(
    client: AsyncClient, _case: str, change: dict[str, object], status: int, code: str
) -> None:
    split = await split_order()
    writer = await staff("fulfillment.write")
    shipped = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "YT1000000001"), headers=writer
    )
    assert shipped.status_code == 201
    before = await counts()
    request = {**body(split.order.id, split.near_part, "YT1000000001"), **change}
    if change.get("sub_order_id", 0) is None:
        request["sub_order_id"] = split.far_part

    refused = await client.post(SHIPMENTS, json=request, headers=writer)

    assert (refused.status_code, refused.json()["code"]) == (status, code)
    assert refused.headers["content-type"] == "application/problem+json"
    assert await counts() == before


async def test_an_unpaid_order_cannot_ship(client: AsyncClient) -> None:
    split = await split_order(paid=False)
    writer = await staff("fulfillment.write")
    before = await counts()

    refused = await client.post(
        SHIPMENTS, json=body(split.order.id, split.near_part, "YT1000000001"), headers=writer
    )

    assert (refused.status_code, refused.json()["code"]) == (409, "fulfillment.not_shippable")
    assert await counts() == before


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeKuaidi100]:
    async with running_fake_kuaidi100() as server:
        use_fake(monkeypatch, server)
        yield server


async def test_kuaidi100_pushes_move_the_parcels_to_delivered(
    client: AsyncClient, fake: FakeKuaidi100
) -> None:
    customer, auth = await signed_in_customer(client, password=None)
    split = await split_order(customer_id=customer.id)
    writer = await staff("fulfillment.read", "fulfillment.write")
    near = (
        await client.post(
            SHIPMENTS, json=body(split.order.id, split.near_part, "YT1000000001"), headers=writer
        )
    ).json()
    far = (
        await client.post(
            SHIPMENTS, json=body(split.order.id, split.far_part, "YT1000000002"), headers=writer
        )
    ).json()
    collected = step("2026-11-27 15:00:00", "【杭州市】圆通速递 已揽收", "揽收")
    signed = step("2026-11-28 12:00:00", "【上海市】已签收，签收人：本人", "签收")

    pushed = await client.post(
        NOTIFY, data=fake.push_form("yuantong", "YT1000000001", state="1", data=[collected])
    )
    duplicate = await client.post(
        NOTIFY, data=fake.push_form("yuantong", "YT1000000001", state="1", data=[collected])
    )
    before = await counts()
    forged = await client.post(
        NOTIFY, data=fake.push_form("yuantong", "YT1000000001", state="3", data=[signed], salt="guessed")
    )
    unknown = await client.post(
        NOTIFY,
        data=fake.push_form(
            "yuantong", "YT0000000000", state="3", data=[signed], salt="fake-push-salt-0123456789"
        ),
    )
    unsigned = await client.post(NOTIFY, data={"param": "{}"})
    other_tracker = await client.post("/api/v1/fulfillment/notify/manual", data={"param": "{}"})
    unchanged = await counts()
    for number in ("YT1000000001", "YT1000000002"):
        signed_for = await client.post(
            NOTIFY, data=fake.push_form("yuantong", number, state="3", data=[signed, collected])
        )
        assert (signed_for.status_code, signed_for.json()) == (200, ACK)
    mine = (await client.get(f"/api/v1/orders/{split.order.id}/shipments", headers=auth)).json()
    done = (await client.get(f"/api/v1/orders/{split.order.id}", headers=auth)).json()

    assert [s["number"] for s in fake.subscriptions] == ["YT1000000001", "YT1000000002"]
    assert (near["tracker"], far["tracker"]) == ("kuaidi100", "kuaidi100")
    assert (pushed.status_code, pushed.json(), duplicate.json()) == (200, ACK, ACK)
    assert [(r.status_code, r.json()["code"]) for r in (forged, unknown, unsigned, other_tracker)] == [
        (400, "fulfillment.invalid_signature"),
        (400, "fulfillment.unknown_tracking_number"),
        (400, "fulfillment.invalid_signature"),
        (400, "fulfillment.tracker_not_enabled"),
    ]
    assert forged.headers["content-type"] == "application/problem+json"
    assert unchanged == before
    assert [(s["status"], [e["context"] for e in s["events"]]) for s in mine] == [
        ("delivered", [signed["context"], collected["context"]]),
        ("delivered", [signed["context"], collected["context"]]),
    ]
    assert done["status"] == "delivered"
    assert [await stock(split.red, split.near), await stock(split.black, split.far)] == [(3, 0), (4, 0)]
    assert await verify_stock() == []


async def test_refresh_asks_kuaidi100_after_the_request(client: AsyncClient, fake: FakeKuaidi100) -> None:
    split = await split_order()
    writer = await staff("fulfillment.read", "fulfillment.write")
    shipped = (
        await client.post(
            SHIPMENTS, json=body(split.order.id, split.near_part, "YT1000000001"), headers=writer
        )
    ).json()
    fake.parcels[("yuantong", "YT1000000001")] = {
        "state": "5",
        "data": [step("2026-11-28 09:30:00", "【上海市】快递员正在派件", "派件")],
    }

    accepted = await client.post(f"{SHIPMENTS}/{shipped['id']}/refresh", headers=writer)
    after = (await client.get(f"{SHIPMENTS}/{shipped['id']}", headers=writer)).json()

    assert (accepted.status_code, accepted.json()["status"]) == (202, "shipped")
    assert (after["status"], [e["context"] for e in after["events"]]) == (
        "out_for_delivery",
        ["【上海市】快递员正在派件"],
    )
    assert [q["num"] for q in fake.queries] == ["YT1000000001"]
