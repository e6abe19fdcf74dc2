"""Private: coupons as schemas, and the wallet query shared by the wallet pages and the quote."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select
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


def coupon_read(row: Coupon, template: CouponTemplate) -> CouponRead:
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


async def wallet_rows(
    session: AsyncSession,
    *,
    customer_id: int,
    statuses: Iterable[CouponStatus] | None = None,
    valid_at: dt.datetime | None = None,
) -> list[CouponRead]:
    """The customer's coupons (in ``statuses``; valid at ``valid_at`` when given), soonest-expiring
    first: one query."""
    query = (
        select(Coupon, CouponTemplate)
        .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
        .where(Coupon.customer_id == customer_id)
        .order_by(Coupon.valid_until, Coupon.id)
    )
    if statuses is not None:
        query = query.where(Coupon.status.in_([str(s) for s in statuses]))
    if valid_at is not None:
        query = query.where(Coupon.valid_from <= valid_at, Coupon.valid_until > valid_at)
    return [coupon_read(c, t) for c, t in (await session.execute(query)).all()]
