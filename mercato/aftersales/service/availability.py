"""What the shopper's pages say before and during a request: when after-sales is possible for
each part of an order (the order page's 申请售后 says "once delivered" or when the window closed
instead of leading to a refusal), and where an approved return goes back to.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import inventory, orders, shop
from mercato.aftersales.schemas import AftersalesKind, AftersalesWindow, ReturnAddress
from mercato.aftersales.service.common import load
from mercato.aftersales.service.requests import _check_where_the_line_is
from mercato.aftersales.states import AftersalesStatus
from mercato.core.errors import DomainError

#: The kinds whose goods come back to the shop.
GOODS_COME_BACK = frozenset({AftersalesKind.return_refund, AftersalesKind.exchange})


async def aftersales_windows(
    session: AsyncSession, *, order: orders.OrderRead
) -> dict[int, AftersalesWindow]:
    """For each sub-order of ``order``, whether a request is possible now (the same rule a new
    request meets: refund only before shipment, anything within the window after delivery)."""
    window_days = (await shop.get_settings(session)).aftersales_window_days
    windows: dict[int, AftersalesWindow] = {}
    for sub_order in order.sub_orders:
        delivered_at = sub_order.delivered_at or order.delivered_at
        closes_at = delivered_at + dt.timedelta(days=window_days) if delivered_at else None
        try:
            _check_where_the_line_is(order, sub_order, AftersalesKind.refund_only, window_days=window_days)
        except DomainError as exc:
            windows[sub_order.id] = AftersalesWindow(
                sub_order_id=sub_order.id, open=False, reason=exc.code, closes_at=closes_at
            )
            continue
        windows[sub_order.id] = AftersalesWindow(
            sub_order_id=sub_order.id, open=True, reason="", closes_at=closes_at
        )
    return windows


async def get_return_address(
    session: AsyncSession, *, request_id: int, customer_id: int
) -> ReturnAddress | None:
    """Where the customer sends back the goods of their request: the warehouse the line shipped
    from, once the request is approved for a return or an exchange (None before, after the goods
    are on their way back, or for a refund only).

    Raises:
        RequestNotFound (404): none, or another customer's.
    """
    row = await load(session, request_id, customer_id=customer_id)
    if (
        AftersalesStatus(row.status) is not AftersalesStatus.approved
        or AftersalesKind(row.kind) not in GOODS_COME_BACK
    ):
        return None
    try:
        warehouse = await inventory.get_warehouse(session, warehouse_id=row.warehouse_id)
    except inventory.WarehouseNotFound:
        return None
    return ReturnAddress(
        warehouse_name=warehouse.name,
        province=warehouse.province,
        city=warehouse.city,
        district=warehouse.district,
        detail=warehouse.detail,
        phone=(await shop.get_settings(session)).service_phone,
    )
