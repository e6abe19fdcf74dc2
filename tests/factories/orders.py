"""Order factories: a customer with an address snapshot, and orders placed through the service."""

from __future__ import annotations

import itertools

import pytest

from mercato import orders
from mercato.core.db import uow
from mercato.core.settings import get_settings

_keys = itertools.count(1)

SHANGHAI = orders.AddressSnapshot(
    recipient="李雷",
    phone="13800138000",
    province="上海市",
    city="上海市",
    district="浦东新区",
    detail="世纪大道 100 号",
)


async def place(
    customer_id: int, *items: tuple[int, int], key: str | None = None, **fields: object
) -> orders.OrderRead:
    async with uow() as session:
        return await orders.place_order(
            session,
            customer_id=customer_id,
            data=orders.PlaceOrder(
                source_key=key or f"test:{next(_keys)}",
                items=[orders.OrderItem(sku_id=s, quantity=q) for s, q in items],
                address=SHANGHAI,
                **fields,  # type: ignore[arg-type]
            ),
        )


def lift_unpaid_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that set up many unpaid orders for one customer (lists, pages, a crowd of
    buyers): the caps on unpaid orders and units (``orders/limits.py``) are not what they test."""
    monkeypatch.setenv("MERCATO_MAX_UNPAID_ORDERS", "100")
    monkeypatch.setenv("MERCATO_MAX_UNPAID_UNITS_PER_SKU", "10000")
    get_settings.cache_clear()
