"""The shopper's order tabs: counts per status (every status present) and the list in a group of
statuses, newest first, paged, only the customer's own."""

from __future__ import annotations

from mercato import orders
from mercato.core.db import uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place

S = orders.OrderStatus


async def paid(order: orders.OrderRead) -> orders.OrderRead:
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=1, amount=order.total_amount, currency=order.currency
        )
        return await orders.read_order(s, order_id=order.id)


async def test_counts_every_status_of_the_customers_orders_only() -> None:
    alice, bob = await make_customer(), await make_customer()
    red, _black = await listed_skus(price=3000, stock=20)
    await place(alice.id, (red, 1))
    await place(alice.id, (red, 1))
    await paid(await place(alice.id, (red, 1)))
    await place(bob.id, (red, 1))

    async with uow(write=False) as s:
        counts = await orders.count_orders_by_status(s, customer_id=alice.id)
        nothing = await orders.count_orders_by_status(s, customer_id=bob.id + 1000)

    assert counts == {**dict.fromkeys(S, 0), S.pending_payment: 2, S.paid: 1}
    assert nothing == dict.fromkeys(S, 0)


async def test_lists_a_group_of_statuses_newest_first_in_pages() -> None:
    alice, bob = await make_customer(), await make_customer()
    red, _black = await listed_skus(price=3000, stock=20)
    a = await place(alice.id, (red, 1))
    b = await paid(await place(alice.id, (red, 1)))
    c = await place(alice.id, (red, 1))
    await place(bob.id, (red, 1))

    async with uow(write=False) as s:
        first = await orders.list_customer_orders(
            s, customer_id=alice.id, statuses=(S.pending_payment, S.paid), limit=2
        )
        second = await orders.list_customer_orders(
            s, customer_id=alice.id, statuses=(S.pending_payment, S.paid), cursor=first.next_cursor, limit=2
        )
        to_ship = await orders.list_customer_orders(s, customer_id=alice.id, statuses=(S.paid,))
        every = await orders.list_customer_orders(s, customer_id=alice.id)

    assert [o.id for o in first.items] == [c.id, b.id]
    assert first.next_cursor is not None
    assert ([o.id for o in second.items], second.next_cursor) == ([a.id], None)
    assert [o.id for o in to_ship.items] == [b.id]
    assert [o.id for o in every.items] == [c.id, b.id, a.id]
