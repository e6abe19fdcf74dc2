"""The shopper's view of their orders: how many are in each status (the tabs of "my orders"),
and their orders in a group of statuses (待收货 is partly shipped or shipped), newest first, each
with what its card shows (lines' preview and totals) in two queries for the whole page."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.orders.models import Order, OrderLine
from mercato.orders.schemas import OrderCard, OrderLinePreview
from mercato.orders.states import OrderStatus

#: What an order card takes from the order's row (its lines come from their own query).
_CARD_COLUMNS = tuple(name for name in OrderCard.model_fields if name != "lines")


async def count_orders_by_status(session: AsyncSession, *, customer_id: int | None) -> dict[OrderStatus, int]:
    """How many of the customer's orders (None: everyone's, the console's to-dos) are in each
    status (every status present, 0 if none)."""
    stmt = select(Order.status, func.count()).group_by(Order.status)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    rows = await session.execute(stmt)
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
) -> Page[OrderCard]:
    """The customer's orders newest first, in any of ``statuses`` (all when empty), each with its
    lines' preview (title, spec, image, quantity) and totals: two queries whatever the page size.

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
    shown = rows[:size]
    lines: dict[int, list[OrderLinePreview]] = {row.id: [] for row in shown}
    if shown:
        found = await session.execute(
            select(OrderLine.order_id, *(getattr(OrderLine, name) for name in OrderLinePreview.model_fields))
            .where(OrderLine.order_id.in_(list(lines)))
            .order_by(OrderLine.order_id, OrderLine.id)
        )
        for line in found:
            lines[line.order_id].append(OrderLinePreview.model_validate(line))
    items = [
        OrderCard.model_validate(
            {**{name: getattr(row, name) for name in _CARD_COLUMNS}, "lines": lines[row.id]}
        )
        for row in shown
    ]
    return Page[OrderCard](items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None)
