"""Shared pieces of the after-sales use cases: loading a request, moving it along the transition
table with its timeline row, the per-line claims, and the read model."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity, payments
from mercato.aftersales.errors import RequestChanged, RequestNotFound
from mercato.aftersales.models import (
    AftersalesLineClaim,
    AftersalesPhoto,
    AftersalesRequest,
    AftersalesStatusChange,
)
from mercato.aftersales.schemas import (
    ActorKind,
    AftersalesKind,
    AftersalesRead,
    AftersalesSummary,
    ArbitrationDecision,
    Dispute,
    Grading,
    Parcel,
    PhotoRead,
    ReasonCode,
    TimelineStep,
)
from mercato.aftersales.states import FINAL, REQUEST, WAITING_ON_SHOP, AftersalesStatus
from mercato.core import clock
from mercato.core.i18n import N_, current_locale
from mercato.core.money import Money
from mercato.core.storage import get_storage

REFUND_KINDS = frozenset({AftersalesKind.refund_only, AftersalesKind.return_refund})
RETURN_KINDS = frozenset({AftersalesKind.return_refund, AftersalesKind.exchange})


@dataclass(frozen=True)
class Who:
    """Who takes a step, as the timeline records it."""

    kind: ActorKind
    actor_id: int | None
    label: str

    @classmethod
    def customer(cls, customer_id: int) -> Who:
        return cls(ActorKind.customer, customer_id, f"customer:{customer_id}")

    @classmethod
    def staff(cls, actor: identity.Actor, kind: ActorKind = ActorKind.shop) -> Who:
        return cls(kind, actor.staff_id, actor.label)


SYSTEM = Who(ActorKind.system, None, "payments")

# Reasons the system writes rather than a person types: stored in English with the message id in
# the step's details ("note"), translated where drawn with the details as the parameters.
NOTHING_TO_REFUND = N_("nothing to refund")
REFUND_ISSUED = N_("refund %(refund_id)s")
REFUND_CONFIRMED = N_("refund %(refund_id)s confirmed")
REFUNDED = N_("refunded")
REPLACEMENT_SHIPPED = N_("replacement shipped")
SYSTEM_NOTES = (NOTHING_TO_REFUND, REFUND_ISSUED, REFUND_CONFIRMED, REFUNDED, REPLACEMENT_SHIPPED)


def money(amount: int, currency: str) -> str:
    """``amount`` formatted for the current language (for error messages)."""
    return Money(amount, currency).format(current_locale())


def new_placeholder_number() -> str:
    """A unique number until the id is known (replaced in the same transaction)."""
    return f"new-{uuid.uuid4().hex[:24]}"


async def load(
    session: AsyncSession, request_id: int, *, customer_id: int | None = None
) -> AftersalesRequest:
    """The request, re-read from the database; ``customer_id`` scopes it to that customer.

    Raises:
        RequestNotFound (404): none, or another customer's.
    """
    stmt = (
        select(AftersalesRequest)
        .where(AftersalesRequest.id == request_id)
        .execution_options(populate_existing=True)
    )
    if customer_id is not None:
        stmt = stmt.where(AftersalesRequest.customer_id == customer_id)
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        raise RequestNotFound()
    return row


async def move(
    session: AsyncSession,
    row: AftersalesRequest,
    target: AftersalesStatus,
    *,
    who: Who,
    reason: str = "",
    note: str = "",
    details: dict[str, Any] | None = None,
    **values: object,
) -> None:
    """Move ``row`` from the status it was read in to ``target`` with one conditional UPDATE and
    add the timeline step. ``note`` (one of ``SYSTEM_NOTES``) is a reason the system writes: its
    English text is the step's reason and the message id stays in its details for translation.

    A customer's step restarts the shop's response clock; the shop's or platform's answer to a
    step that waits for it records how long the shopper waited.

    Raises:
        IllegalTransition (409 aftersales.illegal_transition): the table has no such edge.
        RequestChanged (409): another action moved the request meanwhile.
    """
    current = AftersalesStatus(row.status)
    REQUEST.check(current, target)
    now = clock.now()
    response_seconds = None
    if who.kind in {ActorKind.shop, ActorKind.platform} and current in WAITING_ON_SHOP:
        response_seconds = max(0, int((now - row.last_shopper_action_at).total_seconds()))
    if who.kind is ActorKind.customer:
        values["last_shopper_action_at"] = now
    if target in FINAL:
        values["closed_at"] = now
    result = await session.execute(
        update(AftersalesRequest)
        .where(
            AftersalesRequest.id == row.id,
            AftersalesRequest.status == str(current),
            AftersalesRequest.status.in_(REQUEST.sources(target)),
        )
        .values(status=str(target), updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        raise RequestChanged()
    if note:
        details = {**(details or {}), "note": note}
        reason = note % details
    session.add(
        AftersalesStatusChange(
            request_id=row.id,
            from_status=str(current),
            to_status=str(target),
            actor_kind=str(who.kind),
            actor_id=who.actor_id,
            actor_label=who.label[:254],
            reason=reason[:1000],
            details=details,
            response_seconds=response_seconds,
            created_at=now,
        )
    )
    await session.flush()
    await session.refresh(row)


async def release_claim(session: AsyncSession, row: AftersalesRequest) -> None:
    """Give the request's units (and refund share) back to its line: it was withdrawn or closed."""
    refunds = AftersalesKind(row.kind) in REFUND_KINDS
    await session.execute(
        update(AftersalesLineClaim)
        .where(AftersalesLineClaim.order_line_id == row.order_line_id)
        .values(
            claimed_quantity=AftersalesLineClaim.claimed_quantity - row.quantity,
            refund_quantity=AftersalesLineClaim.refund_quantity - (row.quantity if refunds else 0),
            refund_share_amount=AftersalesLineClaim.refund_share_amount - row.max_refund_amount,
        )
    )


