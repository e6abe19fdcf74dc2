"""Promotions factories: promotions made and published through the real services, coupon
templates and wallet coupons written as rows (each in its own committed unit of work), and
pricing lines to quote."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from sqlalchemy import func, select

from mercato import pricing, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.promotions.models import Coupon, CouponHolding, CouponTemplate, CustomerStat
from tests.factories.identity import SYSTEM

_numbers = itertools.count(1)
CONTEXT = pricing.PricingContext(currency="CNY")


def line(
    key: str,
    *,
    price: int,
    quantity: int = 1,
    sku_id: int | None = None,
    product_id: int | None = None,
    category_ids: tuple[int, ...] = (),
    brand_id: int | None = None,
) -> pricing.LineIn:
    """A line of ``quantity`` units at ``price`` (SKU and product ids made up unless given)."""
    n = next(_numbers)
    return pricing.LineIn(
        key=key,
        sku_id=sku_id if sku_id is not None else 10_000 + n,
        product_id=product_id if product_id is not None else 20_000 + n,
        category_ids=category_ids,
        brand_id=brand_id,
        quantity=quantity,
        unit_price_amount=price,
    )


def reduction(
    *tiers: tuple[int, int], repeat: bool = False, cap: int | None = None
) -> promotions.FullReductionRule:
    """满减 from (threshold, amount off) pairs."""
    return promotions.FullReductionRule(
        tiers=tuple(promotions.ReductionTier(threshold_amount=t, amount_off=a) for t, a in tiers),
        repeat=repeat,
        cap_amount=cap,
    )


def write(rule: Any, **fields: Any) -> promotions.PromotionWrite:
    """The write of a promotion running from an hour ago for a day unless told otherwise."""
    now = clock.now()
    values: dict[str, Any] = {
        "name": f"促销{next(_numbers)}",
        "starts_at": now - dt.timedelta(hours=1),
        "ends_at": now + dt.timedelta(days=1),
        **fields,
    }
    return promotions.PromotionWrite(rule=rule, **values)


async def make_promotion(rule: Any, *, publish: bool = True, **fields: Any) -> promotions.PromotionRead:
    """A promotion (published unless ``publish=False``); ``fields`` as in ``PromotionWrite``."""
    async with uow() as session:
        made = await promotions.create_promotion(session, data=write(rule, **fields), actor=SYSTEM)
    if not publish:
        return made
    async with uow() as session:
        return await promotions.publish_promotion(session, promotion_id=made.id, actor=SYSTEM)


async def make_coupon_template(
    kind: promotions.CouponKind = promotions.CouponKind.amount, **fields: Any
) -> int:
    """An active coupon template row (claimable, 100 of them, valid for a week unless told)."""
    now = clock.now()
    values: dict[str, Any] = {
        "name": f"券{next(_numbers)}",
        "kind": str(kind),
        "status": str(promotions.CouponTemplateStatus.active),
        "amount_off": 0,
        "min_spend_amount": 0,
        "scope": promotions.Scope().model_dump(mode="json"),
        "channels": [],
        "total_quantity": 100,
        "issued_quantity": 0,
        "per_customer_limit": 1,
        "valid_from": now - dt.timedelta(hours=1),
        "valid_until": now + dt.timedelta(days=7),
        "claimable": True,
        "issue_on": "",
        "return_on_refund": True,
        "created_at": now,
        "updated_at": now,
        **fields,
    }
    if isinstance(values["scope"], promotions.Scope):
        values["scope"] = values["scope"].model_dump(mode="json")
    async with uow() as session:
        row = CouponTemplate(**values)
        session.add(row)
        await session.flush()
        return row.id


async def give_coupon(
    customer_id: int,
    template_id: int,
    *,
    valid_from: dt.datetime | None = None,
    valid_until: dt.datetime | None = None,
    status: promotions.CouponStatus = promotions.CouponStatus.unused,
) -> int:
    """A coupon of the template in the customer's wallet (valid from an hour ago for a week)."""
    now = clock.now()
    async with uow() as session:
        row = Coupon(
            template_id=template_id,
            customer_id=customer_id,
            status=str(status),
            source=str(promotions.CouponSource.staff),
            issue_key=f"test:{next(_numbers)}",
            valid_from=valid_from or now - dt.timedelta(hours=1),
            valid_until=valid_until or now + dt.timedelta(days=7),
            issued_at=now,
            updated_at=now,
        )
        session.add(row)
        await session.flush()
        return row.id


async def coupon(
    customer_id: int, kind: promotions.CouponKind = promotions.CouponKind.amount, **terms: Any
) -> int:
    """A new template with ``terms`` and one coupon of it in the customer's wallet: its id."""
    return await give_coupon(customer_id, await make_coupon_template(kind, **terms))


async def set_paid_orders(customer_id: int, paid_orders: int) -> None:
    async with uow() as session:
        session.add(CustomerStat(customer_id=customer_id, paid_orders=paid_orders))


# -- coupons: templates through the real services, and their counters --------------------------


def template_write(**fields: Any) -> promotions.CouponTemplateWrite:
    """A ¥10-off template write: 100 of them, one per customer, valid for 7 days after issuing."""
    values: dict[str, Any] = {
        "name": f"券{next(_numbers)}",
        "kind": promotions.CouponKind.amount,
        "amount_off": 1000,
        "total_quantity": 100,
        "valid_days": 7,
        **fields,
    }
    return promotions.CouponTemplateWrite(**values)


async def published_template(**fields: Any) -> promotions.CouponTemplateRead:
    """A template made and published through the services; ``fields`` as in ``template_write``."""
    async with uow() as session:
        made = await promotions.create_coupon_template(session, data=template_write(**fields), actor=SYSTEM)
        return await promotions.publish_coupon_template(session, template_id=made.id, actor=SYSTEM)


async def coupon_counts(template_id: int) -> tuple[int, int, int]:
    """(the template's issued quantity, coupons of it, holdings' received total)."""
    async with uow(write=False) as session:
        issued = await session.scalar(
            select(CouponTemplate.issued_quantity).where(CouponTemplate.id == template_id)
        )
        coupons = await session.scalar(
            select(func.count()).select_from(Coupon).where(Coupon.template_id == template_id)
        )
        received = await session.scalar(
            select(func.coalesce(func.sum(CouponHolding.received), 0)).where(
                CouponHolding.template_id == template_id
            )
        )
    return int(issued or 0), int(coupons or 0), int(received or 0)
