"""Sales figures for the console's dashboard: orders, GMV, paying customers and average order
value per day and over a period, in the shop's time zone.

What counts: a **paid order** is one whose money was captured and not given back in full before
shipping, i.e. an order in status ``paid``, ``partially_shipped``, ``shipped``, ``delivered`` or
``completed`` (``PAID_STATUSES``). Unpaid (``pending_payment``), ``cancelled`` and ``closed``
(paid, then refunded in full before shipping) orders do not count. An order counts on the day
its payment was captured (``paid_at``, in the shop's time zone), not the day it was placed.

- **GMV** (成交额): the sum of the paid orders' totals (goods, shipping and tax, after discounts),
  in minor units, without later partial refunds taken off.
- **Paying customers** (支付买家数): distinct customers with at least one paid order.
- **Average order value** (客单价): GMV / orders, rounded half up to a whole minor unit; 0
  without orders.

Days are bucketed in SQL with a ``CASE`` over the UTC instants at which each local day starts
(computed here with the time zone's rules, so daylight-saving days are right): portable to
SQLite and PostgreSQL, no database date functions.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.schemas import ReadModel
from mercato.core.settings import get_settings
from mercato.orders.models import Order
from mercato.orders.states import OrderStatus

#: The statuses of an order whose payment was captured and kept (see the module docstring).
PAID_STATUSES: frozenset[OrderStatus] = frozenset(
    {
        OrderStatus.paid,
        OrderStatus.partially_shipped,
        OrderStatus.shipped,
        OrderStatus.delivered,
        OrderStatus.completed,
    }
)
MAX_DAYS = 366


class SalesFigures(ReadModel):
    """Paid orders over a day or a period (amounts in minor units of ``SalesSummary.currency``)."""

    orders: int
    gmv_amount: int
    paying_customers: int
    average_order_amount: int


class SalesDay(SalesFigures):
    day: dt.date  # in the shop's time zone


class SalesSummary(ReadModel):
    """Today's figures, the period's (``days`` days ending today) and one row per day, oldest first."""

    currency: str
    timezone: str
    today: SalesDay
    period: SalesFigures
    days: int
    first_day: dt.date
    daily: list[SalesDay]


def average_order_amount(gmv_amount: int, orders: int) -> int:
    """GMV / orders rounded half up to a whole minor unit (0 without orders)."""
    if orders <= 0:
        return 0
    return (2 * gmv_amount + orders) // (2 * orders)


def _figures(orders: int, gmv_amount: int, customers: int) -> SalesFigures:
    return SalesFigures(
        orders=orders,
        gmv_amount=gmv_amount,
        paying_customers=customers,
        average_order_amount=average_order_amount(gmv_amount, orders),
    )


def _day_starts(first_day: dt.date, count: int, tz: ZoneInfo) -> list[dt.datetime]:
    """The UTC instants at which each of ``count + 1`` local days from ``first_day`` starts."""
    return [
        dt.datetime.combine(first_day + dt.timedelta(days=n), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        for n in range(count + 1)
    ]


async def sales_summary(session: AsyncSession, *, today: dt.date, days: int = 30) -> SalesSummary:
    """The dashboard's figures for ``today`` and the ``days`` days ending with it (today included),
    in the shop's time zone and currency. Two aggregate queries: per day, and over the period
    (distinct paying customers cannot be added up from the days).

    Raises:
        ValueError: ``days`` is not between 1 and 366.
    """
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    settings = get_settings()
    tz = settings.tz
    first_day = today - dt.timedelta(days=days - 1)
    starts = _day_starts(first_day, days, tz)
    paid_at: ColumnElement[dt.datetime] = Order.paid_at  # type: ignore[assignment]
    in_period = (
        Order.status.in_([str(s) for s in PAID_STATUSES]),
        Order.currency == settings.currency,
        paid_at >= starts[0],
        paid_at < starts[-1],
    )
    bucket = case(*[(paid_at < start, n) for n, start in enumerate(starts[1:])], else_=days)
    per_day = (
        await session.execute(
            select(
                bucket.label("bucket"),
                func.count(),
                func.coalesce(func.sum(Order.total_amount), 0),
                func.count(distinct(Order.customer_id)),
            )
            .where(*in_period)
            .group_by(bucket)
        )
    ).all()
    by_bucket = {int(row[0]): (int(row[1]), int(row[2]), int(row[3])) for row in per_day}
    daily = [
        SalesDay(day=first_day + dt.timedelta(days=n), **_figures(*by_bucket.get(n, (0, 0, 0))).model_dump())
        for n in range(days)
    ]
    total = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(Order.total_amount), 0),
                func.count(distinct(Order.customer_id)),
            ).where(*in_period)
        )
    ).one()
    return SalesSummary(
        currency=settings.currency,
        timezone=settings.timezone,
        today=daily[-1],
        period=_figures(int(total[0]), int(total[1]), int(total[2])),
        days=days,
        first_day=first_day,
        daily=daily,
    )
