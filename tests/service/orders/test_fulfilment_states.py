"""After payment: paid orders keep their stock, each warehouse's part ships and arrives on its own,
the order follows the slowest part, and delivered orders complete by themselves N days later."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mercato import inventory, orders
from mercato.catalog.models import Product
from mercato.core import clock
from mercato.core.db import uow
from mercato.orders.models import Order
from tests.factories.cart import listed_skus
from tests.factories.catalog import SYSTEM
from tests.factories.identity import make_customer
from tests.factories.inventory import level, make_skus, make_warehouse, receive, verify
from tests.factories.orders import place

WAREHOUSE = SYSTEM


async def paid(order: orders.OrderRead) -> orders.OrderRead:
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=1, amount=order.total_amount, currency=order.currency
        )
    return await read(order.id)


async def read(order_id: int) -> orders.OrderRead:
    async with uow(write=False) as s:
        return await orders.read_order(s, order_id=order_id)


async def ship(order_id: int, sub_order_id: int) -> bool:
    async with uow() as s:
        return await orders.mark_sub_order_shipped(
            s, order_id=order_id, sub_order_id=sub_order_id, actor=WAREHOUSE
        )


async def deliver(order_id: int, sub_order_id: int) -> bool:
    async with uow() as s:
        return await orders.mark_sub_order_delivered(
            s, order_id=order_id, sub_order_id=sub_order_id, actor=WAREHOUSE
        )


async def complete_due() -> int:
    async with uow() as s:
        return await orders.complete_delivered_orders(s)


async def split_order() -> tuple[orders.OrderRead, int, int, int]:
    """A paid order for 3 units split over two warehouses (2 + 1)."""
    customer = await make_customer()
    (sku,) = await make_skus()
    async with uow() as s:
        from sqlalchemy import update

        from mercato.catalog.models import Product, Sku

        product_id = (await s.execute(select(Sku.product_id).where(Sku.id == sku))).scalar_one()
        await s.execute(update(Product).where(Product.id == product_id).values(status="on_sale"))
    near = await make_warehouse("SH-1", priority=1)
    far = await make_warehouse("BJ-1", priority=50)
    await receive(sku, near.id, 2)
    await receive(sku, far.id, 2)
    order = await paid(await place(customer.id, (sku, 3)))
    return order, sku, near.id, far.id


async def test_a_paid_orders_stock_is_held_past_the_payment_window() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    order = await paid(await place(customer.id, (red, 2)))
    clock.advance(dt.timedelta(days=3))

    async with uow() as s:
        expired = await inventory.expire_reservations(s)

    assert expired == 0
    async with uow(write=False) as s:
        holds = await inventory.list_reservations(s, reference=f"order:{order.id}")
    assert [(h.status, h.expires_at) for h in holds] == [(inventory.ReservationStatus.active, None)]
    assert (await verify()).problems == []


async def test_paying_counts_the_units_sold_once() -> None:
    customer = await make_customer()
    red, black = await listed_skus(stock=5)
    order = await paid(await place(customer.id, (red, 2), (black, 1)))
    async with uow() as s:
        again = await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=2, amount=order.total_amount, currency="CNY"
        )

    assert again is False
    async with uow(write=False) as s:
        counted = (
            await s.execute(select(Product.sales_count).where(Product.id == order.lines[0].product_id))
        ).scalar_one()
    assert counted == 3


async def test_parts_ship_and_arrive_on_their_own_and_the_order_follows_the_slowest() -> None:
    order, sku, near, far = await split_order()
    first, second = sorted(order.sub_orders, key=lambda x: x.warehouse_id != near)

    assert await ship(order.id, first.id) is True
    assert await ship(order.id, first.id) is False  # a repeat changes nothing
    after_one = await read(order.id)
    assert (after_one.status, after_one.shipped_at) == (orders.OrderStatus.partially_shipped, None)
    assert ((await level(sku, near)).on_hand, (await level(sku, near)).reserved) == (0, 0)
    assert ((await level(sku, far)).on_hand, (await level(sku, far)).reserved) == (2, 1)

    assert await ship(order.id, second.id) is True
    assert await deliver(order.id, first.id) is True
    halfway = await read(order.id)
    assert (halfway.status, halfway.delivered_at) == (orders.OrderStatus.shipped, None)
    assert halfway.shipped_at is not None
    assert await deliver(order.id, second.id) is True
    assert await deliver(order.id, second.id) is False

    done = await read(order.id)
    assert done.status is orders.OrderStatus.delivered
    assert [(s.status, s.shipped_at is not None, s.delivered_at is not None) for s in done.sub_orders] == [
        ("delivered", True, True),
        ("delivered", True, True),
    ]
    assert [(h.sub_order_id, h.from_status, h.to_status) for h in done.history] == [
        (None, "", "pending_payment"),
        (None, "pending_payment", "paid"),
        (first.id, "paid", "shipped"),
        (None, "paid", "partially_shipped"),
        (second.id, "paid", "shipped"),
        (None, "partially_shipped", "shipped"),
        (first.id, "shipped", "delivered"),
        (second.id, "shipped", "delivered"),
        (None, "shipped", "delivered"),
    ]
    assert ((await level(sku, far)).on_hand, (await level(sku, far)).reserved) == (1, 0)
    assert (await verify()).problems == []


async def test_delivered_orders_complete_after_the_configured_days() -> None:
    order, _sku, _near, _far = await split_order()
    for sub in order.sub_orders:
        await ship(order.id, sub.id)
        await deliver(order.id, sub.id)
    clock.advance(dt.timedelta(days=7) - dt.timedelta(minutes=1))
    assert await complete_due() == 0

    clock.advance(dt.timedelta(minutes=1))

    assert await complete_due() == 1
    assert await complete_due() == 0
    done = await read(order.id)
    assert done.status is orders.OrderStatus.completed
    assert done.closed_at is not None
    assert done.delivered_at is not None
    assert done.closed_at - done.delivered_at >= dt.timedelta(days=7)
    assert [s.status for s in done.sub_orders] == ["completed", "completed"]
    assert (done.history[-1].to_status, done.history[-1].actor_label) == ("completed", "system")


async def test_the_completion_delay_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MERCATO_ORDER_AUTO_COMPLETE_DAYS", "1")
    order, _sku, _near, _far = await split_order()
    for sub in order.sub_orders:
        await ship(order.id, sub.id)
        await deliver(order.id, sub.id)
    clock.advance(dt.timedelta(days=1))

    assert await complete_due() == 1


async def test_an_unpaid_part_cannot_ship_nor_an_unshipped_one_arrive() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    unpaid = await place(customer.id, (red, 2))
    [sub] = unpaid.sub_orders

    with pytest.raises(orders.CannotShip):
        await ship(unpaid.id, sub.id)
    with pytest.raises(orders.CannotDeliver):
        await deliver(unpaid.id, sub.id)
    with pytest.raises(orders.OrderNotFound):
        await ship(unpaid.id + 1, sub.id)  # a sub-order is only found under its own order

    after = await read(unpaid.id)
    assert (after.status, [s.status for s in after.sub_orders]) == (
        orders.OrderStatus.pending_payment,
        ["pending_payment"],
    )
    assert [h.to_status for h in after.history] == ["pending_payment"]
    async with uow(write=False) as s:
        row = (await s.execute(select(Order.shipped_at).where(Order.id == unpaid.id))).scalar_one()
    assert row is None
    assert (await verify()).problems == []


async def test_a_delivered_order_can_be_completed_at_once() -> None:
    order, _sku, _near, _far = await split_order()
    async with uow() as s:
        with pytest.raises(orders.CannotComplete):
            await orders.complete_order(s, order_id=order.id, actor=WAREHOUSE, reason="pickup verified")
    for sub in order.sub_orders:
        await ship(order.id, sub.id)
        await deliver(order.id, sub.id)

    async with uow() as s:
        first = await orders.complete_order(s, order_id=order.id, actor=WAREHOUSE, reason="pickup verified")
    async with uow() as s:
        again = await orders.complete_order(s, order_id=order.id, actor=WAREHOUSE, reason="pickup verified")

    assert (first, again) == (True, False)
    done = await read(order.id)
    assert (done.status, done.history[-1].reason) == (orders.OrderStatus.completed, "pickup verified")
    assert done.closed_at is not None


async def test_a_paid_order_refunded_before_shipping_closes_and_frees_its_stock() -> None:
    order, sku, near, far = await split_order()

    async with uow() as s:
        closed = await orders.close_paid_order(
            s, order_id=order.id, actor=WAREHOUSE, reason="refunded in full"
        )
    async with uow() as s:
        again = await orders.close_paid_order(
            s, order_id=order.id, actor=WAREHOUSE, reason="refunded in full"
        )

    assert (closed, again) == (True, False)
    after = await read(order.id)
    assert (after.status, [s.status for s in after.sub_orders]) == (
        orders.OrderStatus.closed,
        ["closed", "closed"],
    )
    assert [((await level(sku, w)).on_hand, (await level(sku, w)).reserved) for w in (near, far)] == [
        (2, 0),
        (2, 0),
    ]
    assert (await verify()).problems == []


async def test_an_order_with_a_shipped_part_cannot_be_closed() -> None:
    order, _sku, _near, _far = await split_order()
    await ship(order.id, order.sub_orders[0].id)

    async with uow() as s:
        with pytest.raises(orders.CannotClose):
            await orders.close_paid_order(s, order_id=order.id, actor=WAREHOUSE, reason="refunded")

    assert (await read(order.id)).status is orders.OrderStatus.partially_shipped


async def test_a_part_with_every_unit_refunded_before_shipping_closes_and_does_not_hold_the_order_back() -> (
    None
):
    order, sku, near, far = await split_order()
    far_part = next(s for s in order.sub_orders if s.warehouse_id == far)
    near_part = next(s for s in order.sub_orders if s.warehouse_id == near)
    far_line = next(x for x in order.lines if x.sub_order_id == far_part.id)

    async with uow() as s:
        await orders.drop_units_before_shipping(
            s, order_id=order.id, order_line_id=far_line.id, quantity=1, actor=WAREHOUSE, reason="refunded"
        )
    with pytest.raises(orders.CannotDropUnits):  # nothing left on that line
        async with uow() as s:
            await orders.drop_units_before_shipping(
                s, order_id=order.id, order_line_id=far_line.id, quantity=1, actor=WAREHOUSE, reason="again"
            )
    await ship(order.id, near_part.id)
    await deliver(order.id, near_part.id)

    done = await read(order.id)
    assert done.status is orders.OrderStatus.delivered
    assert sorted((s.warehouse_id, s.status) for s in done.sub_orders) == sorted(
        [(near, "delivered"), (far, "closed")]
    )
    assert ((await level(sku, far)).on_hand, (await level(sku, far)).reserved) == (2, 0)
    assert ((await level(sku, near)).on_hand, (await level(sku, near)).reserved) == (0, 0)
    assert (await verify()).problems == []


async def test_a_one_warehouse_order_records_each_step_once() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    order = await paid(await place(customer.id, (red, 2)))
    [sub] = order.sub_orders

    assert await ship(order.id, sub.id) is True
    assert await ship(order.id, sub.id) is False
    assert await deliver(order.id, sub.id) is True
    assert await deliver(order.id, sub.id) is False

    done = await read(order.id)
    assert (done.status, [s.status for s in done.sub_orders]) == (orders.OrderStatus.delivered, ["delivered"])
    assert [(h.sub_order_id, h.from_status, h.to_status, h.actor_label) for h in done.history] == [
        (None, "", "pending_payment", f"customer:{customer.id}"),
        (None, "pending_payment", "paid", "payments"),
        (None, "paid", "shipped", WAREHOUSE.label),
        (None, "shipped", "delivered", WAREHOUSE.label),
    ]
