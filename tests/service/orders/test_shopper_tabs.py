"""The shopper's order tabs: counts per status (every status present) and the list in a group of
statuses, newest first, paged, only the customer's own."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from mercato import orders
from mercato.core.db import get_database, uow
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import lift_unpaid_limits, place

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


async def test_counts_everyones_orders_without_a_customer() -> None:
    alice, bob = await make_customer(), await make_customer()
    red, _black = await listed_skus(price=3000, stock=20)
    await place(alice.id, (red, 1))
    await paid(await place(alice.id, (red, 1)))
    await paid(await place(bob.id, (red, 1)))

    async with uow(write=False) as s:
        counts = await orders.count_orders_by_status(s, customer_id=None)
        listed = await orders.list_orders(s, status="paid")

    assert counts == {**dict.fromkeys(S, 0), S.pending_payment: 1, S.paid: 2}
    assert len(listed.items) == counts[S.paid]


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


async def test_each_order_comes_with_its_lines_preview_and_totals_in_two_queries(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lift_unpaid_limits(monkeypatch)
    alice = await make_customer()
    red, black = await listed_skus(price=3000, stock=20)
    one = await place(alice.id, (red, 2))
    two = await place(alice.id, (red, 1), (black, 3))
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    async def listed() -> tuple[list[orders.OrderCard], int]:
        statements.clear()
        engine = get_database().engine.sync_engine
        event.listen(engine, "before_cursor_execute", count)
        try:
            async with uow(write=False) as s:
                page = await orders.list_customer_orders(s, customer_id=alice.id)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return page.items, len(statements)

    first, queries_for_two = await listed()
    for _ in range(3):
        await place(alice.id, (black, 1))
    more, queries_for_five = await listed()

    def card(order: orders.OrderRead) -> orders.OrderCard:
        return orders.OrderCard(
            **order.model_dump(include=set(orders.OrderCard.model_fields) - {"lines"}),
            lines=[
                orders.OrderLinePreview(
                    id=line.id,
                    sku_id=line.sku_id,
                    title=line.title,
                    spec=line.spec,
                    image_url=line.image_url,
                    quantity=line.quantity,
                )
                for line in order.lines
            ],
        )

    assert first == [card(two), card(one)]
    assert [[line.quantity for line in o.lines] for o in first] == [[1, 3], [2]]
    assert (first[0].total_amount, first[0].subtotal_amount) == (two.total_amount, 12000)
    assert len(more) == 5
    assert more[3:] == first
    assert queries_for_two == queries_for_five == 2


async def test_an_empty_page_lists_nothing() -> None:
    alice = await make_customer()
    async with uow(write=False) as s:
        page = await orders.list_customer_orders(s, customer_id=alice.id)
    assert (page.items, page.next_cursor) == ([], None)
