"""The shopper's view of their orders: how many are in each status (the tabs of "my orders"),
and their orders in a group of statuses (待收货 is partly shipped or shipped), newest first."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.orders.models import Order
from mercato.orders.schemas import OrderSummary
from mercato.orders.states import OrderStatus


async def count_orders_by_status(session: AsyncSession, *, customer_id: int) -> dict[OrderStatus, int]:
    """How many of the customer's orders are in each status (every status present, 0 if none)."""
    rows = await session.execute(
        select(Order.status, func.count()).where(Order.customer_id == customer_id).group_by(Order.status)
    )
    counts = dict.fromkeys(OrderStatus, 0)
    for status, count in rows:
        counts[OrderStatus(status)] = int(count)
    return counts


async def list_customer_orders(
    session: AsyncSession,
    *,
    customer_id: int,
    statuses: Collection[OrderStatus] = (),
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[OrderSummary]:
    """The customer's orders newest first, in any of ``statuses`` (all when empty).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Order.id < after)
    if statuses:
        stmt = stmt.where(Order.status.in_([str(s) for s in statuses]))
    rows = list((await session.execute(stmt)).scalars())
    items = [OrderSummary.model_validate(row) for row in rows[:size]]
    return Page[OrderSummary](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )
