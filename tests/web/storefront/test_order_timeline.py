"""The order history on the shopper's order page: a one-warehouse order shows "Shipped" and
"Delivered" once each."""

from __future__ import annotations

import re

import pytest
from httpx import AsyncClient

from tests.web.pages import EN
from tests.web.storefront.shopping import delivered_order, shopper_with_order

pytestmark = pytest.mark.usefixtures("handlers")


async def test_a_one_warehouse_orders_history_shows_each_step_once(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, delivered_order)

    page = await client.get(f"/account/orders/{order.number}", headers=EN)

    assert page.status_code == 200
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page.text, re.DOTALL)
    assert timeline is not None
    steps = re.findall(r"</time>\s*<span>([^<]*)</span>", timeline.group(1))
    assert steps == ["Delivered", "Shipped", "To be shipped", "Order placed"]
    assert "one part" not in timeline.group(1)
