"""Placing orders: priced, reserved and frozen at once; never oversold; cancelled stock comes back."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import func, select

from mercato import catalog, checkout, inventory, orders, payments
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.orders.models import Order, OrderLine
from mercato.worker import register
from tests.factories.cart import listed_skus
from tests.factories.catalog import SYSTEM
from tests.factories.identity import make_customer
from tests.factories.inventory import make_skus, make_warehouse, receive, verify
from tests.factories.orders import lift_unpaid_limits, place


async def available(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.available_units(s, sku_ids=[sku_id]))[sku_id]


async def order_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Order))).scalar_one()


async def test_an_order_freezes_prices_and_holds_stock() -> None:
    customer = await make_customer()
    red, black = await listed_skus(price=3000, stock=10)

    order = await place(customer.id, (red, 2), (black, 1), note="请放门卫")

    assert order.status is orders.OrderStatus.pending_payment
    assert order.number == f"{order.placed_at:%Y%m%d}{order.id:08d}"
    assert (order.subtotal_amount, order.shipping_amount, order.total_amount) == (9000, 0, 9000)
    assert [(x.sku_id, x.quantity, x.unit_price_amount, x.total_amount) for x in order.lines] == [
        (red, 2, 3000, 6000),
        (black, 1, 3000, 3000),
    ]
    assert len(order.sub_orders) == 1
    assert order.pay_by - order.placed_at == dt.timedelta(minutes=30)
    assert [h.to_status for h in order.history] == ["pending_payment"]
    assert (await available(red), await available(black)) == (8, 9)
    async with uow() as s:  # the catalog changes the price afterwards: the order keeps its own
        await catalog.update_sku(s, sku_id=red, data=catalog.SkuUpdate(price_amount=1), actor=SYSTEM)
    async with uow(write=False) as s:
        again = await orders.read_order(s, order_id=order.id, customer_id=customer.id)
    assert [x.unit_price_amount for x in again.lines] == [3000, 3000]


async def test_a_retry_with_the_same_key_returns_the_same_order() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=10)

    first = await place(customer.id, (red, 3), key="cart:1:1")
    second = await place(customer.id, (red, 3), key="cart:1:1")

    assert first.id == second.id
    assert await order_count() == 1
    assert await available(red) == 7


async def test_a_line_is_split_across_warehouses_into_sub_orders() -> None:
    customer = await make_customer()
    (sku,) = await make_skus()
    async with uow() as s:
        from sqlalchemy import update

        from mercato.catalog.models import Product, Sku

        product_id = (await s.execute(select(Sku.product_id).where(Sku.id == sku))).scalar_one()
        await s.execute(update(Product).where(Product.id == product_id).values(status="on_sale"))
    near = await make_warehouse("SH-1", regions=["上海市"], priority=1)
    far = await make_warehouse("BJ-1", priority=50)
    await receive(sku, near.id, 2)
    await receive(sku, far.id, 2)  # neither holds the 3 units alone

    order = await place(customer.id, (sku, 3))

    assert sorted((x.quantity, x.total_amount) for x in order.lines) == [(1, 1000), (2, 2000)]
    assert sorted(s.warehouse_id for s in order.sub_orders) == sorted([near.id, far.id])
    assert (await verify()).problems == []


async def test_nothing_is_placed_when_one_line_cannot_be_held() -> None:
    customer = await make_customer()
    red, black = await listed_skus(stock=2)

    with pytest.raises(inventory.InsufficientStock):
        await place(customer.id, (red, 1), (black, 3))

    assert await order_count() == 0
    assert (await available(red), await available(black)) == (2, 2)
    async with uow(write=False) as s:
        assert (await s.execute(select(func.count()).select_from(OrderLine))).scalar_one() == 0


async def test_a_changed_total_is_refused() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=3000)

    with pytest.raises(orders.PriceChanged):
        await place(customer.id, (red, 1), expected_total_amount=2900)

    assert await order_count() == 0
    assert await available(red) == 50


async def test_200_concurrent_buyers_place_exactly_50_orders(monkeypatch: pytest.MonkeyPatch) -> None:
    lift_unpaid_limits(monkeypatch)  # 8 buyers with many unpaid orders each: the caps are not tested here
    red, _black = await listed_skus(stock=50)
    customers = [await make_customer() for _ in range(8)]

    async def buy(n: int) -> str:
        try:
            await place(customers[n % 8].id, (red, 1), key=f"flash:{n}")
        except inventory.InsufficientStock:
            return "sold out"
        return "ordered"

    outcomes = await asyncio.gather(*(buy(n) for n in range(200)))

    assert (outcomes.count("ordered"), outcomes.count("sold out")) == (50, 150)
    assert await order_count() == 50
    assert await available(red) == 0
    assert (await verify()).problems == []


async def test_an_unpaid_order_is_cancelled_in_time_and_its_stock_comes_back() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=5)
    order = await place(customer.id, (red, 2))
    clock.advance(dt.timedelta(minutes=29))
    early = await checkout.cancel_unpaid_orders()
    clock.advance(dt.timedelta(minutes=2))

    late = await checkout.cancel_unpaid_orders()

    assert (early, late) == (0, 1)
    async with uow(write=False) as s:
        cancelled = await orders.read_order(s, order_id=order.id)
    assert cancelled.status is orders.OrderStatus.cancelled
    assert [(h.to_status, h.reason) for h in cancelled.history][-1] == ("cancelled", "not paid in time")
    assert await available(red) == 5
    assert (await verify()).problems == []


async def test_a_captured_payment_marks_the_order_paid_once() -> None:
    register()
    try:
        customer = await make_customer()
        red, _black = await listed_skus(price=3000)
        order = await place(customer.id, (red, 1))
        async with uow() as s:
            await events.record_event(
                s,
                payments.PaymentCaptured(
                    payment_id=7, reference=f"order:{order.id}", amount=3000, currency="CNY"
                ),
            )
            await events.record_event(
                s,
                payments.PaymentCaptured(
                    payment_id=8, reference=f"order:{order.id}", amount=3000, currency="CNY"
                ),
            )

        await events.deliver_pending()

        async with uow(write=False) as s:
            paid = await orders.read_order(s, order_id=order.id)
        assert (paid.status, paid.payment_id) == (orders.OrderStatus.paid, 7)
        assert [h.to_status for h in paid.history] == ["pending_payment", "paid"]
        with pytest.raises(orders.CannotCancel):
            async with uow() as s:
                await orders.cancel_order(s, order_id=order.id, reason="changed my mind", actor=SYSTEM)
    finally:
        events.unsubscribe_all()


async def test_a_customer_sees_and_cancels_only_their_own_orders() -> None:
    alice, bob = await make_customer(), await make_customer()
    red, _black = await listed_skus()
    order = await place(alice.id, (red, 1))

    with pytest.raises(orders.OrderNotFound):
        async with uow(write=False) as s:
            await orders.read_order(s, order_id=order.id, customer_id=bob.id)
    with pytest.raises(orders.OrderNotFound):
        async with uow() as s:
            await orders.cancel_order(s, order_id=order.id, reason="x", actor=SYSTEM, customer_id=bob.id)
    async with uow(write=False) as s:
        bobs = await orders.list_orders(s, customer_id=bob.id)
        alices = await orders.list_orders(s, customer_id=alice.id)

    assert (bobs.items, [o.id for o in alices.items]) == ([], [order.id])
    assert await available(red) == 49
