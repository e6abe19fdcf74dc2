"""What orders tell promotions: a coupon locked with the placed order and released, used or
returned with it; redemptions recorded for the reports; customer facts kept for conditions and
automatic issuance.

Orders call these in their own transactions (``commit_to_order`` in the placement's, the others
from their event handlers, which run at least once), so each is harmless to repeat: every move
is one conditional UPDATE from the statuses ``states.COUPON`` allows, recorded with the order in
``promotions_coupon_status_change``; redemptions are inserted once per (order, code).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.core import clock
from mercato.core.db import insert_ignore
from mercato.promotions.coupons.issuance import issue_for_trigger
from mercato.promotions.coupons.issue import record_moves
from mercato.promotions.errors import CouponUnavailable
from mercato.promotions.models import Coupon, CouponTemplate, CustomerStat, Promotion, Redemption
from mercato.promotions.schemas import CouponStatus, IssueTrigger, Quote
from mercato.promotions.states import COUPON

K = CouponStatus


async def commit_to_order(
    session: AsyncSession, *, order_id: int, customer_id: int, quote: Quote, now: dt.datetime
) -> None:
    """In the placement's transaction: lock the quote's coupon for the order (one conditional
    UPDATE; CouponUnavailable when another checkout took it, so the placement rolls back) and
    record a redemption per applied promotion and coupon.

    Raises:
        CouponUnavailable (409): the coupon is not this customer's unused coupon valid now.
    """
    if quote.coupon_id is not None:
        await _lock(session, coupon_id=quote.coupon_id, order_id=order_id, customer_id=customer_id, now=now)
    discounts: dict[str, int] = defaultdict(int)
    for adjustment in quote.result.adjustments:
        kind, _, ident = adjustment.code.partition(":")
        if kind in ("promotion", "coupon") and ident.isdigit():
            discounts[adjustment.code] += adjustment.amount
    if not discounts:
        return
    ids = {code: int(code.partition(":")[2]) for code in discounts}
    promotion_ids = [i for c, i in ids.items() if c.startswith("promotion:")]
    query = select(Promotion.id, Promotion.campaign_id).where(Promotion.id.in_(promotion_ids))
    promotions = {row.id: row.campaign_id for row in await session.execute(query)}
    coupons = {
        cid: (template_id, campaign)
        for cid, template_id, campaign in await session.execute(
            select(Coupon.id, Coupon.template_id, CouponTemplate.campaign_id)
            .join(CouponTemplate, CouponTemplate.id == Coupon.template_id)
            .where(Coupon.id.in_([i for c, i in ids.items() if c.startswith("coupon:")]))
        )
    }
    for code, amount in sorted(discounts.items()):
        number = ids[code]
        promotion_id: int | None = None
        template_id: int | None = None
        campaign_id: int | None = None
        if code.startswith("promotion:"):
            promotion_id, campaign_id = number, promotions.get(number)
        elif number in coupons:
            template_id, campaign_id = coupons[number]
        await insert_ignore(
            session,
            Redemption.__table__,
            {
                "order_id": order_id,
                "customer_id": customer_id,
                "code": code,
                "promotion_id": promotion_id,
                "coupon_template_id": template_id,
                "campaign_id": campaign_id,
                "discount_amount": amount,
                "order_goods_amount": quote.result.goods_amount,
                "order_total_amount": quote.result.total_amount,
                "status": "placed",
                "refunded_amount": 0,
                "created_at": now,
                "updated_at": now,
            },
        )


async def _lock(
    session: AsyncSession, *, coupon_id: int, order_id: int, customer_id: int, now: dt.datetime
) -> None:
    locked = (
        await session.execute(
            update(Coupon)
            .where(
                Coupon.id == coupon_id,
                Coupon.customer_id == customer_id,
                Coupon.status.in_(COUPON.sources(K.locked)),
                Coupon.valid_from <= now,
                Coupon.valid_until > now,
            )
            .values(status=str(K.locked), order_id=order_id, locked_at=now, updated_at=now)
            .returning(Coupon.id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if locked is not None:
        await record_moves(
            session,
            [coupon_id],
            from_status=K.unused,
            to_status=K.locked,
            reason="placed",
            now=now,
            order_id=order_id,
        )
        return
    held = (
        await session.execute(select(Coupon.order_id, Coupon.status).where(Coupon.id == coupon_id))
    ).one_or_none()
    if held is None or held.order_id != order_id or held.status not in (K.locked, K.used):
        raise CouponUnavailable()


async def _release(
    session: AsyncSession,
    *,
    order_id: int,
    from_status: CouponStatus,
    reason: str,
    now: dt.datetime,
    returned_only: bool = False,
) -> None:
    """The order's coupons in ``from_status`` back to the wallet, or expired when past their end."""
    for target, still_valid in ((K.unused, True), (K.expired, False)):
        query = update(Coupon).where(
            Coupon.order_id == order_id,
            Coupon.status == str(from_status),
            Coupon.status.in_(COUPON.sources(target)),
            Coupon.valid_until > now if still_valid else Coupon.valid_until <= now,
        )
        if returned_only:  # a refund returns only coupons whose template says so
            query = query.where(
                Coupon.template_id.in_(
                    select(CouponTemplate.id).where(CouponTemplate.return_on_refund.is_(True))
                )
            )
        moved = list(
            (
                await session.execute(
                    query.values(
                        status=str(target), order_id=None, locked_at=None, used_at=None, updated_at=now
                    )
                    .returning(Coupon.id)
                    .execution_options(synchronize_session=False)
                )
            ).scalars()
        )
        await record_moves(
            session,
            moved,
            from_status=from_status,
            to_status=target,
            reason=reason,
            now=now,
            order_id=order_id,
        )


