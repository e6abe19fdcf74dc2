"""No oversell under concurrency: many buyers at once against a few units, on the real database."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from mercato import inventory
from mercato.core.db import uow
from mercato.inventory.models import LedgerEntry, Reservation
from tests.factories.inventory import level, make_skus, make_warehouse, receive, verify


async def try_reserve(sku_id: int, warehouse_id: int, buyer: int) -> str:
    try:
        async with uow() as s:
            await inventory.reserve_stock(
                s, reference=f"order:{buyer}", sku_id=sku_id, warehouse_id=warehouse_id, quantity=1
            )
    except inventory.InsufficientStock:
        return "sold out"
    return "reserved"


async def test_200_concurrent_buyers_get_exactly_the_50_units() -> None:
    (sku_id,) = await make_skus()
    warehouse = await make_warehouse()
    await receive(sku_id, warehouse.id, 50)

    outcomes = await asyncio.gather(*(try_reserve(sku_id, warehouse.id, buyer) for buyer in range(200)))

    assert outcomes.count("reserved") == 50
    assert outcomes.count("sold out") == 150
    stock = await level(sku_id, warehouse.id)
    assert (stock.on_hand, stock.reserved, stock.available) == (50, 50, 0)
    async with uow(write=False) as s:
        holds = (await s.execute(select(func.count()).select_from(Reservation))).scalar_one()
        reserve_entries = (
            await s.execute(select(func.count()).where(LedgerEntry.kind == "reserve"))
        ).scalar_one()
    assert (holds, reserve_entries) == (50, 50)
    assert (await verify()).problems == []


async def test_concurrent_multi_unit_orders_never_take_more_than_there_is() -> None:
    (sku_id,) = await make_skus()
    warehouse = await make_warehouse()
    await receive(sku_id, warehouse.id, 10)

    async def buy(buyer: int) -> int:
        try:
            async with uow() as s:
                await inventory.reserve_stock(
                    s, reference=f"order:{buyer}", sku_id=sku_id, warehouse_id=warehouse.id, quantity=3
                )
        except inventory.InsufficientStock:
            return 0
        return 3

    taken = await asyncio.gather(*(buy(buyer) for buyer in range(20)))

    assert sum(taken) == 9  # three orders of 3; the fourth would need 12
    stock = await level(sku_id, warehouse.id)
    assert (stock.reserved, stock.available) == (9, 1)
    assert (await verify()).problems == []


async def test_the_same_reference_reserved_concurrently_holds_units_once() -> None:
    (sku_id,) = await make_skus()
    warehouse = await make_warehouse()
    await receive(sku_id, warehouse.id, 10)

    async def retry() -> str:
        try:
            async with uow() as s:
                await inventory.reserve_stock(
                    s, reference="order:1", sku_id=sku_id, warehouse_id=warehouse.id, quantity=4
                )
        except inventory.ReservationRace:
            return "race"
        return "ok"

    results = await asyncio.gather(*(retry() for _ in range(10)))

    assert "ok" in results
    assert set(results) <= {"ok", "race"}
    stock = await level(sku_id, warehouse.id)
    assert (stock.reserved, stock.available) == (4, 6)
    assert (await verify()).problems == []
