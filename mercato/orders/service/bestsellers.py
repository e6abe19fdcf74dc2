"""Best sellers for the storefront's 热销 shelf: products by units sold in a recent window.

What counts is the same as in the sales figures (``reports.PAID_STATUSES``): units of paid orders
(paid, partly shipped, shipped, delivered, completed), less the units refunded; unpaid,
cancelled and closed orders never count. An order counts when it was placed inside the window
``[now - days, now)`` (``core.clock``), so the shelf follows what shoppers buy now, not a
product's lifetime total.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.orders.models import Order, OrderLine
from mercato.orders.service.reports import PAID_STATUSES

#: The window of the storefront's best-sellers shelf.
BEST_SELLER_DAYS = 30
MAX_BEST_SELLERS = 60


async def list_best_selling_product_ids(
    session: AsyncSession, *, days: int = BEST_SELLER_DAYS, limit: int = 8
) -> list[int]:
    """The ids of the products with the most units sold in paid orders placed in the last ``days``
    days, most first (ties: the newer product id first); products with no units are left out.
    One grouped query."""
    since = clock.now() - dt.timedelta(days=days)
    units = func.sum(OrderLine.quantity - OrderLine.refunded_quantity)
    rows = await session.execute(
        select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.status.in_([str(s) for s in PAID_STATUSES]), Order.placed_at >= since)
        .group_by(OrderLine.product_id)
        .having(units > 0)
        .order_by(units.desc(), OrderLine.product_id.desc())
        .limit(max(1, min(limit, MAX_BEST_SELLERS)))
    )
    return [int(product_id) for product_id in rows.scalars()]