async def audit(
    session: AsyncSession,
    *,
    actor: identity.Actor,
    action: str,
    row: AftersalesRequest,
    before: str,
    after: dict[str, Any] | None = None,
) -> None:
    """Record a staff step in the audit log (same transaction)."""
    await identity.record_audit(
        session,
        actor=actor,
        action=f"aftersales.{action}",
        object_type="aftersales_request",
        object_id=str(row.id),
        before={"status": before},
        after={"status": row.status, **(after or {})},
    )


def waiting_since(row: AftersalesRequest) -> dt.datetime | None:
    return row.last_shopper_action_at if AftersalesStatus(row.status) in WAITING_ON_SHOP else None


def summary(row: AftersalesRequest) -> AftersalesSummary:
    return AftersalesSummary(
        id=row.id,
        number=row.number,
        order_id=row.order_id,
        order_number=row.order_number,
        order_line_id=row.order_line_id,
        customer_id=row.customer_id,
        sku_id=row.sku_id,
        title=row.title,
        kind=AftersalesKind(row.kind),
        status=AftersalesStatus(row.status),
        quantity=row.quantity,
        currency=row.currency,
        refund_amount=row.refund_amount,
        created_at=row.created_at,
        updated_at=row.updated_at,
        waiting_since=waiting_since(row),
    )


def _parcel(carrier: str, tracking_number: str, at: dt.datetime | None) -> Parcel | None:
    if at is None:
        return None
    return Parcel(carrier=carrier, tracking_number=tracking_number, shipped_at=at)


def _note(change: AftersalesStatusChange) -> str | None:
    """The message id of a step's system-written reason; steps written before the id was kept
    are recognised by their English text (never a customer's)."""
    details = change.details or {}
    if details.get("note") in SYSTEM_NOTES:
        return str(details["note"])
    if change.actor_kind == ActorKind.customer:
        return None
    for note in SYSTEM_NOTES:
        try:
            if note % details == change.reason:
                return note
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _step(change: AftersalesStatusChange, *, staff_view: bool) -> TimelineStep:
    return TimelineStep(
        from_status=AftersalesStatus(change.from_status) if change.from_status else None,
        status=AftersalesStatus(change.to_status),
        actor=ActorKind(change.actor_kind),
        actor_label=change.actor_label if staff_view else None,
        reason=change.reason,
        note=_note(change),
        details=change.details or {},
        response_seconds=change.response_seconds,
        at=change.created_at,
    )


async def read(session: AsyncSession, row: AftersalesRequest, *, staff_view: bool) -> AftersalesRead:
    """The whole request with photos and timeline (staff see who on the shop's side acted)."""
    changes = (
        await session.execute(
            select(AftersalesStatusChange)
            .where(AftersalesStatusChange.request_id == row.id)
            .order_by(AftersalesStatusChange.id)
        )
    ).scalars()
    photos = (
        await session.execute(
            select(AftersalesPhoto).where(AftersalesPhoto.request_id == row.id).order_by(AftersalesPhoto.id)
        )
    ).scalars()
    refund_status = None
    if row.refund_id is not None and row.payment_id is not None:
        refund = await payments.get_refund(session, payment_id=row.payment_id, refund_id=row.refund_id)
        refund_status = str(refund.status)
    storage = get_storage()
    base = summary(row)
    return AftersalesRead(
        **base.model_dump(),
        sub_order_id=row.sub_order_id,
        sku_code=row.sku_code,
        reason_code=ReasonCode(row.reason_code),
        description=row.description,
        before_shipment=row.before_shipment,
        max_refund_amount=row.max_refund_amount,
        shipping_refund_amount=row.shipping_refund_amount,
        total_refund_amount=row.refund_amount + row.shipping_refund_amount,
        payment_id=row.payment_id,
        refund_id=row.refund_id,
        refund_status=refund_status,
        decision_reason=row.decision_reason,
        decided_at=row.decided_at,
        return_parcel=_parcel(row.return_carrier, row.return_tracking_number, row.returned_at),
        grading=Grading(
            warehouse_id=row.receiving_warehouse_id,
            resellable=row.resellable_quantity or 0,
            defective=row.defective_quantity or 0,
            scrap=row.scrap_quantity or 0,
            received_at=row.received_at,
        )
        if row.received_at is not None and row.receiving_warehouse_id is not None
        else None,
        replacement_parcel=_parcel(
            row.replacement_carrier, row.replacement_tracking_number, row.replacement_shipped_at
        ),
        dispute=Dispute(
            statement=row.dispute_statement,
            disputed_at=row.disputed_at,
            decision=ArbitrationDecision(row.arbitration) if row.arbitration else None,
            reason=row.arbitration_reason,
            decided_at=row.arbitrated_at,
        )
        if row.disputed_at is not None
        else None,
        closed_at=row.closed_at,
        photos=[
            PhotoRead(
                id=p.id,
                url=storage.url(p.storage_key),
                content_type=p.content_type,
                size_bytes=p.size_bytes,
                width=p.width,
                height=p.height,
                created_at=p.created_at,
            )
            for p in photos
        ],
        timeline=[_step(c, staff_view=staff_view) for c in changes],
    )
