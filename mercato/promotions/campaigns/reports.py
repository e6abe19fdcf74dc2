"""Reports per promotion, coupon template and campaign, from the redemptions.

A redemption (``promotions_redemption``) is one promotion or coupon applied to one order, kept
by the order hooks with what became of the order. What counts:

- **orders**: the distinct orders it applied to that were paid (redemption status ``paid``, or
  ``refunded`` — paid, then refunded in full); placed-but-unpaid and cancelled orders do not count;
- **GMV**: those orders' goods after discounts (``order_goods_amount``), each order once (a
  campaign's promotion and coupon on one order are one order);
- **discount cost**: the discount those redemptions gave; **refunded**: what was refunded of
  those orders; **return on discount**: GMV / discount cost to two decimals (half up), ``"0"``
  without a cost;
- **issued / used** (coupon templates, and a campaign's templates together): coupons issued
  (``issued_quantity``) and coupons in status ``used``;
- **daily**: orders and discount per day for the last 30 days (the day the order was placed, in
  the shop's time zone), oldest first.

Each report is two aggregate queries over the redemptions (totals, and per day bucketed in SQL
with a ``CASE`` over the UTC instants at which each local day starts, as orders' sales report
does), plus one for a coupon template's counts; no per-row loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import shop
from mercato.core import clock
from mercato.promotions.errors import CampaignNotFound, CouponTemplateNotFound, PromotionNotFound
from mercato.promotions.models import Campaign, Coupon, CouponTemplate, Promotion, Redemption
from mercato.promotions.schemas import CouponStatus, DailyFigure, PromotionReport

#: Redemption statuses of an order that was paid ("refunded": paid, then refunded in full).
PAID = ("paid", "refunded")
#: How many days the daily series covers (today included).
DAYS = 30


def return_on_discount(gmv_amount: int, discount_amount: int) -> str:
    """GMV / discount cost to two decimals, rounded half up; "0" when nothing was spent."""
    if discount_amount <= 0:
        return "0"
    ratio = Decimal(gmv_amount) / Decimal(discount_amount)
    return str(ratio.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _refunded_share() -> ColumnElement[int]:
    """The part of a redemption's discount its order's refunds gave back (pro rata, rounded down)."""
    total, refunded = Redemption.order_total_amount, Redemption.refunded_amount
    return case(
        (refunded >= total, Redemption.discount_amount),
        (total > 0, Redemption.discount_amount * refunded // total),
        else_=0,
    )


async def spent_amounts(session: AsyncSession, *, campaign_ids: Sequence[int]) -> dict[int, int]:
    """What each campaign has spent: the discount of its paid orders less the share of it their
    refunds gave back (one query; campaigns without redemptions are left out)."""
    if not campaign_ids:
        return {}
    rows = await session.execute(
        select(Redemption.campaign_id, func.sum(Redemption.discount_amount - _refunded_share()))
        .where(Redemption.campaign_id.in_(list(campaign_ids)), Redemption.status.in_(PAID))
        .group_by(Redemption.campaign_id)
    )
    return {campaign_id: int(spent or 0) for campaign_id, spent in rows.all() if campaign_id is not None}


async def _day_starts(session: AsyncSession) -> tuple[dt.date, list[dt.datetime]]:
    """The first day of the series and the UTC instants at which each of its days (and the day
    after the last) starts, in the shop's time zone."""
    tz = ZoneInfo((await shop.get_settings(session)).timezone)
    first_day = clock.now().astimezone(tz).date() - dt.timedelta(days=DAYS - 1)
    starts = [
        dt.datetime.combine(first_day + dt.timedelta(days=n), dt.time(), tzinfo=tz).astimezone(dt.UTC)
        for n in range(DAYS + 1)
    ]
    return first_day, starts


