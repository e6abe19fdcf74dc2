"""The storefront's 热销 shelf: products by units in paid orders placed in the last 30 days
(an order placed exactly 30 days ago still counts); unpaid and cancelled orders and units
refunded before shipping do not."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import catalog, identity, orders
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.orders.test_reports import paid


async def product_of(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await catalog.get_sku_refs(s, sku_ids=[sku_id]))[sku_id].product_id


async def best(days: int = 30, limit: int = 8) -> list[int]:
    async with uow(write=False) as s:
        return await orders.list_best_selling_product_ids(s, days=days, limit=limit)


async def test_products_are_ranked_by_units_in_paid_orders() -> None:
    alice, bob = await make_customer(), await make_customer()
    tee, _ = await listed_skus(price=3000, stock=50)
    mug, _ = await listed_skus(price=2000, stock=50)
    cap_red, cap_black = await listed_skus(price=1000, stock=50)
    await paid(await place(alice.id, (tee, 2)))
    await paid(await place(bob.id, (mug, 1), (cap_red, 1)))
    await paid(await place(alice.id, (cap_black, 2)))  # both colours of the cap add up: 3
    await place(bob.id, (mug, 5))  # unpaid: does not count
    cancelled = await place(bob.id, (tee, 4))
    async with uow() as s:
        await orders.cancel_order(
            s, order_id=cancelled.id, reason="test", actor=identity.Actor(staff_id=None, label="system")
        )

    assert await best() == [await product_of(cap_red), await product_of(tee), await product_of(mug)]
    assert await best(limit=1) == [await product_of(cap_red)]


async def test_an_order_counts_until_thirty_days_after_it_was_placed(monkeypatch: pytest.MonkeyPatch) -> None:
    alice = await make_customer()
    tee, _ = await listed_skus(price=3000, stock=50)
    mug, _ = await listed_skus(price=2000, stock=50)
    start = clock.now()
    at = [start]
    monkeypatch.setattr(clock, "now", lambda: at[0])  # time stands still between the steps
    await paid(await place(alice.id, (tee, 3)))
    at[0] = start + dt.timedelta(days=1)
    await paid(await place(alice.id, (mug, 1)))

    at[0] = start + dt.timedelta(days=30)
    assert await best() == [await product_of(tee), await product_of(mug)]  # the tee: exactly 30 days ago

    at[0] = start + dt.timedelta(days=30, microseconds=1)
    assert await best() == [await product_of(mug)]

    at[0] = start + dt.timedelta(days=31, microseconds=1)
    assert await best() == []


async def test_a_shop_without_paid_orders_has_no_best_sellers() -> None:
    alice = await make_customer()
    tee, _ = await listed_skus(price=3000, stock=50)
    await place(alice.id, (tee, 1))

    assert await best() == []


async def test_units_refunded_before_shipping_are_not_sold() -> None:
    alice = await make_customer()
    tee, _ = await listed_skus(price=3000, stock=50)
    mug, _ = await listed_skus(price=2000, stock=50)
    order = await paid(await place(alice.id, (tee, 3)))
    await paid(await place(alice.id, (mug, 2)))
    async with uow() as s:
        await orders.drop_units_before_shipping(
            s,
            order_id=order.id,
            order_line_id=order.lines[0].id,
            quantity=2,
            actor=identity.Actor(staff_id=None, label="system"),
            reason="refund",
        )

    assert await best() == [await product_of(mug), await product_of(tee)]  # 2 mugs, 1 tee left
