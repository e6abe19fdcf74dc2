"""Holds from reserve to ship, cancel or expiry; every step in the ledger; read model follows."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mercato import inventory
from mercato.catalog.models import Product, Sku
from mercato.core import clock, events
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.inventory.models import LedgerEntry
from mercato.worker import register
from tests.factories.inventory import SYSTEM, level, make_skus, make_warehouse, receive, verify


async def ledger(sku_id: int) -> list[tuple[str, int, int, int, int]]:
    async with uow(write=False) as s:
        rows = await s.execute(
            select(
                LedgerEntry.kind,
                LedgerEntry.on_hand_delta,
                LedgerEntry.reserved_delta,
                LedgerEntry.on_hand_after,
                LedgerEntry.reserved_after,
            )
            .where(LedgerEntry.sku_id == sku_id)
            .order_by(LedgerEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


async def reserve(reference: str, sku_id: int, warehouse_id: int, quantity: int) -> inventory.ReservationRead:
    async with uow() as s:
        return await inventory.reserve_stock(
            s, reference=reference, sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity
        )


async def test_reserve_then_ship_moves_on_hand_and_reserved_together() -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 10)

    hold = await reserve("order:1", sku, wh.id, 4)
    async with uow() as s:
        shipped = await inventory.consume_reservations(s, reference="order:1")
    async with uow() as s:
        again = await inventory.consume_reservations(s, reference="order:1")

    assert hold.status is inventory.ReservationStatus.active
    assert [r.status for r in shipped] == [inventory.ReservationStatus.consumed]
    assert again == []
    stock = await level(sku, wh.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (6, 0, 6)
    assert await ledger(sku) == [("receipt", 10, 0, 10, 0), ("reserve", 0, 4, 10, 4), ("ship", -4, -4, 6, 0)]
    assert (await verify()).problems == []


async def test_release_gives_units_back_once_and_a_released_hold_cannot_ship() -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 5)
    await reserve("order:1", sku, wh.id, 5)

    async with uow() as s:
        released = await inventory.release_reservations(s, reference="order:1", reason="cancelled")
    async with uow() as s:
        repeat = await inventory.release_reservations(s, reference="order:1")
        shipped = await inventory.consume_reservations(s, reference="order:1")

    assert [r.status for r in released] == [inventory.ReservationStatus.released]
    assert (repeat, shipped) == ([], [])
    stock = await level(sku, wh.id)
    assert (stock.on_hand, stock.reserved) == (5, 0)
    assert [row[0] for row in await ledger(sku)] == ["receipt", "reserve", "release"]


async def test_a_retried_reservation_returns_the_same_hold() -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 5)

    first = await reserve("order:1", sku, wh.id, 2)
    second = await reserve("order:1", sku, wh.id, 2)

    assert first.id == second.id
    assert (await level(sku, wh.id)).reserved == 2


async def test_holds_expire_after_their_time_and_only_those() -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 10)
    async with uow() as s:
        await inventory.reserve_stock(
            s,
            reference="order:old",
            sku_id=sku,
            warehouse_id=wh.id,
            quantity=3,
            hold_for=dt.timedelta(minutes=5),
        )
        await inventory.reserve_stock(
            s,
            reference="order:new",
            sku_id=sku,
            warehouse_id=wh.id,
            quantity=2,
            hold_for=dt.timedelta(minutes=60),
        )
    clock.advance(dt.timedelta(minutes=6))

    async with uow() as s:
        expired = await inventory.expire_reservations(s)
    async with uow() as s:
        expired_again = await inventory.expire_reservations(s)

    assert (expired, expired_again) == (1, 0)
    async with uow(write=False) as s:
        old = await inventory.list_reservations(s, reference="order:old")
        new = await inventory.list_reservations(s, reference="order:new")
    assert [r.status for r in old + new] == [
        inventory.ReservationStatus.expired,
        inventory.ReservationStatus.active,
    ]
    stock = await level(sku, wh.id)
    assert (stock.reserved, stock.available) == (2, 8)
    assert (await verify()).problems == []


async def test_reserving_several_lines_is_all_or_nothing() -> None:
    sku_a, sku_b = await make_skus(2)
    wh = await make_warehouse()
    await receive(sku_a, wh.id, 5)
    await receive(sku_b, wh.id, 1)

    with pytest.raises(inventory.InsufficientStock):
        async with uow() as s:
            await inventory.reserve_allocations(
                s,
                reference="order:1",
                allocations=[
                    inventory.Allocation(sku_id=sku_a, warehouse_id=wh.id, quantity=2),
                    inventory.Allocation(sku_id=sku_b, warehouse_id=wh.id, quantity=2),
                ],
            )

    assert ((await level(sku_a, wh.id)).reserved, (await level(sku_b, wh.id)).reserved) == (0, 0)
    async with uow(write=False) as s:
        assert await inventory.list_reservations(s, reference="order:1") == []
    assert [row[0] for row in await ledger(sku_a)] == ["receipt"]


async def test_the_catalog_read_model_follows_stock_through_the_outbox() -> None:
    register()
    try:
        sku_a, sku_b = await make_skus(2)
        wh = await make_warehouse()
        await receive(sku_a, wh.id, 3)
        await events.deliver_pending()
        async with uow(write=False) as s:
            product_id = (await s.get(Sku, sku_a)).product_id  # type: ignore[union-attr]
            in_stock = (await s.get(Product, product_id)).in_stock  # type: ignore[union-attr]
            available = (await s.get(Sku, sku_a)).available_quantity  # type: ignore[union-attr]
        assert (in_stock, available) == (True, 3)

        await reserve("order:1", sku_a, wh.id, 3)
        await events.deliver_pending()

        async with uow(write=False) as s:
            sku_row = await s.execute(
                select(Sku.available_quantity, Product.in_stock)
                .join(Product, Product.id == Sku.product_id)
                .where(Sku.id == sku_a)
                .execution_options(populate_existing=True)
            )
            assert tuple(sku_row.one()) == (0, False)
    finally:
        events.unsubscribe_all()


async def test_low_stock_is_announced_when_available_crosses_the_safety_line() -> None:
    (sku,) = await make_skus()
    wh = await make_warehouse()
    await receive(sku, wh.id, 10)
    async with uow() as s:
        await inventory.set_safety_stock(
            s,
            data=inventory.SetSafetyStock(sku_id=sku, warehouse_id=wh.id, safety_stock=3),
            actor=SYSTEM,
        )

    await reserve("order:1", sku, wh.id, 6)
    await reserve("order:2", sku, wh.id, 1)
    await reserve("order:3", sku, wh.id, 1)

    async with uow(write=False) as s:
        lows = (
            (
                await s.execute(
                    select(OutboxEvent.payload).where(OutboxEvent.name == "inventory.stock_ran_low.v1")
                )
            )
            .scalars()
            .all()
        )
        low_list = await inventory.list_stock(s, low_only=True)
    assert lows == [{"sku_id": sku, "warehouse_id": wh.id, "available": 3, "safety_stock": 3}]
    assert [(x.sku_id, x.available, x.is_low) for x in low_list.items] == [(sku, 2, True)]
