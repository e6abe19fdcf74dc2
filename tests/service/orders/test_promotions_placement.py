"""Placing orders with promotions and coupons: every line keeps its share of each discount, the
coupon is locked with the order (once, under concurrency) and returned on cancel, and 满赠 gifts
ship at zero price when in stock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from mercato import checkout, inventory, orders, promotions
from mercato.core import events
from mercato.core.db import uow
from mercato.orders.models import Order
from mercato.promotions.models import Coupon
from mercato.worker import register
from tests.factories.cart import listed_skus
from tests.factories.identity import SYSTEM, make_customer
from tests.factories.inventory import make_warehouse, receive, verify
from tests.factories.orders import place
from tests.factories.promotions import coupon, make_promotion, reduction


async def available(sku_id: int) -> int:
    async with uow(write=False) as s:
        return (await inventory.available_units(s, sku_ids=[sku_id]))[sku_id]


async def order_count() -> int:
    async with uow(write=False) as s:
        return (await s.execute(select(func.count()).select_from(Order))).scalar_one()


async def coupon_state(coupon_id: int) -> tuple[str, int | None]:
    async with uow(write=False) as s:
        row = (await s.execute(select(Coupon.status, Coupon.order_id).where(Coupon.id == coupon_id))).one()
    return row.status, row.order_id


async def test_each_line_stores_its_share_of_every_discount_by_name() -> None:
    customer = await make_customer()
    red, black = await listed_skus(price=10000, stock=10)
    promo = await make_promotion(reduction((20000, 3000)), name="满200减30")
    wallet = await coupon(customer.id, amount_off=1000, min_spend_amount=10000, name="十元券")

    order = await place(customer.id, (red, 2), (black, 1), coupon=wallet)

    assert (order.subtotal_amount, order.discount_amount, order.total_amount) == (30000, 4000, 26000)
    assert order.coupon_id == wallet
    assert [(a.code, a.name, a.target, a.amount) for a in order.adjustments] == [
        (f"promotion:{promo.id}", "满200减30", "lines", 3000),
        (f"coupon:{wallet}", "十元券", "lines", 1000),
    ]
    assert [[(d.code, d.amount) for d in line.discounts] for line in order.lines] == [
        [(f"promotion:{promo.id}", 2000), (f"coupon:{wallet}", 667)],
        [(f"promotion:{promo.id}", 1000), (f"coupon:{wallet}", 333)],
    ]
    assert [line.discount_amount for line in order.lines] == [2667, 1333]
    assert [line.total_amount for line in order.lines] == [17333, 8667]
    assert await coupon_state(wallet) == ("locked", order.id)


async def test_a_line_split_over_warehouses_shares_each_discount_to_the_fen() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=10000, stock=1)
    await receive(red, (await make_warehouse("W-split")).id, 2)  # neither warehouse alone has 3
    await make_promotion(reduction((20000, 1001)))

    order = await place(customer.id, (red, 3))

    assert len(order.sub_orders) == 2
    assert sorted(line.quantity for line in order.lines) == [1, 2]
    assert sum(line.discount_amount for line in order.lines) == 1001
    for line in order.lines:
        assert sum(d.amount for d in line.discounts) == line.discount_amount
        assert line.total_amount == 10000 * line.quantity - line.discount_amount


async def test_two_concurrent_placements_with_one_coupon_use_it_once() -> None:
    customer = await make_customer()
    red, black = await listed_skus(price=5000, stock=10)
    wallet = await coupon(customer.id, amount_off=500)

    async def buy(sku_id: int, key: str) -> str:
        try:
            await place(customer.id, (sku_id, 1), key=key, coupon=wallet)
        except promotions.CouponUnavailable:
            return "refused"
        return "placed"

    outcomes = await asyncio.gather(buy(red, "one"), buy(black, "two"))

    assert sorted(outcomes) == ["placed", "refused"]
    assert await order_count() == 1
    assert await available(red) + await available(black) == 19  # the refused one holds nothing
    status, order_id = await coupon_state(wallet)
    assert status == "locked"
    async with uow(write=False) as s:
        placed = await orders.read_order(s, order_id=order_id or 0)
    assert (placed.coupon_id, placed.total_amount) == (wallet, 4500)
    assert (await verify()).problems == []


async def test_a_locked_coupon_refuses_another_order_and_changes_nothing() -> None:
    customer = await make_customer()
    red, black = await listed_skus(price=5000, stock=10)
    wallet = await coupon(customer.id, amount_off=500)
    await place(customer.id, (red, 1), coupon=wallet)

    with pytest.raises(promotions.CouponUnavailable):
        await place(customer.id, (black, 1), coupon=wallet)

    assert await order_count() == 1
    assert await available(black) == 10


async def test_cancelling_the_order_returns_its_coupon() -> None:
    register()
    try:
        customer = await make_customer()
        red, _black = await listed_skus(price=5000, stock=10)
        wallet = await coupon(customer.id, amount_off=500)
        order = await place(customer.id, (red, 1))  # "best": the one coupon
        assert order.coupon_id == wallet

        async with uow() as s:
            await checkout.cancel_order(s, order_id=order.id, reason="changed my mind", actor=SYSTEM)
        await events.deliver_pending()

        assert await coupon_state(wallet) == ("unused", None)
        assert await available(red) == 10
    finally:
        events.unsubscribe_all()


async def test_a_gift_ships_at_zero_price_with_its_stock_held() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=10000, stock=10)
    gift, _other = await listed_skus(price=2000, stock=3)
    await make_promotion(
        promotions.GiftRule(threshold_amount=10000, gift_sku_id=gift, gift_quantity=1), name="满100赠"
    )

    order = await place(customer.id, (red, 1))

    assert order.total_amount == 10000
    assert order.gift_unavailable is False
    assert [(x.sku_id, x.quantity, x.unit_price_amount, x.total_amount, x.is_gift) for x in order.lines] == [
        (red, 1, 10000, 10000, False),
        (gift, 1, 0, 0, True),
    ]
    assert order.lines[1].discounts == []
    assert await available(gift) == 2
    assert (await verify()).problems == []


async def test_an_out_of_stock_gift_is_left_out_and_the_order_says_so() -> None:
    customer = await make_customer()
    red, _black = await listed_skus(price=10000, stock=10)
    gift, _other = await listed_skus(price=2000, stock=0)
    await make_promotion(promotions.GiftRule(threshold_amount=10000, gift_sku_id=gift))

    order = await place(customer.id, (red, 1))

    assert order.gift_unavailable is True
    assert [(x.sku_id, x.is_gift) for x in order.lines] == [(red, False)]
    assert await available(red) == 9
