"""Shipping sub-orders: each part leaves on its own (partial shipment) and the order follows;
retries return the shipment that exists; refusals change nothing; tracking by hand delivers."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import fulfillment, orders
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.idempotency import IdempotencyKeyReused
from mercato.fulfillment import TrackingStatus as T
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.fulfillment.factories import (
    STAFF,
    counts,
    outbox,
    read_order,
    ship,
    split_order,
    stock,
    verify_stock,
)


async def test_parts_ship_on_their_own_and_the_order_follows() -> None:
    split = await split_order()

    first = await ship(split.order.id, split.near_part, "YT1000000001")
    halfway = await read_order(split.order.id)
    near_stock, far_stock = await stock(split.red, split.near), await stock(split.black, split.far)
    second = await ship(split.order.id, split.far_part, "sf1000000002", carrier="shunfeng")

    assert (first.carrier, first.carrier_name, first.tracking_number, first.tracker, first.status) == (
        "yuantong",
        "圆通速递",
        "YT1000000001",
        "manual",
        T.shipped,
    )
    red_line = next(line for line in split.order.lines if line.sku_id == split.red)
    assert [(i.order_line_id, i.sku_id, i.quantity) for i in first.items] == [(red_line.id, split.red, 2)]
    assert [(h.from_status, h.to_status, h.actor_label) for h in first.history] == [
        ("", "shipped", "warehouse@example.com")
    ]
    assert (halfway.status, [s.status for s in halfway.sub_orders]) == (
        orders.OrderStatus.partially_shipped,
        ["shipped", "paid"],
    )
    assert (near_stock, far_stock) == ((3, 0), (5, 1))  # the near part's holds were consumed
    assert second.tracking_number == "SF1000000002"  # numbers are kept upper-case
    done = await read_order(split.order.id)
    assert done.status is orders.OrderStatus.shipped
    assert (await stock(split.black, split.far)) == (4, 0)
    assert [(name, p["sub_order_id"]) for name, p in await outbox("fulfillment.")] == [
        ("fulfillment.shipment_created.v1", split.near_part),
        ("fulfillment.shipment_created.v1", split.far_part),
    ]
    assert [p["fully"] for _name, p in await outbox("orders.order_shipped")] == [False, True]
    assert await verify_stock() == []


async def test_a_retry_returns_the_same_shipment_and_changes_nothing() -> None:
    split = await split_order()
    first = await ship(split.order.id, split.near_part, "YT1000000001")
    keyed = await ship(split.order.id, split.far_part, "YT1000000002", key="ship-far-1")
    before = await counts()

    again = await ship(split.order.id, split.near_part, "yt1000000001")  # same carrier and number
    replay = await ship(split.order.id, split.far_part, "YT1000000002", key="ship-far-1")

    assert (again.id, replay.id) == (first.id, keyed.id)
    assert await counts() == before
    assert (await read_order(split.order.id)).status is orders.OrderStatus.shipped


async def test_refusals_change_nothing() -> None:
    split = await split_order()
    other = await split_order(paid=True)
    await ship(split.order.id, split.near_part, "YT1000000001", key="ship-1")
    before = await counts()
    stock_before = [await stock(split.red, split.near), await stock(split.black, split.far)]
    cases: list[tuple[type[Exception], dict[str, object]]] = [
        (fulfillment.AlreadyShipped, {"sub_order_id": split.near_part, "tracking_number": "YT1000000009"}),
        (
            fulfillment.TrackingNumberInUse,
            {"sub_order_id": split.far_part, "tracking_number": "YT1000000001"},
        ),
        (fulfillment.UnknownCarrier, {"sub_order_id": split.far_part, "carrier": "pigeon"}),
        (fulfillment.SubOrderNotFound, {"sub_order_id": other.order.sub_orders[0].id}),
        (orders.OrderNotFound, {"order_id": 10**9}),
    ]

    for error, change in cases:
        fields: dict[str, object] = {
            "order_id": split.order.id,
            "sub_order_id": split.far_part,
            "carrier": "yuantong",
            "tracking_number": "YT1000000002",
            **change,
        }
        async with uow() as s:
            with pytest.raises(error):
                await fulfillment.ship_sub_order(s, data=fulfillment.ShipmentCreate(**fields), actor=STAFF)  # type: ignore[arg-type]
    with pytest.raises(IdempotencyKeyReused):
        await ship(split.order.id, split.far_part, "YT1000000002", key="ship-1")

    assert await counts() == before
    assert [await stock(split.red, split.near), await stock(split.black, split.far)] == stock_before
    assert (await read_order(split.order.id)).status is orders.OrderStatus.partially_shipped


async def test_an_unknown_carrier_names_the_field() -> None:
    split = await split_order()

    with pytest.raises(fulfillment.UnknownCarrier) as refused:
        await ship(split.order.id, split.near_part, carrier="pigeon")

    assert [(f.loc, f.code) for f in refused.value.fields] == [
        (("body", "carrier"), "fulfillment.unknown_carrier")
    ]


async def test_an_unpaid_or_cancelled_order_cannot_ship() -> None:
    split = await split_order(paid=False)
    customer = await make_customer(password=None)
    cancelled = await place(customer.id, (split.red, 1))
    async with uow() as s:
        await orders.cancel_order(s, order_id=cancelled.id, reason="不要了", actor=STAFF)
    before = await counts()

    with pytest.raises(fulfillment.NotShippable):
        await ship(split.order.id, split.near_part)
    with pytest.raises(fulfillment.NotShippable):
        await ship(cancelled.id, cancelled.sub_orders[0].id)

    assert await counts() == before
    assert (await read_order(split.order.id)).status is orders.OrderStatus.pending_payment
    assert await stock(split.red, split.near) == (5, 2)  # still held for the unpaid order
    assert await verify_stock() == []


async def track(shipment_id: int, status: T, context: str, **fields: object) -> fulfillment.ShipmentRead:
    async with uow() as s:
        return await fulfillment.add_tracking_event(
            s,
            shipment_id=shipment_id,
            data=fulfillment.TrackingEventCreate(status=status, context=context, **fields),  # type: ignore[arg-type]
            actor=STAFF,
        )


async def deliver(shipment_id: int) -> fulfillment.ShipmentRead:
    async with uow() as s:
        return await fulfillment.mark_shipment_delivered(
            s, shipment_id=shipment_id, data=fulfillment.DeliverShipment(), actor=STAFF
        )


async def test_tracking_by_hand_delivers_each_part_and_then_the_order() -> None:
    split = await split_order()
    near = await ship(split.order.id, split.near_part, "SHOP-0001", carrier="shop")
    far = await ship(split.order.id, split.far_part, "YT1000000002")
    an_hour_ago = clock.now() - dt.timedelta(hours=1)

    moving = await track(near.id, T.in_transit, "司机已出发", occurred_at=an_hour_ago, location="上海")
    arrived = await deliver(near.id)
    repeat = await deliver(near.id)
    halfway = await read_order(split.order.id)
    await deliver(far.id)

    assert [(e.status, e.context, e.location, e.source) for e in moving.events] == [
        (T.in_transit, "司机已出发", "上海", "manual")
    ]
    assert (arrived.status, [e.context for e in arrived.events]) == (T.delivered, ["已签收", "司机已出发"])
    assert arrived.delivered_at is not None
    assert repeat == arrived
    assert [(h.from_status, h.to_status) for h in arrived.history] == [
        ("", "shipped"),
        ("shipped", "in_transit"),
        ("in_transit", "delivered"),
    ]
    assert ([s.status for s in halfway.sub_orders], halfway.status) == (
        ["delivered", "shipped"],
        orders.OrderStatus.shipped,
    )
    done = await read_order(split.order.id)
    assert (done.status, done.delivered_at is not None) == (orders.OrderStatus.delivered, True)
    assert [
        (p["shipment_id"], p["status"], p["added_events"]) for _n, p in await outbox("fulfillment.tracking")
    ] == [
        (near.id, "in_transit", 1),
        (near.id, "delivered", 1),
        (far.id, "delivered", 1),
    ]
    assert await verify_stock() == []


async def test_a_finished_shipment_takes_no_more_steps_nor_future_ones() -> None:
    split = await split_order()
    near = await ship(split.order.id, split.near_part, "SHOP-0001", carrier="shop")
    far = await ship(split.order.id, split.far_part, "SHOP-0002", carrier="shop")
    await deliver(near.id)
    before = await counts()

    with pytest.raises(fulfillment.ShipmentFinished):
        await track(near.id, T.in_transit, "又出发了")
    with pytest.raises(fulfillment.EventInFuture):
        await track(far.id, T.in_transit, "明天的事", occurred_at=clock.now() + dt.timedelta(hours=1))
    with pytest.raises(fulfillment.ShipmentNotFound):
        await track(10**9, T.in_transit, "?")

    assert await counts() == before
