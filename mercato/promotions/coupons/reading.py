"""Private: coupons as schemas, and the wallet query shared by the wallet pages and the quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.promotions.models import Coupon, CouponTemplate
from mercato.promotions.schemas import (
    Channel,
    CouponKind,
    CouponRead,
    CouponSource,
    CouponStatus,
    CouponTemplateRead,
    CouponTemplateStatus,
    IssueTrigger,
    Scope,
)


def template_read(row: CouponTemplate) -> CouponTemplateRead:
    return CouponTemplateRead(
        id=row.id,
        name=row.name,
        kind=CouponKind(row.kind),
        status=CouponTemplateStatus(row.status),
        amount_off=row.amount_off,
        percent_off=row.percent_off,
        max_discount_amount=row.max_discount_amount,
        min_spend_amount=row.min_spend_amount,
        scope=Scope.model_validate(row.scope),
        channels=tuple(Channel(c) for c in row.channels),
        total_quantity=row.total_quantity,
        issued_quantity=row.issued_quantity,
        per_customer_limit=row.per_customer_limit,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        valid_days=row.valid_days,
        claim_starts_at=row.claim_starts_at,
        claim_ends_at=row.claim_ends_at,
        claimable=row.claimable,
        issue_on=IssueTrigger(row.issue_on) if row.issue_on else None,
        return_on_refund=row.return_on_refund,
        campaign_id=row.campaign_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def coupon_read(row: Coupon | Row[Any], template: CouponTemplate | Row[Any]) -> CouponRead:
    """A coupon with its template's terms: from the two ORM rows, or twice the same wallet-query
    row (its columns carry the same names)."""
    return CouponRead(
        id=row.id,
        template_id=row.template_id,
        customer_id=row.customer_id,
        name=template.name,
        kind=CouponKind(template.kind),
        amount_off=template.amount_off,
        percent_off=template.percent_off,
        max_discount_amount=template.max_discount_amount,
        min_spend_amount=template.min_spend_amount,
        scope=Scope.model_validate(template.scope),
        channels=tuple(Channel(c) for c in template.channels),
        status=CouponStatus(row.status),
        source=CouponSource(row.source),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        issued_at=row.issued_at,
        order_id=row.order_id,
        used_at=row.used_at,
    )


_WALLET_COLUMNS = (
    Coupon.id,
    Coupon.template_id,
    Coupon.customer_id,
    CouponTemplate.name,
    CouponTemplate.kind,
    CouponTemplate.amount_off,
    CouponTemplate.percent_off,
    CouponTemplate.max_discount_amount,
    CouponTemplate.min_spend_amount,
    CouponTemplate.scope,
    CouponTemplate.channels,
    Coupon.status,
    Coupon.source,
    Coupon.valid_from,
    Coupon.valid_until,
    Coupon.issued_at,
    Coupon.order_id,
    Coupon.used_at,
)


async def wallet_rows(
    session: AsyncSession,
    *,
    customer_id: int,
    statuses: Iterable[CouponStatus] | None = None,
    valid_at: dt.datetime | None = None,
) -> list[CouponRead]:
    """The customer's coupons (in ``statuses``; valid at ``valid_at`` when given), soonest-expiring
    first: one query for the columns a CouponRead needs (no ORM objects: every cart price reads
    the wallet, so it stays light)."""
    params: dict[str, object] = {"customer_id": customer_id}
    if statuses is not None:
        params["statuses"] = [str(s) for s in statuses]
    if valid_at is not None:
        params["valid_at"] = valid_at
    query = _wallet_query(statuses is not None, valid_at is not None)
    return [coupon_read(row, row) for row in (await session.execute(query, params)).all()]


@cache
def _wallet_query(by_status: bool, by_validity: bool) -> Select[Any]:
    """The wallet statement, built once per shape (building it costs more than running it)."""
    query = (
        select(*_WALLET_COLUMNS)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.customer_id == bindparam("customer_id"))
        .order_by(Coupon.valid_until, Coupon.id)
    )
    if by_status:
        query = query.where(Coupon.status.in_(bindparam("statuses", expanding=True)))
    if by_validity:
        at = bindparam("valid_at", type_=Coupon.__table__.c.valid_from.type)
        query = query.where(Coupon.valid_from <= at, Coupon.valid_until > at)
    return query
