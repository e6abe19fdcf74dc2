"""One customer's orders in figures, for the console's customer 360: orders placed, paid orders,
lifetime spend, average order value and the last purchase, in one aggregate query.

Paid orders, GMV and the average order value mean what they mean on the dashboard
(``reports.py``, CONTEXT.md): an order in ``PAID_STATUSES``, its total counted once, the average
rounded half up to the fen; only orders in the shop's currency are added up.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.settings import get_settings
from mercato.orders.models import Order
from mercato.orders.schemas import CustomerOrderStats
from mercato.orders.service.reports import PAID_STATUSES, average_order_amount


async def customer_order_stats(session: AsyncSession, *, customer_id: int) -> CustomerOrderStats:
    """The customer's order count, paid orders, spend (GMV), average order value and last purchase."""
    currency = get_settings().currency
    paid = and_(Order.status.in_([str(s) for s in PAID_STATUSES]), Order.currency == currency)
    paid_at: ColumnElement[dt.datetime] = Order.paid_at  # type: ignore[assignment]
    row = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((paid, 1), else_=0)), 0),
                func.coalesce(func.sum(case((paid, Order.total_amount), else_=0)), 0),
                func.max(case((paid, paid_at), else_=None)),
            ).where(Order.customer_id == customer_id)
        )
    ).one()
    paid_orders, spend = int(row[1]), int(row[2])
    return CustomerOrderStats(
        currency=currency,
        orders=int(row[0]),
        paid_orders=paid_orders,
        spend_amount=spend,
        average_order_amount=average_order_amount(spend, paid_orders),
        last_purchase_at=row[3],
    )
