"""Staff find orders by number prefix, SKU code, title words, SKU, delivery and placing time."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from httpx import AsyncClient

from mercato import pricing
from mercato.core import clock
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer, make_staff, staff_headers
from tests.factories.orders import place


async def found(client: AsyncClient, headers: dict[str, str], **query: object) -> list[int]:
    response = await client.get(f"/api/v1/admin/orders?{urlencode(query)}", headers=headers)
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["items"]]


async def test_staff_filter_and_search_orders(client: AsyncClient) -> None:
    customer = await make_customer()
    red, black = await listed_skus(stock=20)
    other, _ = await listed_skus(stock=20)
    # start at the next midnight (UTC, the date in an order number), so the two orders two hours
    # apart share a day whatever time the suite runs
    now = clock.now()
    clock.advance(now.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1) - now)
    first = await place(customer.id, (red, 1))
    clock.advance(dt.timedelta(hours=2))
    second = await place(customer.id, (black, 1), (other, 1), delivery=pricing.Delivery.express)
    staff = await staff_headers((await make_staff(permissions=["orders.read"])).id)
    red_line = first.lines[0]
    other_line = next(x for x in second.lines if x.sku_id == other)
    between = (first.placed_at + dt.timedelta(hours=1)).isoformat()

    assert await found(client, staff) == [second.id, first.id]
    assert await found(client, staff, q=first.number) == [first.id]
    assert await found(client, staff, q=first.number[:8]) == [second.id, first.id]  # the day's orders
    assert await found(client, staff, q=red_line.sku_code) == [first.id]
    assert other_line.title == red_line.title == "纯棉圆领T恤"
    assert await found(client, staff, q="圆领t恤") == [second.id, first.id]  # words of a title, any case
    assert await found(client, staff, q="衬衫") == []
    assert await found(client, staff, sku_id=black) == [second.id]
    assert await found(client, staff, delivery="express") == [second.id]
    assert await found(client, staff, placed_from=between) == [second.id]
    assert await found(client, staff, placed_before=between) == [first.id]
    assert await found(client, staff, q="100%_") == []  # wildcards are matched literally


@pytest.mark.parametrize(
    "query",
    [
        "placed_from=yesterday",
        "placed_from=2026-11-27T10:00:00",
        "delivery=teleport",
        "sku_id=0",
        "q=" + "x" * 101,
    ],
)
async def test_bad_filters_are_422(client: AsyncClient, query: str) -> None:
    staff = await staff_headers((await make_staff(permissions=["orders.read"])).id)

    response = await client.get(f"/api/v1/admin/orders?{query}", headers=staff)

    assert (response.status_code, response.json()["code"]) == (422, "core.validation_failed")
