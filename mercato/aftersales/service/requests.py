"""The shopper's side: open a request for an order line, withdraw it, send the goods back,
escalate a rejection to the platform.

Opening a request checks, in this order: the line is in one of the customer's paid orders; the
kind fits where the line is (before shipping only a refund; on the way nothing; after delivery
anything within ``aftersales_window_days``); the units are still free (bought minus those held by
open or completed requests); the refund is at most the units' share of what the line was paid
(shared to the fen with ``allocate``) and of what the payment still has. The units and the share
are then claimed from the line with one conditional UPDATE (see ``models.AftersalesLineClaim``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import orders, payments, shop
from mercato.aftersales.errors import (
    KindNotAllowed,
    LineNotFound,
    NotDeliveredYet,
    OrderNotEligible,
    PaymentExhausted,
    QuantityExceedsBought,
    RefundTooLarge,
    WindowClosed,
)
from mercato.aftersales.events import AftersalesRequested
from mercato.aftersales.models import AftersalesLineClaim, AftersalesRequest, AftersalesStatusChange
from mercato.aftersales.schemas import (
    AftersalesKind,
    AftersalesRead,
    CancelRequest,
    CreateRequest,
    Escalate,
    ShipBack,
)
from mercato.aftersales.service.common import (
    REFUND_KINDS,
    RETURN_KINDS,
    Who,
    load,
    money,
    move,
    new_placeholder_number,
    read,
    release_claim,
)
from mercato.aftersales.states import AftersalesStatus
from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.core.events import record_event
from mercato.core.money import allocate

_DELIVERED = {orders.OrderStatus.delivered, orders.OrderStatus.completed}
_NOT_PAID = {orders.OrderStatus.pending_payment, orders.OrderStatus.cancelled, orders.OrderStatus.closed}


def line_paid_amounts(order: orders.OrderRead) -> dict[int, int]:
    """What the shopper paid for each line: its total, plus its tax when tax was added on top
    (cross-border) rather than included in the prices."""
    goods = sum(line.total_amount for line in order.lines)
    tax_added = (
        order.tax_amount > 0 and order.total_amount == goods + order.shipping_amount + order.tax_amount
    )
    return {line.id: line.total_amount + (line.tax_amount if tax_added else 0) for line in order.lines}


def unit_share(*, paid: int, bought: int, claimed_units: int, claimed_share: int, quantity: int) -> int:
    """The refund share of ``quantity`` more units of a line ``paid`` for ``bought`` units.

    The line's payment is shared over its units to the fen (largest remainder: the first units
    carry the odd fen); a request takes the next units' shares, and the one that takes the last
    units gets exactly what is left, so all requests of a line add up to what it was paid."""
    left = paid - claimed_share
    if claimed_units + quantity >= bought:
        return left
    units = allocate(paid, [1] * bought)
    return min(sum(units[claimed_units : claimed_units + quantity]), left)


def _check_where_the_line_is(
    order: orders.OrderRead, sub_order: orders.SubOrderRead, kind: AftersalesKind, *, window_days: int
) -> bool:
    """Whether the request comes before shipment; raises when this kind is not possible now."""
    if order.status in _NOT_PAID or order.payment_id is None:
        raise OrderNotEligible()
    status = orders.OrderStatus(sub_order.status)
    if status is orders.OrderStatus.paid:
        if kind is not AftersalesKind.refund_only:
            raise KindNotAllowed()
        return True
    if status is orders.OrderStatus.shipped:
        raise NotDeliveredYet()
    if status not in _DELIVERED:
        raise OrderNotEligible()
    delivered_at = sub_order.delivered_at or order.delivered_at
    days = window_days
    if delivered_at is None or clock.now() > delivered_at + dt.timedelta(days=days):
        raise WindowClosed(days=days)
    return False


def _fresh_claim(order: orders.OrderRead, line: orders.OrderLineRead, paid: int) -> dict[str, int]:
    return {
        "order_id": order.id,
        "order_line_id": line.id,
        "bought_quantity": line.quantity,
        "paid_amount": paid,
        "claimed_quantity": 0,
        "refund_quantity": 0,
        "refund_share_amount": 0,
    }


async def _claims_of(
    session: AsyncSession, order: orders.OrderRead, *, create: bool = True
) -> dict[int, AftersalesLineClaim]:
    """The claim rows of every line of the order, created on first use and locked (PostgreSQL):
    two requests for one order queue here, so each sees what the other claimed. With
    ``create=False`` nothing is written or locked: a line without a row yet gets an unsaved one."""
    paid = line_paid_amounts(order)
    if create:
        for line in order.lines:
            await insert_ignore(
                session, AftersalesLineClaim.__table__, _fresh_claim(order, line, paid[line.id])
            )
        await session.execute(
            update(AftersalesLineClaim)
            .where(AftersalesLineClaim.order_id == order.id)
            .values(order_id=AftersalesLineClaim.order_id)
        )
    rows = (
        await session.execute(
            select(AftersalesLineClaim)
            .where(AftersalesLineClaim.order_id == order.id)
            .execution_options(populate_existing=True)
        )
    ).scalars()
    claims = {row.order_line_id: row for row in rows}
    for line in order.lines:
        if line.id not in claims:
            claims[line.id] = AftersalesLineClaim(**_fresh_claim(order, line, paid[line.id]))
    return claims


@dataclass(frozen=True)
class _Vetted:
    """What ``_vet`` found: the order, line and part the request is for, and its figures."""

    order: orders.OrderRead
    line: orders.OrderLineRead
    sub_order: orders.SubOrderRead
    before_shipment: bool
    claim: AftersalesLineClaim
    available: int
    share: int
    amount: int


async def check_new_request(session: AsyncSession, *, customer_id: int, data: CreateRequest) -> None:
    """Check that ``create_request`` would accept ``data`` right now, writing nothing: the
    storefront form calls it before it decodes the photos sent along, and ``create_request``
    checks again when it writes. Raises what ``create_request`` raises."""
    await _vet(session, customer_id=customer_id, data=data, claim_rows=False)


async def _vet(
    session: AsyncSession, *, customer_id: int, data: CreateRequest, claim_rows: bool = True
) -> _Vetted:
    """Every check of a new request (see ``create_request``), before anything is claimed; with
    ``claim_rows=False`` it writes and locks nothing."""
    try:
        order = await orders.read_order(session, order_id=data.order_id, customer_id=customer_id)
    except orders.OrderNotFound:
        raise LineNotFound() from None
    line = next((x for x in order.lines if x.id == data.order_line_id), None)
    if line is None:
        raise LineNotFound()
    sub_order = next(s for s in order.sub_orders if s.id == line.sub_order_id)
    window_days = (await shop.get_settings(session)).aftersales_window_days
    before_shipment = _check_where_the_line_is(order, sub_order, data.kind, window_days=window_days)

    claim = (await _claims_of(session, order, create=claim_rows))[line.id]
    available = claim.bought_quantity - claim.claimed_quantity
    if data.quantity > available:
        raise QuantityExceedsBought(available=available)
    share = 0
    if data.kind in REFUND_KINDS:
        share = unit_share(
            paid=claim.paid_amount,
            bought=claim.bought_quantity,
            claimed_units=claim.refund_quantity,
            claimed_share=claim.refund_share_amount,
            quantity=data.quantity,
        )
    amount = share if data.refund_amount is None else data.refund_amount
    if amount > share:
        raise RefundTooLarge(maximum=money(share, order.currency))
    assert order.payment_id is not None  # checked with the order's status
    if amount > 0:
        payment = await payments.get_payment(session, payment_id=order.payment_id)
        left = payment.amount - payment.refunded_amount
        if amount > left:
            raise PaymentExhausted(refundable=money(left, payment.currency))
    return _Vetted(order, line, sub_order, before_shipment, claim, available, share, amount)


async def create_request(session: AsyncSession, *, customer_id: int, data: CreateRequest) -> AftersalesRead:
    """Open a request for ``data.quantity`` units of one line of the customer's order.

    Raises:
        LineNotFound (404): no such line in the customer's orders (another customer's included).
        OrderNotEligible (409): the order is not paid (or was cancelled or closed).
        KindNotAllowed (422): a return or exchange before the line was shipped.
        NotDeliveredYet (409): the line is on its way.
        WindowClosed (409): more than ``aftersales_window_days`` after delivery.
        QuantityExceedsBought (422): more units than bought minus those already requested.
        RefundTooLarge (422): a refund over the units' share of the line's payment.
        PaymentExhausted (409): the payment has less left to refund than asked for.
    """
    vetted = await _vet(session, customer_id=customer_id, data=data)
    order, line, sub_order, claim = vetted.order, vetted.line, vetted.sub_order, vetted.claim
    before_shipment, available, share, amount = (
        vetted.before_shipment,
        vetted.available,
        vetted.share,
        vetted.amount,
    )
    refunds = data.kind in REFUND_KINDS

    claimed = await session.execute(
        update(AftersalesLineClaim)
        .where(
            AftersalesLineClaim.id == claim.id,
            AftersalesLineClaim.claimed_quantity + data.quantity <= AftersalesLineClaim.bought_quantity,
            AftersalesLineClaim.refund_share_amount + share <= AftersalesLineClaim.paid_amount,
        )
        .values(
            claimed_quantity=AftersalesLineClaim.claimed_quantity + data.quantity,
            refund_quantity=AftersalesLineClaim.refund_quantity + (data.quantity if refunds else 0),
            refund_share_amount=AftersalesLineClaim.refund_share_amount + share,
        )
        .execution_options(synchronize_session=False)
    )
    if getattr(claimed, "rowcount", 0) != 1:  # cannot happen under the lock; never over-claim anyway
        raise QuantityExceedsBought(available=available)

    now = clock.now()
    row = AftersalesRequest(
        number=new_placeholder_number(),
        order_id=order.id,
        order_number=order.number,
        order_line_id=line.id,
        sub_order_id=sub_order.id,
        warehouse_id=sub_order.warehouse_id,
        customer_id=customer_id,
        sku_id=line.sku_id,
        sku_code=line.sku_code,
        title=line.title,
        kind=str(data.kind),
        status=str(AftersalesStatus.requested),
        quantity=data.quantity,
        reason_code=str(data.reason_code),
        description=data.description,
        before_shipment=before_shipment,
        currency=order.currency,
        max_refund_amount=share,
        refund_amount=amount,
        shipping_refund_amount=0,
        payment_id=order.payment_id,
        refund_attempts=0,
        photo_count=0,
        last_shopper_action_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    row.number = f"AS{now:%Y%m%d}{row.id:08d}"
    who = Who.customer(customer_id)
    session.add(
        AftersalesStatusChange(
            request_id=row.id,
            from_status="",
            to_status=str(AftersalesStatus.requested),
            actor_kind=str(who.kind),
            actor_id=who.actor_id,
            actor_label=who.label,
            reason=data.description,
            details={
                "kind": str(data.kind),
                "quantity": data.quantity,
                "reason_code": str(data.reason_code),
                "refund_amount": amount,
            },
            created_at=now,
        )
    )
    await session.flush()
    await record_event(
        session,
        AftersalesRequested(
            request_id=row.id,
            number=row.number,
            order_id=order.id,
            order_number=order.number,
            order_line_id=line.id,
            customer_id=customer_id,
            kind=str(data.kind),
            quantity=data.quantity,
            refund_amount=amount,
            currency=order.currency,
            before_shipment=before_shipment,
        ),
    )
    return await read(session, row, staff_view=False)


async def cancel_request(
    session: AsyncSession, *, request_id: int, customer_id: int, data: CancelRequest
) -> AftersalesRead:
    """Withdraw a request before approval (or accept a rejection); its units are free again.

    Raises:
        RequestNotFound (404), IllegalTransition (409): already approved, closed or done.
    """
    row = await load(session, request_id, customer_id=customer_id)
    await move(session, row, AftersalesStatus.cancelled, who=Who.customer(customer_id), reason=data.reason)
    await release_claim(session, row)
    return await read(session, row, staff_view=False)


async def ship_back(
    session: AsyncSession, *, request_id: int, customer_id: int, data: ShipBack
) -> AftersalesRead:
    """The shopper sent the goods of an approved return or exchange back (carrier + tracking).

    Raises:
        RequestNotFound (404), KindNotAllowed (422): a refund-only request has nothing to send,
        IllegalTransition (409): not approved (yet), or already sent.
    """
    row = await load(session, request_id, customer_id=customer_id)
    if AftersalesKind(row.kind) not in RETURN_KINDS:
        raise KindNotAllowed()
    await move(
        session,
        row,
        AftersalesStatus.shipped_back,
        who=Who.customer(customer_id),
        reason=f"{data.carrier} {data.tracking_number}",
        details={"carrier": data.carrier, "tracking_number": data.tracking_number},
        return_carrier=data.carrier,
        return_tracking_number=data.tracking_number,
        returned_at=clock.now(),
    )
    return await read(session, row, staff_view=False)


async def escalate_request(
    session: AsyncSession, *, request_id: int, customer_id: int, data: Escalate
) -> AftersalesRead:
    """Take a rejected request to the platform (平台介入) with the shopper's statement.

    Raises:
        RequestNotFound (404), IllegalTransition (409): the request was not rejected.
    """
    row = await load(session, request_id, customer_id=customer_id)
    await move(
        session,
        row,
        AftersalesStatus.disputed,
        who=Who.customer(customer_id),
        reason=data.statement,
        dispute_statement=data.statement,
        disputed_at=clock.now(),
    )
    return await read(session, row, staff_view=False)
