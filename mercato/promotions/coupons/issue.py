"""Private: issuing one coupon, the one path every issuance takes (claim, code, event, bulk).

Exactly once under concurrency, with conditional statements only (never read-then-write), in a
SAVEPOINT so a refusal undoes this coupon's counts and nothing else of the caller's work:

1. the customer's holding row exists (``INSERT ... ON CONFLICT DO NOTHING``);
2. ``received = received + 1 WHERE received < per_customer_limit`` (else CouponLimitReached);
3. ``issued_quantity = issued_quantity + 1 WHERE status = 'active' AND issued_quantity <
   total_quantity`` (else CouponsSoldOut);
4. the coupon, under a unique ``issue_key``: a key issued before returns that coupon (checked
   first; a concurrent twin loses on the unique constraint and is undone, see ADR 0034).

The holding row is locked before the template row on every path, so PostgreSQL never deadlocks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core.db import insert_ignore
from mercato.promotions.coupons.reading import coupon_read
from mercato.promotions.coupons.templates import validity
from mercato.promotions.errors import (
    CouponLimitReached,
    CouponNotClaimable,
    CouponsSoldOut,
    CouponTemplateNotFound,
)
from mercato.promotions.models import Coupon, CouponHolding, CouponStatusChange, CouponTemplate
from mercato.promotions.schemas import CouponRead, CouponSource, CouponStatus, CouponTemplateStatus

#: An issue key, or how to make one from the customer's count of the template after this one
#: (a claim's key: the n-th coupon of this template for this customer).
IssueKey = str | Callable[[int], str]


class _Duplicate(Exception):
    """The key was issued by a concurrent twin: undo this attempt and return the twin's coupon."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


async def find_issued(session: AsyncSession, key: str) -> CouponRead | None:
    """The coupon issued under ``key``, if any."""
    row = (
        await session.execute(
            select(Coupon, CouponTemplate)
            .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .where(Coupon.issue_key == key)
        )
    ).one_or_none()
    return coupon_read(*row) if row is not None else None


async def issue_coupon(
    session: AsyncSession,
    *,
    template_id: int,
    customer_id: int,
    source: CouponSource,
    key: IssueKey,
    now: dt.datetime,
) -> CouponRead:
    """Issue one coupon of an active template to a customer, or return the one ``key`` already
    issued (no second count).

    Raises:
        CouponTemplateNotFound (404).
        CouponNotClaimable (409): not active, or its fixed validity is over.
        CouponLimitReached (409), CouponsSoldOut (409).
    """
    if isinstance(key, str) and (issued := await find_issued(session, key)) is not None:
        return issued
    try:
        async with session.begin_nested():
            return await _issue(
                session, template_id=template_id, customer_id=customer_id, source=source, key=key, now=now
            )
    except _Duplicate as twin:
        issued = await find_issued(session, twin.key)
        assert issued is not None, "the unique constraint held a committed coupon"
        return issued


async def _issue(
    session: AsyncSession,
    *,
    template_id: int,
    customer_id: int,
    source: CouponSource,
    key: IssueKey,
    now: dt.datetime,
) -> CouponRead:
    template = await session.get(CouponTemplate, template_id, populate_existing=True)
    if template is None:
        raise CouponTemplateNotFound()
    if template.status != CouponTemplateStatus.active:
        raise CouponNotClaimable()
    valid_from, valid_until = validity(template, now)
    if valid_until <= now:
        raise CouponNotClaimable()
    await insert_ignore(
        session,
        CouponHolding.__table__,
        {"template_id": template_id, "customer_id": customer_id, "received": 0},
    )
    limit = (
        select(CouponTemplate.per_customer_limit).where(CouponTemplate.id == template_id).scalar_subquery()
    )
    received = (
        await session.execute(
            update(CouponHolding)
            .where(
                CouponHolding.template_id == template_id,
                CouponHolding.customer_id == customer_id,
                CouponHolding.received < limit,
            )
            .values(received=CouponHolding.received + 1)
            .returning(CouponHolding.received)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if received is None:
        raise CouponLimitReached()
    counted = (
        await session.execute(
            update(CouponTemplate)
            .where(
                CouponTemplate.id == template_id,
                CouponTemplate.status == str(CouponTemplateStatus.active),
                CouponTemplate.issued_quantity < CouponTemplate.total_quantity,
            )
            .values(issued_quantity=CouponTemplate.issued_quantity + 1)
            .returning(CouponTemplate.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if counted is None:
        status = await session.scalar(select(CouponTemplate.status).where(CouponTemplate.id == template_id))
        raise CouponsSoldOut() if status == CouponTemplateStatus.active else CouponNotClaimable()
    issue_key = key if isinstance(key, str) else key(received)
    inserted = await insert_ignore(
        session,
        Coupon.__table__,
        {
            "template_id": template_id,
            "customer_id": customer_id,
            "status": str(CouponStatus.unused),
            "source": str(source),
            "issue_key": issue_key,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "issued_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        raise _Duplicate(issue_key)
    row = (await session.execute(select(Coupon).where(Coupon.issue_key == issue_key))).scalar_one()
    await record_moves(
        session, [row.id], from_status="", to_status=CouponStatus.unused, reason="issued", now=now
    )
    return coupon_read(row, template)


async def record_moves(
    session: AsyncSession,
    coupon_ids: Iterable[int],
    *,
    from_status: CouponStatus | str,
    to_status: CouponStatus,
    reason: str,
    now: dt.datetime,
    order_id: int | None = None,
) -> None:
    """A ``promotions_coupon_status_change`` row per coupon moved (by one conditional UPDATE)."""
    session.add_all(
        CouponStatusChange(
            coupon_id=coupon_id,
            from_status=str(from_status),
            to_status=str(to_status),
            order_id=order_id,
            reason=reason,
            created_at=now,
        )
        for coupon_id in coupon_ids
    )
    await session.flush()
