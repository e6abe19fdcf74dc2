"""orders.customer_order_stats: one customer's orders, paid orders, lifetime spend (GMV), average
order value (rounded half up to the fen) and last purchase; only paid orders count for money."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders
from mercato.core import clock
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place
from tests.service.orders.test_reports import paid

SYSTEM = identity.Actor(staff_id=None, label="system")


async def test_three_paid_orders_are_added_up_to_the_fen(session: AsyncSession) -> None:
    alice, bob = await make_customer(), await make_customer()
    hundred = (await listed_skus(price=10000))[0]
    fifty = (await listed_skus(price=5000))[0]
    fen = (await listed_skus(price=1))[0]
    await paid(await place(alice.id, (hundred, 1)))
    clock.advance(dt.timedelta(days=2))
    await paid(await place(alice.id, (fifty, 1)))
    clock.advance(dt.timedelta(hours=3))
    last = await paid(await place(alice.id, (fen, 1)))
    await place(alice.id, (hundred, 2))  # unpaid
    cancelled = await place(alice.id, (fifty, 3))
    async with uow() as s:
        await orders.cancel_order(s, order_id=cancelled.id, reason="test", actor=SYSTEM)
    await paid(await place(bob.id, (hundred, 1)))  # someone else's

    stats = await orders.customer_order_stats(session, customer_id=alice.id)

    assert stats == orders.CustomerOrderStats(
        currency="CNY",
        orders=5,
        paid_orders=3,
        spend_amount=15001,
        average_order_amount=5000,
        last_purchase_at=last.paid_at,
    )


async def test_the_average_is_rounded_half_up(session: AsyncSession) -> None:
    alice = await make_customer()
    one, two = (await listed_skus(price=1))[0], (await listed_skus(price=2))[0]
    await paid(await place(alice.id, (one, 1)))
    await paid(await place(alice.id, (two, 1)))  # 3 fen over 2 orders: 1.5 → 2

    stats = await orders.customer_order_stats(session, customer_id=alice.id)

    assert (stats.spend_amount, stats.paid_orders, stats.average_order_amount) == (3, 2, 2)


async def test_a_customer_without_paid_orders_has_zeros(session: AsyncSession) -> None:
    alice, nobody = await make_customer(), await make_customer()
    sku = (await listed_skus(price=3000))[0]
    await place(alice.id, (sku, 1))

    unpaid = await orders.customer_order_stats(session, customer_id=alice.id)
    empty = await orders.customer_order_stats(session, customer_id=nobody.id)

    assert (unpaid.orders, unpaid.paid_orders, unpaid.spend_amount, unpaid.average_order_amount) == (
        1,
        0,
        0,
        0,
    )
    assert unpaid.last_purchase_at is None
    assert (empty.orders, empty.paid_orders, empty.spend_amount, empty.last_purchase_at) == (0, 0, 0, None)
