"""The console's order page names a line's frozen spec as the product page does (颜色: 红色, and
Colour: Red on English pages), never by its code (colour: 红色)."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.factories.checkout import open_shop
from tests.factories.identity import make_customer
from tests.web.pages import EN, staff_sign_in
from tests.web.storefront.shopping import paid_order

pytestmark = pytest.mark.usefixtures("handlers")
ZH = {"Accept-Language": "zh-CN"}


async def test_the_consoles_order_lines_name_the_frozen_spec(client: AsyncClient) -> None:
    red, _black = await open_shop()
    customer = await make_customer(name="Alice")
    order = await paid_order(customer.id, red)
    await staff_sign_in(client, "ops@example.com", "orders.read")

    detail_en = await client.get(f"/admin/orders/{order.number}", headers=EN)
    detail_zh = await client.get(f"/admin/orders/{order.number}", headers=ZH)

    assert order.lines[0].spec == {"colour": "红色"}  # frozen by code at placement
    assert (detail_en.status_code, detail_zh.status_code) == (200, 200)
    assert '<br><span class="muted">Colour: Red</span>' in detail_en.text
    assert '<br><span class="muted">颜色: 红色</span>' in detail_zh.text
    assert "colour:" not in detail_en.text + detail_zh.text
