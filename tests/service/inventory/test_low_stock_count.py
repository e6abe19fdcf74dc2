"""count_low_stock: the dashboard's low-stock to-do counts exactly the low-stock list's rows
(available at or below safety stock, in active warehouses)."""

from __future__ import annotations

from mercato import inventory
from mercato.core.db import uow
from tests.factories.inventory import SYSTEM, make_skus, make_warehouse, receive


async def test_counts_the_rows_the_low_stock_list_shows() -> None:
    low, plenty, at_line = await make_skus(3)
    warehouse = await make_warehouse()
    closed = await make_warehouse("CLOSED")
    for sku_id in (low, plenty, at_line):
        await receive(sku_id, warehouse.id, 5)
    await receive(low, closed.id, 1)
    async with uow() as s:
        for sku_id, warehouse_id, line in (
            (low, warehouse.id, 6),
            (at_line, warehouse.id, 5),
            (low, closed.id, 9),
        ):
            await inventory.set_safety_stock(
                s,
                data=inventory.SetSafetyStock(sku_id=sku_id, warehouse_id=warehouse_id, safety_stock=line),
                actor=SYSTEM,
            )
        await inventory.update_warehouse(
            s, warehouse_id=closed.id, data=inventory.WarehouseUpdate(is_active=False), actor=SYSTEM
        )

    async with uow(write=False) as s:
        count = await inventory.count_low_stock(s)
        listed = await inventory.list_stock(s, low_only=True)

    assert count == 2
    assert sorted(row.sku_id for row in listed.items) == sorted([low, at_line])