async def _report(
    session: AsyncSession,
    *,
    subject: str,
    subject_id: int,
    where: ColumnElement[bool],
    issued: int = 0,
    used: int = 0,
) -> PromotionReport:
    """The figures of the redemptions matching ``where``: per order first (an order counts once
    however many of the subject's promotions and coupons it used), then totals and days."""
    per_order = (
        select(
            Redemption.order_id,
            func.max(Redemption.order_goods_amount).label("goods"),
            func.sum(Redemption.discount_amount).label("discount"),
            func.max(Redemption.refunded_amount).label("refunded"),
            func.min(Redemption.created_at).label("placed_at"),
        )
        .where(where, Redemption.status.in_(PAID))
        .group_by(Redemption.order_id)
        .subquery()
    )
    orders, gmv, discount, refunded = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(per_order.c.goods), 0),
                func.coalesce(func.sum(per_order.c.discount), 0),
                func.coalesce(func.sum(per_order.c.refunded), 0),
            ).select_from(per_order)
        )
    ).one()
    first_day, starts = await _day_starts(session)
    placed_at = per_order.c.placed_at
    bucket = case(*[(placed_at < start, n) for n, start in enumerate(starts[1:])], else_=DAYS)
    per_day = (
        await session.execute(
            select(bucket.label("bucket"), func.count(), func.coalesce(func.sum(per_order.c.discount), 0))
            .select_from(per_order)
            .where(placed_at >= starts[0], placed_at < starts[-1])
            .group_by(bucket)
        )
    ).all()
    by_bucket = {int(row[0]): (int(row[1]), int(row[2])) for row in per_day}
    daily = tuple(
        DailyFigure(
            day=first_day + dt.timedelta(days=n),
            orders=by_bucket.get(n, (0, 0))[0],
            discount_amount=by_bucket.get(n, (0, 0))[1],
        )
        for n in range(DAYS)
    )
    return PromotionReport(
        subject=subject,
        subject_id=subject_id,
        issued=issued,
        used=used,
        orders=int(orders),
        gmv_amount=int(gmv),
        discount_amount=int(discount),
        refunded_amount=int(refunded),
        return_on_discount=return_on_discount(int(gmv), int(discount)),
        daily=daily,
    )


async def _coupon_counts(session: AsyncSession, where: ColumnElement[bool]) -> tuple[int, int]:
    """Coupons issued and used of the templates matching ``where`` (one query)."""
    used = (
        select(func.count())
        .select_from(Coupon)
        .where(Coupon.template_id == CouponTemplate.id, Coupon.status == str(CouponStatus.used))
        .correlate(CouponTemplate)
        .scalar_subquery()
    )
    issued, used_count = (
        await session.execute(
            select(
                func.coalesce(func.sum(CouponTemplate.issued_quantity), 0), func.coalesce(func.sum(used), 0)
            ).where(where)
        )
    ).one()
    return int(issued), int(used_count)


async def promotion_report(session: AsyncSession, *, promotion_id: int) -> PromotionReport:
    """Orders, GMV, discount cost and return on discount of one promotion.

    Raises:
        PromotionNotFound (404).
    """
    if await session.scalar(select(Promotion.id).where(Promotion.id == promotion_id)) is None:
        raise PromotionNotFound()
    return await _report(
        session, subject="promotion", subject_id=promotion_id, where=Redemption.promotion_id == promotion_id
    )


async def coupon_template_report(session: AsyncSession, *, template_id: int) -> PromotionReport:
    """Issued and used coupons, orders, GMV, discount cost and return on discount of a template.

    Raises:
        CouponTemplateNotFound (404).
    """
    if await session.scalar(select(CouponTemplate.id).where(CouponTemplate.id == template_id)) is None:
        raise CouponTemplateNotFound()
    issued, used = await _coupon_counts(session, CouponTemplate.id == template_id)
    return await _report(
        session,
        subject="coupon_template",
        subject_id=template_id,
        where=Redemption.coupon_template_id == template_id,
        issued=issued,
        used=used,
    )


async def campaign_report(session: AsyncSession, *, campaign_id: int) -> PromotionReport:
    """The campaign's promotions and coupons together: its templates' issued and used coupons,
    and its orders (each once), GMV, discount cost and return on discount.

    Raises:
        CampaignNotFound (404).
    """
    if await session.scalar(select(Campaign.id).where(Campaign.id == campaign_id)) is None:
        raise CampaignNotFound()
    issued, used = await _coupon_counts(session, CouponTemplate.campaign_id == campaign_id)
    return await _report(
        session,
        subject="campaign",
        subject_id=campaign_id,
        where=Redemption.campaign_id == campaign_id,
        issued=issued,
        used=used,
    )
