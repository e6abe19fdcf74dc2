"""Refunds of after-sales requests: issued to the original payment through ``payments``, confirmed
by ``payments.PaymentRefunded`` (or found failed by the ``aftersales-check-refunds`` job).

The idempotency key is derived from the request and the attempt (``aftersales-<id>-<n>``), so a
retried step never refunds twice and a refund the provider refused can be issued again as a new
attempt. The provider is asked by ``payments`` after the commit, never inside the transaction.

When refund-only requests made before shipment cover every unit of every line in full, the
order is closed first (``orders.close_paid_order``: its held stock goes back on sale, and it can
no longer ship) and the last request also refunds the rest of the order (shipping, tax on top).
"""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, orders, payments
from mercato.aftersales.errors import RequestChanged
from mercato.aftersales.events import AftersalesCompleted, AftersalesRefunded
from mercato.aftersales.models import AftersalesLineClaim, AftersalesRequest
from mercato.aftersales.schemas import AftersalesKind
from mercato.aftersales.service.common import (
    NOTHING_TO_REFUND,
    REFUND_CONFIRMED,
    REFUND_ISSUED,
    REFUNDED,
    SYSTEM,
    Who,
    move,
)
from mercato.aftersales.states import RELEASED, AftersalesStatus
from mercato.core.events import record_event

log = structlog.get_logger(__name__)

#: Statuses of requests whose refund has been issued (or is being issued again).
ISSUED = frozenset(
    {
        AftersalesStatus.refunding,
        AftersalesStatus.refund_failed,
        AftersalesStatus.refunded,
        AftersalesStatus.completed,
    }
)


async def _rest_of_order(session: AsyncSession, row: AftersalesRequest) -> int | None:
    """What is left of the order's payment beyond its lines, if issuing ``row``'s refund refunds
    the whole order before shipment; None otherwise (the order then stays open)."""
    if not row.before_shipment or row.refund_amount != row.max_refund_amount:
        return None
    claims = list(
        (
            await session.execute(
                select(AftersalesLineClaim).where(AftersalesLineClaim.order_id == row.order_id)
            )
        ).scalars()
    )
    if any(c.refund_quantity != c.bought_quantity for c in claims):
        return None
    others = (
        await session.execute(
            select(AftersalesRequest).where(
                AftersalesRequest.order_id == row.order_id,
                AftersalesRequest.id != row.id,
                AftersalesRequest.status.not_in([str(s) for s in RELEASED]),
            )
        )
    ).scalars()
    for other in others:
        if not (
            other.before_shipment
            and other.kind == AftersalesKind.refund_only
            and AftersalesStatus(other.status) in ISSUED
            and other.refund_amount == other.max_refund_amount
        ):
            return None
    order = await orders.read_order(session, order_id=row.order_id)
    return order.total_amount - sum(c.paid_amount for c in claims)


def attempt_is_first(row: AftersalesRequest) -> bool:
    """Whether no refund was issued for the request yet (a re-issue after a refusal must not drop
    the units a second time)."""
    return row.refund_attempts == 0


async def issue_refund(
    session: AsyncSession, row: AftersalesRequest, *, who: Who, actor: identity.Actor
) -> None:
    """Refund the request to its payment (status → refunding), or complete it when there is
    nothing to refund.

    Raises:
        IllegalTransition, RequestChanged (409): the request is not where a refund can start.
        CannotClose (409 orders.cannot_close): the whole order was to be closed but something shipped.
        RefundExceedsPayment, NotRefundable (409 payments.*): the payment has less left.
    """
    rest = await _rest_of_order(session, row)
    shipping = max(rest or 0, 0)
    total = row.refund_amount + shipping
    if total == 0 or row.payment_id is None:
        await complete(session, row, who=who, note=NOTHING_TO_REFUND)
        return
    if rest is not None:
        await orders.close_paid_order(
            session,
            order_id=row.order_id,
            actor=actor,
            reason=orders.REFUNDED_IN_FULL % {"number": row.number},
        )
    elif row.before_shipment and attempt_is_first(row):
        # part of the order refunded before shipping: those units must not ship
        await orders.drop_units_before_shipping(
            session,
            order_id=row.order_id,
            order_line_id=row.order_line_id,
            quantity=row.quantity,
            actor=actor,
            reason=f"after-sales {row.number}",
        )
    attempt = row.refund_attempts + 1
    refund = await payments.refund_payment(
        session,
        payment_id=row.payment_id,
        amount=total,
        reason=f"after-sales {row.number}",
        idempotency_key=f"aftersales-{row.id}-{attempt}",
        actor=actor,
    )
    await move(
        session,
        row,
        AftersalesStatus.refunding,
        who=who,
        note=REFUND_ISSUED,
        details={"refund_id": refund.id, "amount": total, "attempt": attempt},
        refund_id=refund.id,
        refund_attempts=attempt,
        shipping_refund_amount=shipping,
    )


