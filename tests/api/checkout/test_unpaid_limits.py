"""Over the API, one account cannot hoard stock with unpaid orders: the refusal is a 409 problem
with a stable code and a message naming the limit, in the caller's language; nothing is placed or
held, and other shoppers still buy."""

from __future__ import annotations

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select

from mercato import inventory
from mercato.core.db import uow
from mercato.core.events import OutboxEvent
from mercato.core.settings import get_settings
from mercato.orders.models import Order
from mercato.payments.models import Payment
from tests.factories.checkout import open_shop, shopper

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}


async def rows() -> dict[str, int]:
    async with uow(write=False) as s:
        return {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Order, Payment, OutboxEvent)
        }


async def reserved(sku_id: int) -> int:
    async with uow(write=False) as s:
        [stock] = (await inventory.get_stock_levels(s, sku_ids=[sku_id]))[sku_id]
    return stock.reserved


async def buy_now(
    client: AsyncClient, auth: dict[str, str], sku_id: int, quantity: int, key: str, **headers: str
) -> Response:
    """立即购买 of ``quantity`` × 30 元 (8 元 shipping, 2 元 each further piece, free over 99 元)."""
    total = 3000 * quantity + (800 + 200 * (quantity - 1) if 3000 * quantity < 9900 else 0)
    return await client.post(
        "/api/v1/checkout/buy-now",
        json={"sku_id": sku_id, "quantity": quantity, "expected_total_amount": total},
        headers={**auth, "Idempotency-Key": key, **headers},
    )


async def test_a_fourth_unpaid_order_is_refused_with_the_limit_in_the_message(client: AsyncClient) -> None:
    red, _black = await open_shop(price=3000, stock=58)
    hoarder, _address = await shopper(client)
    other, _other_address = await shopper(client)
    placed = [await buy_now(client, hoarder, red, 1, f"hoard-{n:04d}") for n in range(3)]
    before = (await rows(), await reserved(red))

    zh = await buy_now(client, hoarder, red, 1, "hoard-0004", **ZH)
    en = await buy_now(client, hoarder, red, 1, "hoard-0005", **EN)
    after = (await rows(), await reserved(red))
    theirs = await buy_now(client, other, red, 1, "other-0001")

    assert [r.status_code for r in placed] == [200, 200, 200]
    assert (zh.status_code, zh.json()["code"], zh.json()["detail"]) == (
        409,
        "orders.unpaid_orders_limit",
        "您已有 3 个待付款订单。请先支付或取消其中一个，再提交新订单。",
    )
    assert (en.status_code, en.json()["code"], en.json()["detail"]) == (
        409,
        "orders.unpaid_orders_limit",
        "You already have 3 unpaid orders. Pay for or cancel one before placing another.",
    )
    assert after == before
    assert (before[0]["orders_order"], before[0]["payments_payment"], before[1]) == (3, 3, 3)
    assert theirs.status_code == 200, theirs.text


async def test_more_than_ten_units_of_a_sku_waiting_for_payment_is_refused(
    client: AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MERCATO_MAX_UNPAID_UNITS_PER_SKU", "10")
    get_settings.cache_clear()
    red, _black = await open_shop(price=3000, stock=58)
    hoarder, _address = await shopper(client)
    first = await buy_now(client, hoarder, red, 6, "units-0001")
    before = (await rows(), await reserved(red))

    zh = await buy_now(client, hoarder, red, 5, "units-0002", **ZH)
    en = await buy_now(client, hoarder, red, 5, "units-0003", **EN)
    after = (await rows(), await reserved(red))
    rest = await buy_now(client, hoarder, red, 4, "units-0004")

    assert first.status_code == 200, first.text
    assert (zh.status_code, zh.json()["code"]) == (409, "orders.unpaid_units_limit")
    assert zh.json()["detail"].startswith("待付款订单中同一商品最多 10 件（")
    assert (en.status_code, en.json()["code"]) == (409, "orders.unpaid_units_limit")
    assert en.json()["detail"].startswith("At most 10 of ")
    assert en.json()["detail"].endswith(
        " can wait for payment in your orders. Order fewer, or pay for or cancel an unpaid order first."
    )
    assert after == before
    assert rest.status_code == 200, rest.text
    assert await reserved(red) == 10
