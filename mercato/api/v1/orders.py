"""Orders: customers read and cancel their own; staff list, search and cancel all.

Placing orders goes through checkout (the next step of the trade core); these routes read and
act on orders that exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from pydantic import AwareDatetime

from mercato import checkout, identity, orders, pricing
from mercato.api.deps import CurrentCustomer, DbSession, StaffAuth, require
from mercato.api.v1 import PREFIX
from mercato.core.pagination import InvalidCursor, Page
from mercato.web.openapi import raises

router = APIRouter(prefix=PREFIX, tags=["orders"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int | None, Query(ge=1, le=100, description="Page size (default 20)")]
# Not length-capped here: decode_cursor refuses a long or malformed cursor with a 400.
Cursor = Annotated[str | None, Query(description="next_cursor of the previous page")]
Reader = Annotated[StaffAuth, Depends(require("orders.read"))]
Writer = Annotated[StaffAuth, Depends(require("orders.write"))]


@router.get("/orders")
@raises(InvalidCursor)
async def list_my_orders(
    auth: CurrentCustomer,
    session: DbSession,
    status: orders.OrderStatus | None = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[orders.OrderSummary]:
    """The signed-in customer's orders, newest first."""
    return await orders.list_orders(
        session, customer_id=auth.customer.id, status=status, cursor=cursor, limit=limit
    )


@router.get("/orders/{order_id}")
@raises(orders.OrderNotFound)
async def get_my_order(order_id: Id, auth: CurrentCustomer, session: DbSession) -> orders.OrderRead:
    """One of the customer's orders (another customer's is 404)."""
    return await orders.read_order(session, order_id=order_id, customer_id=auth.customer.id)


@router.post("/orders/{order_id}/cancel")
@raises(orders.OrderNotFound, orders.CannotCancel)
async def cancel_my_order(
    order_id: Id, data: orders.CancelOrder, auth: CurrentCustomer, session: DbSession
) -> orders.OrderRead:
    """Cancel an unpaid order; its stock is released and its payment closed at once."""
    await checkout.cancel_order(
        session,
        order_id=order_id,
        reason=data.reason,
        actor=identity.Actor(staff_id=None, label=f"customer:{auth.customer.id}"),
        customer_id=auth.customer.id,
    )
    return await orders.read_order(session, order_id=order_id, customer_id=auth.customer.id)


@router.get("/admin/orders")
@raises(InvalidCursor)
async def list_orders(
    auth: Reader,
    session: DbSession,
    status: orders.OrderStatus | None = None,
    number: Annotated[str | None, Query(max_length=32, description="Exact order number")] = None,
    customer_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    delivery: pricing.Delivery | None = None,
    placed_from: Annotated[AwareDatetime | None, Query(description="Placed at or after (ISO 8601)")] = None,
    placed_before: Annotated[AwareDatetime | None, Query(description="Placed before (ISO 8601)")] = None,
    sku_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, description="Order number prefix, exact SKU code, or words of a product title"),
    ] = None,
    cursor: Cursor = None,
    limit: Limit = None,
) -> Page[orders.OrderSummary]:
    """All orders, newest first, filtered by status, number, customer, delivery, date, SKU, or a
    search term."""
    return await orders.list_orders(
        session,
        customer_id=customer_id,
        status=status,
        number=number,
        delivery=delivery,
        placed_from=placed_from,
        placed_before=placed_before,
        sku_id=sku_id,
        search=q,
        cursor=cursor,
        limit=limit,
    )


@router.get("/admin/orders/{order_id}")
@raises(orders.OrderNotFound)
async def get_order(order_id: Id, auth: Reader, session: DbSession) -> orders.OrderRead:
    return await orders.read_order(session, order_id=order_id)


@router.post("/admin/orders/{order_id}/cancel")
@raises(orders.OrderNotFound, orders.CannotCancel)
async def cancel_order(
    order_id: Id, data: orders.CancelOrder, auth: Writer, session: DbSession
) -> orders.OrderRead:
    """Cancel an unpaid order with a reason (recorded in its history and the audit log); its
    payment is closed in the same transaction."""
    await checkout.cancel_order(session, order_id=order_id, reason=data.reason, actor=auth.actor)
    return await orders.read_order(session, order_id=order_id)
