"""Store pickup (到店核销): a paid pickup order gets one code, kept only as a keyed hash; staff at
the store verify it and the order completes; the wrong store, a wrong code, a replay and a closed
order are refused with nothing changed; wrong codes are limited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from mercato import fulfillment, identity, orders
from mercato.core import events
from mercato.core.db import uow
from mercato.fulfillment.models import PickupCode
from tests.service.fulfillment.factories import (
    STAFF,
    counts,
    outbox,
    read_order,
    ship,
    stock,
    store_order,
    verify_stock,
)

CLERK = identity.Actor(staff_id=7, label="clerk@example.com")


pytestmark = pytest.mark.usefixtures("handlers")


async def code_of(order: orders.OrderRead) -> fulfillment.PickupCodeRead:
    async with uow(write=False) as s:
        return await fulfillment.get_pickup_code(s, order_id=order.id, customer_id=order.customer_id)


async def verify(store_id: int, code: str, actor: identity.Actor = CLERK) -> fulfillment.PickupVerification:
    async with uow() as s:
        return await fulfillment.verify_pickup(s, store_id=store_id, code=code, actor=actor)


async def test_a_paid_pickup_order_gets_one_code_kept_only_as_a_hash() -> None:
    order, _red, store = await store_order()

    await events.deliver_pending()  # orders.order_paid → the code
    pickup = await code_of(order)
    async with uow() as s:
        again = await fulfillment.issue_pickup_code(s, order_id=order.id)
    async with uow(write=False) as s:
        row = (await s.execute(select(PickupCode))).scalar_one()

    assert (pickup.store_id, pickup.status, pickup.verified_at) == (
        store,
        fulfillment.PickupStatus.open,
        None,
    )
    assert pickup.code is not None
    assert (len(pickup.code), pickup.code.isdigit()) == (8, True)
    assert again is False
    stored = json.dumps({c.name: str(getattr(row, c.name)) for c in PickupCode.__table__.columns})
    assert pickup.code not in stored
    assert [(n, p) for n, p in await outbox("fulfillment.")] == [
        ("fulfillment.pickup_code_issued.v1", {"order_id": order.id, "store_id": store})
    ]


async def test_orders_without_pickup_or_payment_get_no_code() -> None:
    unpaid, _red, _store = await store_order(paid=False)

    await events.deliver_pending()

    with pytest.raises(fulfillment.PickupCodeNotFound):
        await code_of(unpaid)
    with pytest.raises(orders.OrderNotFound):  # another shopper's order
        async with uow(write=False) as s:
            await fulfillment.get_pickup_code(s, order_id=unpaid.id, customer_id=unpaid.customer_id + 1)


async def test_verifying_at_the_store_completes_the_order() -> None:
    order, red, store = await store_order()
    await events.deliver_pending()
    code = (await code_of(order)).code
    assert code is not None

    done = await verify(store, code)

    assert (done.order_id, done.order_number, done.store_id, done.status) == (
        order.id,
        order.number,
        store,
        fulfillment.PickupStatus.verified,
    )
    completed = await read_order(order.id)
    assert (completed.status, [s.status for s in completed.sub_orders]) == (
        orders.OrderStatus.completed,
        ["completed"],
    )
    assert completed.history[-1].reason == "pickup verified"
    assert await stock(red, store) == (3, 0)
    used = await code_of(order)
    assert (used.status, used.code, used.verified_at) == (
        fulfillment.PickupStatus.verified,
        None,
        done.verified_at,
    )
    assert [n for n, _p in await outbox("fulfillment.pickup_verified")] == ["fulfillment.pickup_verified.v1"]
    assert await verify_stock() == []


async def test_the_wrong_store_a_wrong_code_and_a_replay_change_nothing() -> None:
    order, red, store = await store_order()
    await events.deliver_pending()
    code = (await code_of(order)).code
    assert code is not None
    wrong = f"{(int(code) + 1) % 10**8:08d}"
    before = await counts()

    with pytest.raises(fulfillment.WrongStore):
        await verify(store + 1000, code)
    with pytest.raises(fulfillment.PickupCodeInvalid):
        await verify(store, wrong)

    assert await counts() == before
    assert (await read_order(order.id)).status is orders.OrderStatus.paid
    assert (await code_of(order)).status is fulfillment.PickupStatus.open
    await verify(store, code)
    after = await counts()
    with pytest.raises(fulfillment.PickupAlreadyVerified):
        await verify(store, code)
    assert await counts() == after
    assert await stock(red, store) == (3, 0)


async def test_wrong_codes_are_limited_per_store() -> None:
    order, _red, store = await store_order()
    await events.deliver_pending()
    code = (await code_of(order)).code
    assert code is not None

    for attempt in range(10):
        with pytest.raises(fulfillment.PickupCodeInvalid):
            await verify(store, f"{attempt:08d}" if f"{attempt:08d}" != code else "99999999", STAFF)
    with pytest.raises(fulfillment.PickupAttemptsExceeded) as limited:
        await verify(store, code)  # even the right code, until the window passes

    assert limited.value.retry_after is not None
    assert (await read_order(order.id)).status is orders.OrderStatus.paid


async def test_a_closed_orders_code_stops_working() -> None:
    order, red, store = await store_order()
    await events.deliver_pending()
    code = (await code_of(order)).code
    assert code is not None
    async with uow() as s:
        await orders.close_paid_order(s, order_id=order.id, actor=STAFF, reason="refunded in full")
    await events.deliver_pending()  # orders.order_closed → the code is cancelled

    with pytest.raises(fulfillment.PickupNotAllowed):
        await verify(store, code)

    assert (await code_of(order)).status is fulfillment.PickupStatus.cancelled
    assert (await read_order(order.id)).status is orders.OrderStatus.closed
    assert await stock(red, store) == (5, 0)


async def test_a_pickup_order_is_not_shipped_by_carrier() -> None:
    order, _red, _store = await store_order()

    with pytest.raises(fulfillment.PickupOrder):
        await ship(order.id, order.sub_orders[0].id)
