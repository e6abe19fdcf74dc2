"""Reading orders: the whole order for its customer or staff, and lists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, exists, false, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.pagination import Page, clamp_limit, encode_cursor, id_cursor
from mercato.core.schemas import STORED_VALUES
from mercato.orders.errors import OrderNotFound
from mercato.orders.models import Order, OrderLine, OrderStatusChange, SubOrder
from mercato.orders.schemas import (
    AddressSnapshot,
    BuyerSearch,
    DeliverySlot,
    InvoiceRequest,
    OrderLineRead,
    OrderRead,
    OrderSummary,
    StatusChangeRead,
    SubOrderRead,
)
from mercato.orders.service.actions import SYSTEM
from mercato.orders.service.notes import recognise
from mercato.orders.states import OrderStatus
from mercato.pricing import Delivery
from mercato.promotions import AppliedDiscount


async def read_order(session: AsyncSession, *, order_id: int, customer_id: int | None = None) -> OrderRead:
    """The order with its sub-orders, lines and history.

    ``customer_id`` scopes the read to that customer's orders (another's is "not found").

    Raises:
        OrderNotFound.
    """
    stmt = select(Order).where(Order.id == order_id).execution_options(populate_existing=True)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    order = (await session.execute(stmt)).scalar_one_or_none()
    if order is None:
        raise OrderNotFound()
    subs = (
        await session.execute(select(SubOrder).where(SubOrder.order_id == order_id).order_by(SubOrder.id))
    ).scalars()
    lines = (
        await session.execute(select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.id))
    ).scalars()
    history = (
        await session.execute(
            select(OrderStatusChange)
            .where(OrderStatusChange.order_id == order_id)
            .order_by(OrderStatusChange.id)
        )
    ).scalars()
    return OrderRead(
        id=order.id,
        number=order.number,
        customer_id=order.customer_id,
        status=OrderStatus(order.status),
        currency=order.currency,
        total_amount=order.total_amount,
        placed_at=order.placed_at,
        pay_by=order.pay_by,
        paid_at=order.paid_at,
        subtotal_amount=order.subtotal_amount,
        discount_amount=order.discount_amount,
        shipping_amount=order.shipping_amount,
        tax_amount=order.tax_amount,
        address=AddressSnapshot.model_validate(order.address),
        delivery=Delivery(order.delivery),
        slot=DeliverySlot(starts_at=order.slot_starts_at, ends_at=order.slot_ends_at)
        if order.slot_starts_at is not None and order.slot_ends_at is not None
        else None,
        pickup_store_id=order.pickup_store_id,
        invoice=(
            InvoiceRequest.model_validate(order.invoice, context=STORED_VALUES) if order.invoice else None
        ),
        note=order.note,
        payment_id=order.payment_id,
        shipped_at=order.shipped_at,
        delivered_at=order.delivered_at,
        closed_at=order.closed_at,
        adjustments=[AppliedDiscount.model_validate(a) for a in order.adjustments],
        coupon_id=order.coupon_id,
        gift_unavailable=order.gift_unavailable,
        deal=order.deal,
        ship_hold=order.ship_hold,
        sub_orders=[SubOrderRead.model_validate(s) for s in subs],
        lines=[OrderLineRead.model_validate(line) for line in lines],
        history=[_step(h) for h in history],
    )


def _step(change: OrderStatusChange) -> StatusChangeRead:
    """A timeline step, its reason recognised unless a person typed it (a cancellation by the
    shopper or staff; the system cancels only unpaid orders, "not paid in time")."""
    typed = change.to_status == OrderStatus.cancelled and change.actor_label != SYSTEM.label
    note, details = recognise(change.reason, typed=typed)
    return StatusChangeRead(
        sub_order_id=change.sub_order_id,
        from_status=change.from_status,
        to_status=change.to_status,
        actor_label=change.actor_label,
        reason=change.reason,
        note=note,
        details=details,
        created_at=change.created_at,
    )


async def list_orders(
    session: AsyncSession,
    *,
    customer_id: int | None = None,
    status: str | None = None,
    number: str | None = None,
    delivery: Delivery | None = None,
    placed_from: dt.datetime | None = None,
    placed_before: dt.datetime | None = None,
    sku_id: int | None = None,
    search: str | None = None,
    buyer: BuyerSearch | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> Page[OrderSummary]:
    """Orders newest first: a customer's own (``customer_id``), or all for staff, with filters.

    ``search`` matches the start of the order number, a SKU code exactly, or a word in a line's
    title (case-insensitive); ``placed_from`` is inclusive and ``placed_before`` exclusive;
    ``buyer`` keeps the orders of its accounts or addressed to its recipient (``_buyer_matches``).

    Raises:
        InvalidCursor.
    """
    size = clamp_limit(limit)
    after = id_cursor(cursor)
    stmt = select(Order).order_by(Order.id.desc()).limit(size + 1)
    if after is not None:
        stmt = stmt.where(Order.id < after)
    if customer_id is not None:
        stmt = stmt.where(Order.customer_id == customer_id)
    if status:
        stmt = stmt.where(Order.status == status)
    if number:
        stmt = stmt.where(Order.number == number)
    if delivery is not None:
        stmt = stmt.where(Order.delivery == str(delivery))
    if placed_from is not None:
        stmt = stmt.where(Order.placed_at >= placed_from)
    if placed_before is not None:
        stmt = stmt.where(Order.placed_at < placed_before)
    if sku_id is not None:
        stmt = stmt.where(exists().where(OrderLine.order_id == Order.id, OrderLine.sku_id == sku_id))
    term = (search or "").strip()
    if term:
        stmt = stmt.where(
            or_(
                Order.number.startswith(term, autoescape=True),
                exists().where(
                    OrderLine.order_id == Order.id,
                    or_(
                        OrderLine.sku_code == term,
                        func.lower(OrderLine.title).contains(term.lower(), autoescape=True),
                    ),
                ),
            )
        )
    if buyer is not None:
        stmt = stmt.where(_buyer_matches(buyer))
    rows = list((await session.execute(stmt)).scalars())
    items = [OrderSummary.model_validate(row) for row in rows[:size]]
    return Page[OrderSummary](
        items=items, next_cursor=encode_cursor(items[-1].id) if len(rows) > size else None
    )


def _buyer_matches(buyer: BuyerSearch) -> ColumnElement[bool]:
    """Orders of the buyer's accounts, or whose frozen address names the recipient's mobile
    number or whole name exactly; nothing when the search names nobody."""
    matches: list[ColumnElement[bool]] = []
    if buyer.customer_ids:
        matches.append(Order.customer_id.in_(buyer.customer_ids))
    if buyer.recipient_phone:
        matches.append(Order.address["phone"].as_string() == buyer.recipient_phone)
    if buyer.recipient_name:
        matches.append(Order.address["recipient"].as_string() == buyer.recipient_name)
    return or_(*matches) if matches else false()