async def on_order_paid(
    session: AsyncSession, *, order_id: int, customer_id: int, paid_at: dt.datetime
) -> None:
    """The locked coupon becomes used; redemptions paid; the customer's paid orders counted (and
    the first-order coupons issued).

    The count moves only for a payment later than the last one counted (``last_paid_at``), so a
    repeated call for the same payment changes nothing (ADR 0034).
    """
    now = clock.now()
    used = list(
        (
            await session.execute(
                update(Coupon)
                .where(
                    Coupon.order_id == order_id,
                    Coupon.status.in_(COUPON.sources(K.used)),
                    Coupon.status == str(K.locked),
                )
                .values(status=str(K.used), used_at=paid_at, updated_at=now)
                .returning(Coupon.id)
                .execution_options(synchronize_session=False)
            )
        ).scalars()
    )
    await record_moves(
        session, used, from_status=K.locked, to_status=K.used, reason="paid", now=now, order_id=order_id
    )
    await session.execute(
        update(Redemption)
        .where(Redemption.order_id == order_id, Redemption.status == "placed")
        .values(status="paid", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    await insert_ignore(
        session, CustomerStat.__table__, {"customer_id": customer_id, "paid_orders": 0, "last_paid_at": None}
    )
    paid_orders = (
        await session.execute(
            update(CustomerStat)
            .where(
                CustomerStat.customer_id == customer_id,
                (CustomerStat.last_paid_at.is_(None)) | (CustomerStat.last_paid_at < paid_at),
            )
            .values(paid_orders=CustomerStat.paid_orders + 1, last_paid_at=paid_at)
            .returning(CustomerStat.paid_orders)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if paid_orders == 1:
        await issue_for_trigger(
            session,
            trigger=IssueTrigger.first_order,
            customer_id=customer_id,
            key=f"first_order:{customer_id}",
        )


async def on_order_cancelled(session: AsyncSession, *, order_id: int) -> None:
    """The locked coupon goes back to the wallet (or expires if past its end); redemptions cancelled."""
    now = clock.now()
    await _release(session, order_id=order_id, from_status=K.locked, reason="cancelled", now=now)
    await session.execute(
        update(Redemption)
        .where(Redemption.order_id == order_id, Redemption.status == "placed")
        .values(status="cancelled", updated_at=now)
        .execution_options(synchronize_session=False)
    )


async def on_order_refunded(
    session: AsyncSession, *, order_id: int, refunded_amount: int, fully: bool
) -> None:
    """Redemptions count the refund; on a full refund a used coupon returns per its template's rule.

    ``refunded_amount`` is the order's refunded total so far (set, not added: a repeat is harmless).
    """
    now = clock.now()
    values: dict[str, object] = {"refunded_amount": refunded_amount, "updated_at": now}
    if fully:
        values["status"] = "refunded"
    await session.execute(
        update(Redemption)
        .where(Redemption.order_id == order_id, Redemption.status.in_(("paid", "refunded")))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if fully:
        await _release(
            session, order_id=order_id, from_status=K.used, reason="refunded", now=now, returned_only=True
        )


async def on_order_delivered(session: AsyncSession, *, order_id: int, customer_id: int) -> None:
    """Repurchase coupons (IssueTrigger.repurchase), once per order."""
    await issue_for_trigger(
        session, trigger=IssueTrigger.repurchase, customer_id=customer_id, key=f"repurchase:{order_id}"
    )
