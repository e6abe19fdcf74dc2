"""Reports from redemption rows: paid orders only, each order once, discount cost, refunds,
return on discount, the daily series in the shop's time zone; a campaign's spent amount and the
budget job that pauses its promotions."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select

from mercato import identity, promotions
from mercato.core import clock
from mercato.core.db import uow
from mercato.promotions.campaigns.jobs import enforce_budgets
from mercato.promotions.campaigns.reports import return_on_discount
from mercato.promotions.models import Redemption, StatusChange

ACTOR = identity.Actor(staff_id=None, label="ops@example.com")
DAY = dt.timedelta(days=1)


async def redeem(order_id: int, code: str, status: str, discount: int, **fields: Any) -> None:
    now = clock.now()
    values: dict[str, Any] = {
        "order_id": order_id,
        "customer_id": 1,
        "code": code,
        "discount_amount": discount,
        "order_goods_amount": 20_000,
        "order_total_amount": 20_000,
        "status": status,
        "refunded_amount": 0,
        "created_at": now,
        "updated_at": now,
    }
    async with uow() as session:
        session.add(Redemption(**(values | fields)))


async def setup() -> tuple[int, int, int]:
    now = clock.now()
    async with uow() as session:
        campaign = await promotions.create_campaign(
            session,
            data=promotions.CampaignWrite(
                name="双12", slug="double-12", starts_at=now - DAY, ends_at=now + DAY, budget_amount=3_000
            ),
            actor=ACTOR,
        )
        await promotions.publish_campaign(session, campaign_id=campaign.id, actor=ACTOR)
        promotion = await promotions.create_promotion(
            session,
            data=promotions.PromotionWrite.model_validate(
                {
                    "name": "满 199 减 20",
                    "rule": {
                        "kind": "full_reduction",
                        "tiers": [{"threshold_amount": 19_900, "amount_off": 2_000}],
                    },
                    "starts_at": now - DAY,
                    "ends_at": now + DAY,
                    "campaign_id": campaign.id,
                }
            ),
            actor=ACTOR,
        )
        await promotions.publish_promotion(session, promotion_id=promotion.id, actor=ACTOR)
        template = await promotions.create_coupon_template(
            session,
            data=promotions.CouponTemplateWrite(
                name="¥10 无门槛",
                kind=promotions.CouponKind.amount,
                amount_off=1_000,
                total_quantity=50,
                valid_days=7,
                campaign_id=campaign.id,
            ),
            actor=ACTOR,
        )
    return campaign.id, promotion.id, template.id


async def test_reports_count_paid_orders_once_with_cost_refunds_and_days() -> None:
    campaign_id, promotion_id, template_id = await setup()
    p = {"promotion_id": promotion_id, "campaign_id": campaign_id}
    t = {"coupon_template_id": template_id, "campaign_id": campaign_id}
    await redeem(1, f"promotion:{promotion_id}", "paid", 2_000, **p)
    await redeem(1, "coupon:11", "paid", 1_000, **t)  # the same order: counted once by the campaign
    await redeem(
        2,
        f"promotion:{promotion_id}",
        "refunded",
        2_000,
        refunded_amount=20_000,
        order_goods_amount=30_000,
        **p,
    )
    await redeem(3, f"promotion:{promotion_id}", "placed", 2_000, **p)  # not paid
    await redeem(4, f"promotion:{promotion_id}", "cancelled", 2_000, **p)
    await redeem(5, f"promotion:{promotion_id}", "paid", 2_000, created_at=clock.now() - 2 * DAY, **p)
    await redeem(6, f"promotion:{promotion_id}", "paid", 2_000, created_at=clock.now() - 40 * DAY, **p)

    async with uow(write=False) as session:
        by_promotion = await promotions.promotion_report(session, promotion_id=promotion_id)
        by_template = await promotions.coupon_template_report(session, template_id=template_id)
        by_campaign = await promotions.campaign_report(session, campaign_id=campaign_id)

    assert (by_promotion.orders, by_promotion.gmv_amount, by_promotion.discount_amount) == (4, 90_000, 8_000)
    assert by_promotion.refunded_amount == 20_000
    assert by_promotion.return_on_discount == "11.25"
    assert len(by_promotion.daily) == 30
    assert (by_promotion.daily[-1].orders, by_promotion.daily[-1].discount_amount) == (
        2,
        4_000,
    )  # orders 1 and 2 today (order 6 is too old)
    assert (by_promotion.daily[-3].orders, by_promotion.daily[-3].discount_amount) == (1, 2_000)
    assert sum(d.orders for d in by_promotion.daily) == 3
    today = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    assert by_promotion.daily[-1].day == today

    assert (by_template.orders, by_template.gmv_amount, by_template.discount_amount) == (1, 20_000, 1_000)
    assert (by_template.issued, by_template.used) == (0, 0)
    assert by_template.return_on_discount == "20.00"

    assert (by_campaign.orders, by_campaign.gmv_amount, by_campaign.discount_amount) == (4, 90_000, 9_000)
    assert by_campaign.return_on_discount == "10.00"


async def test_spent_takes_off_the_refunded_share_and_the_budget_job_pauses_the_promotions() -> None:
    campaign_id, promotion_id, template_id = await setup()
    p = {"promotion_id": promotion_id, "campaign_id": campaign_id}
    await redeem(1, f"promotion:{promotion_id}", "paid", 2_000, refunded_amount=5_000, **p)  # a quarter back
    async with uow() as session:
        assert (await promotions.get_campaign(session, campaign_id=campaign_id)).spent_amount == 1_500
        assert await enforce_budgets(session) == []  # 1,500 of 3,000

    await redeem(2, f"promotion:{promotion_id}", "paid", 2_000, **p)
    async with uow() as session:
        assert (await promotions.get_campaign(session, campaign_id=campaign_id)).spent_amount == 3_500
        assert await enforce_budgets(session) == [campaign_id]
    async with uow() as session:
        assert await enforce_budgets(session) == [campaign_id]  # idempotent: nothing more moves
        promotion = await promotions.get_promotion(session, promotion_id=promotion_id)
        template = await promotions.get_coupon_template(session, template_id=template_id)
        reasons = (
            await session.execute(
                select(
                    StatusChange.subject,
                    StatusChange.from_status,
                    StatusChange.to_status,
                    StatusChange.reason,
                ).where(StatusChange.reason == "campaign budget reached")
            )
        ).all()
    assert promotion.status == "paused"
    assert template.status == "draft"  # never published: nothing to pause
    assert [tuple(r) for r in reasons] == [("promotion", "active", "paused", "campaign budget reached")]


@pytest.mark.parametrize(
    ("gmv", "discount", "expected"),
    [(0, 0, "0"), (100, 0, "0"), (1_000, 300, "3.33"), (1_000, 400, "2.50"), (1, 8, "0.13")],
)
def test_return_on_discount_is_two_decimals_half_up(gmv: int, discount: int, expected: str) -> None:
    assert return_on_discount(gmv, discount) == expected


async def test_reports_of_unknown_subjects_are_not_found() -> None:
    async with uow(write=False) as session:
        with pytest.raises(promotions.PromotionNotFound):
            await promotions.promotion_report(session, promotion_id=9)
        with pytest.raises(promotions.CouponTemplateNotFound):
            await promotions.coupon_template_report(session, template_id=9)
        with pytest.raises(promotions.CampaignNotFound):
            await promotions.campaign_report(session, campaign_id=9)
