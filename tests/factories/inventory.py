"""Inventory factories: SKUs (minimal catalog rows), warehouses and stock, through real services."""

from __future__ import annotations

import itertools

from mercato import identity, inventory
from mercato.catalog.models import Category, Product, ProductType, Sku
from mercato.core import clock
from mercato.core.db import uow

SYSTEM = identity.Actor(staff_id=None, label="tests")
_numbers = itertools.count(1)


async def make_skus(count: int = 1) -> list[int]:
    """``count`` SKUs of one new product (rows written directly: the catalog is not under test)."""
    n = next(_numbers)
    now = clock.now()
    async with uow() as s:
        category = Category(name=f"类目{n}", slug=f"c-{n}", path="/", created_at=now, updated_at=now)
        product_type = ProductType(name=f"type {n}", created_at=now)
        s.add_all([category, product_type])
        await s.flush()
        category.path = f"/{category.id}/"
        product = Product(
            product_type_id=product_type.id,
            category_id=category.id,
            slug=f"p-{n}",
            title=f"商品{n}",
            currency="CNY",
            created_at=now,
            updated_at=now,
        )
        s.add(product)
        await s.flush()
        skus = [
            Sku(
                product_id=product.id,
                code=f"SKU-{n}-{i}",
                spec_key=f"size={i}",
                spec={"size": str(i)},
                currency="CNY",
                price_amount=1000,
                created_at=now,
                updated_at=now,
            )
            for i in range(count)
        ]
        s.add_all(skus)
        await s.flush()
        return [sku.id for sku in skus]


async def make_warehouse(
    code: str = "SH-1",
    *,
    kind: inventory.WarehouseKind = inventory.WarehouseKind.regional,
    regions: list[str] | None = None,
    priority: int = 100,
    cost_amount: int = 0,
) -> inventory.WarehouseRead:
    async with uow() as s:
        return await inventory.create_warehouse(
            s,
            data=inventory.WarehouseWrite(
                code=code,
                name=f"仓库 {code}",
                kind=kind,
                province="上海市",
                city="上海市",
                regions=regions or ["*"],
                priority=priority,
                cost_amount=cost_amount,
            ),
            actor=SYSTEM,
        )


async def receive(sku_id: int, warehouse_id: int, quantity: int) -> inventory.StockRead:
    async with uow() as s:
        return await inventory.receive_stock(
            s,
            data=inventory.ReceiveStock(sku_id=sku_id, warehouse_id=warehouse_id, quantity=quantity),
            actor=SYSTEM,
        )


async def level(sku_id: int, warehouse_id: int) -> inventory.StockRead:
    async with uow(write=False) as s:
        levels = await inventory.get_stock_levels(s, sku_ids=[sku_id])
    return next(x for x in levels[sku_id] if x.warehouse_id == warehouse_id)


async def verify() -> inventory.VerifyReport:
    async with uow(write=False) as s:
        return await inventory.verify_stock(s)