async def complete(session: AsyncSession, row: AftersalesRequest, *, who: Who, note: str) -> None:
    """Move the request to completed (``note``: the system's reason) and announce it."""
    await move(session, row, AftersalesStatus.completed, who=who, note=note)
    await record_event(
        session,
        AftersalesCompleted(
            request_id=row.id,
            number=row.number,
            order_id=row.order_id,
            order_number=row.order_number,
            customer_id=row.customer_id,
            kind=row.kind,
            replacement_carrier=row.replacement_carrier,
            replacement_tracking_number=row.replacement_tracking_number,
        ),
    )


async def record_refund_outcome(session: AsyncSession, *, payment_id: int, refund_id: int) -> bool:
    """Apply what payments knows about a request's refund: succeeded → refunded → completed;
    failed → refund_failed (staff may issue it again); pending → nothing yet. Idempotent: a
    request no longer refunding (or refunding another refund) is left alone. Returns whether
    the request moved."""
    row = (
        await session.execute(
            select(AftersalesRequest)
            .where(AftersalesRequest.refund_id == refund_id, AftersalesRequest.payment_id == payment_id)
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None or row.status != AftersalesStatus.refunding:
        return False
    refund = await payments.get_refund(session, payment_id=payment_id, refund_id=refund_id)
    if refund.status is payments.RefundStatus.pending:
        return False
    if refund.status is payments.RefundStatus.failed:
        await move(
            session,
            row,
            AftersalesStatus.refund_failed,
            who=SYSTEM,
            reason=refund.failure_reason,
            details={"refund_id": refund_id},
        )
        log.warning("aftersales.refund_failed", request_id=row.id, refund_id=refund_id)
        return True
    await move(
        session,
        row,
        AftersalesStatus.refunded,
        who=SYSTEM,
        note=REFUND_CONFIRMED,
        details={"refund_id": refund_id, "amount": refund.amount},
    )
    await record_event(
        session,
        AftersalesRefunded(
            request_id=row.id,
            number=row.number,
            order_id=row.order_id,
            order_number=row.order_number,
            order_line_id=row.order_line_id,
            customer_id=row.customer_id,
            payment_id=payment_id,
            refund_id=refund_id,
            quantity=row.quantity,
            amount=refund.amount,
            currency=refund.currency,
            before_shipment=row.before_shipment,
        ),
    )
    await complete(session, row, who=SYSTEM, note=REFUNDED)
    return True


async def check_refunds(session: AsyncSession, *, limit: int = 200) -> int:
    """Look at every request still refunding (the ``aftersales-check-refunds`` job): a refund the
    provider refused sends no event, so this is how it is noticed. Returns how many moved."""
    due = (
        await session.execute(
            select(AftersalesRequest.payment_id, AftersalesRequest.refund_id)
            .where(AftersalesRequest.status == str(AftersalesStatus.refunding))
            .order_by(AftersalesRequest.updated_at)
            .limit(limit)
        )
    ).all()
    moved = 0
    for payment_id, refund_id in due:
        if payment_id is None or refund_id is None:
            continue
        try:
            moved += await record_refund_outcome(session, payment_id=payment_id, refund_id=refund_id)
        except RequestChanged:  # its conditional UPDATE matched nothing, so nothing was written
            continue  # the PaymentRefunded handler got there first
    return moved
