"""One customer cannot hoard stock with orders they never pay: at most ``max_unpaid_orders``
unpaid orders, and ``max_unpaid_units_per_sku`` units of a SKU across them, even when their
placements arrive at the same time. A refusal changes nothing."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from mercato import checkout, inventory, orders
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.settings import get_settings
from mercato.inventory.models import Reservation
from mercato.orders.models import Order, OrderLine, OrderStatusChange
from tests.factories.cart import listed_skus
from tests.factories.catalog import SYSTEM
from tests.factories.identity import make_customer
from tests.factories.orders import place


async def available(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.available_units(s, sku_ids=[sku_id]))[sku_id]


async def rows() -> dict[str, int]:
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Order, OrderLine, OrderStatusChange, Reservation, OutboxEvent)
        }


def caps(monkeypatch: pytest.MonkeyPatch, *, orders_: int, units: int) -> None:
    monkeypatch.setenv("MERCATO_MAX_UNPAID_ORDERS", str(orders_))
    monkeypatch.setenv("MERCATO_MAX_UNPAID_UNITS_PER_SKU", str(units))
    get_settings.cache_clear()


async def test_the_defaults_are_three_orders_and_twenty_units_of_a_sku() -> None:
    settings = get_settings()

    assert (settings.max_unpaid_orders, settings.max_unpaid_units_per_sku) == (3, 20)


async def test_a_fourth_unpaid_order_is_refused_and_changes_nothing() -> None:
    hoarder, other = await make_customer(), await make_customer()
    red, _black = await listed_skus(stock=58)
    for _ in range(3):
        await place(hoarder.id, (red, 1))
    before = await rows()

    with pytest.raises(orders.UnpaidOrdersLimit) as refused:
        await place(hoarder.id, (red, 1))

    assert (refused.value.code, refused.value.params) == ("orders.unpaid_orders_limit", {"limit": 3})
    assert await rows() == before
    assert await available(red) == 55
    assert (await place(other.id, (red, 1))).status is orders.OrderStatus.pending_payment


async def test_a_paid_or_cancelled_order_makes_room_again() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=3000, stock=58)
    first, second, _third = [await place(customer.id, (red, 1)) for _ in range(3)]
    async with uow() as s:
        await checkout.cancel_order(s, order_id=first.id, reason="changed my mind", actor=SYSTEM)
    fourth = await place(customer.id, (red, 1))
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{second.id}", payment_id=1, amount=3000, currency="CNY"
        )

    fifth = await place(customer.id, (red, 1))

    with pytest.raises(orders.UnpaidOrdersLimit):
        await place(customer.id, (red, 1))
    assert (fourth.status, fifth.status) == (orders.OrderStatus.pending_payment,) * 2
    async with uow(write=False) as s:
        unpaid = (
            await s.execute(
                select(func.count())
                .select_from(Order)
                .where(Order.customer_id == customer.id, Order.status == "pending_payment")
            )
        ).scalar_one()
    assert unpaid == 3


async def test_units_of_one_sku_across_unpaid_orders_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    caps(monkeypatch, orders_=3, units=10)
    customer = await make_customer()
    red, black = await listed_skus(stock=58)
    await place(customer.id, (red, 6))
    before = await rows()

    with pytest.raises(orders.UnpaidUnitsLimit) as refused:
        await place(customer.id, (black, 1), (red, 5))

    assert refused.value.code == "orders.unpaid_units_limit"
    assert (refused.value.params["limit"], refused.value.params["sku_id"]) == (10, red)
    assert await rows() == before
    assert (await available(red), await available(black)) == (52, 58)
    await place(customer.id, (black, 10), (red, 4))  # exactly at the cap, for both SKUs
    with pytest.raises(orders.UnpaidUnitsLimit):
        await place(customer.id, (black, 1))
    assert (await available(red), await available(black)) == (48, 48)


async def test_one_order_over_the_unit_cap_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    caps(monkeypatch, orders_=3, units=10)
    customer = await make_customer()
    red, _black = await listed_skus(stock=58)

    with pytest.raises(orders.UnpaidUnitsLimit):
        await place(customer.id, (red, 11))

    assert (await rows())["orders_order"] == 0
    assert await available(red) == 58


async def test_concurrent_placements_by_one_customer_stop_at_the_order_cap() -> None:
    hoarder = await make_customer()
    red, _black = await listed_skus(stock=58)

    async def attempt(n: int) -> str:
        try:
            await place(hoarder.id, (red, 1), key=f"hoard:{n}")
        except orders.UnpaidOrdersLimit:
            return "refused"
        return "placed"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(12)))

    assert (outcomes.count("placed"), outcomes.count("refused")) == (3, 9)
    assert (await rows())["orders_order"] == 3
    assert await available(red) == 55


async def test_concurrent_placements_by_one_customer_stop_at_the_unit_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caps(monkeypatch, orders_=100, units=10)
    hoarder = await make_customer()
    red, _black = await listed_skus(stock=58)

    async def attempt(n: int) -> str:
        try:
            await place(hoarder.id, (red, 3), key=f"hoard:{n}")
        except orders.UnpaidUnitsLimit:
            return "refused"
        return "placed"

    outcomes = await asyncio.gather(*(attempt(n) for n in range(8)))

    assert (outcomes.count("placed"), outcomes.count("refused")) == (3, 5)  # 9 units; a 4th makes 12
    assert await available(red) == 49


async def test_a_retry_of_a_placed_order_is_not_refused_at_the_cap() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(stock=58)
    for n in range(3):
        await place(customer.id, (red, 1), key=f"cart:{n}")

    again = await place(customer.id, (red, 1), key="cart:2")

    assert again.status is orders.OrderStatus.pending_payment
    assert (await rows())["orders_order"] == 3


async def test_the_caps_come_from_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    caps(monkeypatch, orders_=1, units=2)
    customer = await make_customer()
    red, black = await listed_skus(stock=58)

    with pytest.raises(orders.UnpaidUnitsLimit) as too_many:
        await place(customer.id, (red, 3))
    await place(customer.id, (red, 2))
    with pytest.raises(orders.UnpaidOrdersLimit) as second:
        await place(customer.id, (black, 1))

    assert (too_many.value.params["limit"], second.value.params) == (2, {"limit": 1})
