"""Defect 2: cart, checkout and order pages name a line's spec as the product page does (颜色: 红色,
and Colour: Red on English pages), never by its code (colour: 红色)."""

from __future__ import annotations

import pytest
from httpx import AsyncClient

from tests.web.pages import EN
from tests.web.storefront.shopping import paid_order, shopper_with_order
from tests.web.storefront.test_checkout import ready_to_check_out, review

pytestmark = pytest.mark.usefixtures("handlers")
ZH = {"Accept-Language": "zh-CN"}


async def test_the_cart_and_the_review_name_the_spec_in_the_pages_language(client: AsyncClient) -> None:
    _red, address_id = await ready_to_check_out(client)

    cart_en = await client.get("/cart", headers=EN)
    cart_zh = await client.get("/cart", headers=ZH)
    review_en = await review(client, f"address_id={address_id}&delivery=standard")

    assert '<span class="tag">Colour: Red</span>' in cart_en.text
    assert '<span class="tag">颜色: 红色</span>' in cart_zh.text
    assert "colour:" not in cart_en.text + cart_zh.text
    assert "Colour: Red" in review_en.text
    assert "colour:" not in review_en.text


async def test_the_order_pages_name_the_frozen_spec(client: AsyncClient) -> None:
    _customer, order = await shopper_with_order(client, paid_order)

    detail_en = await client.get(f"/account/orders/{order.number}", headers=EN)
    detail_zh = await client.get(f"/account/orders/{order.number}", headers=ZH)
    listed_en = await client.get("/account/orders", headers=EN)
    aftersales_en = await client.get(
        f"/account/aftersales/new?order={order.number}&line={order.lines[0].id}", headers=EN
    )

    assert order.lines[0].spec["colour"] == "红色"  # frozen by code at placement
    assert "Colour: Red" in detail_en.text
    assert "颜色: 红色" in detail_zh.text
    assert '<span class="muted">Red' in listed_en.text
    assert "Colour: Red" in aftersales_en.text
    assert "colour:" not in detail_en.text + detail_zh.text + aftersales_en.text
