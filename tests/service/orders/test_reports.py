"""The dashboard's sales figures: only paid orders count, on the day they were paid in the shop's
time zone; GMV, paying customers and the average order value (rounded half up) are exact."""

from __future__ import annotations

import datetime as dt

import pytest

from mercato import identity, orders
from mercato.core import clock
from mercato.core.db import uow
from mercato.core.settings import get_settings
from tests.factories.cart import listed_skus
from tests.factories.identity import make_customer
from tests.factories.orders import place


async def paid(order: orders.OrderRead) -> orders.OrderRead:
    async with uow() as s:
        assert await orders.mark_order_paid(
            s, reference=f"order:{order.id}", payment_id=1, amount=order.total_amount, currency=order.currency
        )
        return await orders.read_order(s, order_id=order.id)


async def summary(days: int = 30) -> orders.SalesSummary:
    today = clock.now().astimezone(get_settings().tz).date()
    async with uow(write=False) as s:
        return await orders.sales_summary(s, today=today, days=days)


def test_the_average_order_value_is_rounded_half_up() -> None:
    from mercato.orders.service.reports import average_order_amount

    assert average_order_amount(0, 0) == 0
    assert average_order_amount(10, 4) == 3  # 2.5 → 3
    assert average_order_amount(10, 3) == 3  # 3.33 → 3
    assert average_order_amount(11, 3) == 4  # 3.67 → 4
    assert average_order_amount(9900, 1) == 9900


async def test_an_empty_shop_has_thirty_days_of_zeros() -> None:
    result = await summary()

    assert result.days == 30
    assert len(result.daily) == 30
    assert result.daily[-1].day == clock.now().astimezone(get_settings().tz).date()
    assert result.first_day == result.daily[0].day == result.daily[-1].day - dt.timedelta(days=29)
    assert result.today == result.daily[-1]
    assert (result.period.orders, result.period.gmv_amount, result.period.paying_customers) == (0, 0, 0)
    assert result.currency == "CNY"


async def test_only_paid_orders_count_on_the_day_they_were_paid() -> None:
    alice, bob = await make_customer(), await make_customer()
    red, black = await listed_skus(price=3000, stock=50)
    old = await paid(await place(alice.id, (red, 1)))  # 31 days ago: outside the window
    clock.advance(dt.timedelta(days=30))
    yesterday_a = await paid(await place(alice.id, (red, 2)))
    yesterday_b = await paid(await place(bob.id, (black, 1)))
    clock.advance(dt.timedelta(days=1))
    today_a = await paid(await place(alice.id, (red, 1)))
    today_b = await paid(await place(alice.id, (black, 3)))
    await place(bob.id, (red, 5))  # not paid
    cancelled = await place(bob.id, (black, 4))
    async with uow() as s:
        await orders.cancel_order(
            s, order_id=cancelled.id, reason="test", actor=identity.Actor(staff_id=None, label="system")
        )

    result = await summary()

    today = result.today
    yesterday = result.daily[-2]
    assert today.day - yesterday.day == dt.timedelta(days=1)
    today_gmv = today_a.total_amount + today_b.total_amount
    assert (today.orders, today.gmv_amount, today.paying_customers) == (2, today_gmv, 1)
    assert today.average_order_amount == (today_gmv + 1) // 2
    yesterday_gmv = yesterday_a.total_amount + yesterday_b.total_amount
    assert (yesterday.orders, yesterday.gmv_amount, yesterday.paying_customers) == (2, yesterday_gmv, 2)
    assert [d.orders for d in result.daily[:-2]] == [0] * 28
    assert result.period == orders.SalesFigures(
        orders=4,
        gmv_amount=today_gmv + yesterday_gmv,
        paying_customers=2,
        average_order_amount=(2 * (today_gmv + yesterday_gmv) + 4) // 8,
    )
    assert old.total_amount > 0
    one_day = await summary(days=1)
    assert one_day.period.orders == 2
    assert one_day.daily == [one_day.today]


async def test_a_day_is_bucketed_in_the_shops_time_zone() -> None:
    from mercato.orders.service.reports import _day_starts

    shanghai = get_settings().tz
    starts = _day_starts(dt.date(2026, 11, 27), 1, shanghai)

    assert str(shanghai) == "Asia/Shanghai"
    assert starts == [
        dt.datetime(2026, 11, 26, 16, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 27, 16, 0, tzinfo=dt.UTC),
    ]


async def test_the_number_of_days_is_bounded() -> None:
    async with uow(write=False) as s:
        with pytest.raises(ValueError, match="days must be between 1 and 366"):
            await orders.sales_summary(s, today=dt.date(2026, 11, 27), days=0)
