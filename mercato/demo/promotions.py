"""Demo promotions: a running 双12 campaign with its landing page, 满减, a timed discount ending
in a few days, 第二件半价 on a category and 满 99 包邮; a second campaign in pre-heat; claimable
coupons, a 新人礼包 issued on registration, two coupons in the demo shopper's wallet (one
expiring within a day) and a batch of redeemable codes.

Everything goes through the promotions services as staff and shoppers would (so the audit log,
status history, live set and wallet are real). Skipped once the 双12 campaign exists. Times are
relative to the first run, so the campaign is running when the demo is first served.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mercato import catalog, content, identity, promotions
from mercato.core import clock

ACTOR = identity.Actor(staff_id=None, label="demo")
SLUG = "double-12"
PREHEAT_SLUG = "new-year"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)


async def _campaign(session: AsyncSession, **fields: Any) -> promotions.CampaignRead:
    campaign = await promotions.create_campaign(
        session, data=promotions.CampaignWrite.model_validate(fields), actor=ACTOR
    )
    return await promotions.publish_campaign(session, campaign_id=campaign.id, actor=ACTOR)


async def _promotion(session: AsyncSession, **fields: Any) -> promotions.PromotionRead:
    promotion = await promotions.create_promotion(
        session, data=promotions.PromotionWrite.model_validate(fields), actor=ACTOR
    )
    return await promotions.publish_promotion(session, promotion_id=promotion.id, actor=ACTOR)


async def _template(session: AsyncSession, **fields: Any) -> promotions.CouponTemplateRead:
    template = await promotions.create_coupon_template(
        session, data=promotions.CouponTemplateWrite.model_validate(fields), actor=ACTOR
    )
    return await promotions.publish_coupon_template(session, template_id=template.id, actor=ACTOR)


async def seed_promotions(session: AsyncSession, *, shopper_phone: str) -> list[str]:
    """Create the demo promotions once (see the module docstring); nothing without products on
    sale."""
    if (await promotions.list_campaigns(session, limit=1)).items:
        return []  # made already (or the shop has campaigns of its own)
    cards = (await catalog.list_storefront_products(session, page_size=12)).items
    if len(cards) < 4:
        return []
    now = clock.now()
    banners = await content.list_live_banners(session, limit=1)
    blocks: list[dict[str, Any]] = []
    if banners:
        blocks.append(
            {"kind": "banner", "image_url": banners[0].image_url, "link": "/", "alt": "双12 年终盛典"}
        )
    blocks += [
        {"kind": "products", "title": "爆款直降", "product_ids": [c.id for c in cards[:6]]},
        {"kind": "products", "title": "凑单好物", "product_ids": [c.id for c in cards[6:12] or cards[:4]]},
    ]
    running = await _campaign(
        session,
        name="双12 年终盛典",
        slug=SLUG,
        description="满 199 减 20，满 399 减 50；限时折扣、第二件半价、满 99 包邮",
        starts_at=now - DAY,
        ends_at=now + 6 * DAY,
        budget_amount=5_000_000,
        blocks=blocks,
    )
    in_campaign = {"campaign_id": running.id, "starts_at": now - DAY, "ends_at": running.ends_at}
    await _promotion(
        session,
        name="双12 满 199 减 20，满 399 减 50",
        rule={
            "kind": "full_reduction",
            "tiers": [
                {"threshold_amount": 19_900, "amount_off": 2_000},
                {"threshold_amount": 39_900, "amount_off": 5_000},
            ],
        },
        **in_campaign,
    )
    timed_skus = [
        sku.id for card in cards[:3] for sku in (await catalog.list_skus(session, product_id=card.id))[:1]
    ]
    await _promotion(
        session,
        name="限时折扣 8 折",
        rule={"kind": "timed_discount", "items": [{"sku_id": s, "percent_off": 20} for s in timed_skus]},
        **(in_campaign | {"ends_at": now + 3 * DAY}),
    )
    await _promotion(
        session,
        name="第二件半价",
        rule={"kind": "nth_discount", "nth": 2, "percent_off": 50},
        scope={"all_goods": False, "category_ids": [cards[3].category_id]},
        **in_campaign,
    )
    await _promotion(
        session,
        name="满 99 包邮",
        rule={"kind": "free_shipping", "threshold_amount": 9_900},
        **in_campaign,
    )
    coupons = {"campaign_id": running.id, "total_quantity": 10_000}
    no_threshold = await _template(
        session, name="¥10 无门槛券", kind="amount", amount_off=1_000, valid_days=1, **coupons
    )
    over_200 = await _template(
        session,
        name="满 200 减 30",
        kind="amount",
        amount_off=3_000,
        min_spend_amount=20_000,
        valid_days=7,
        **coupons,
    )
    await _template(
        session,
        name="全场 9 折券（最高减 ¥50）",
        kind="percent",
        percent_off=10,
        max_discount_amount=5_000,
        valid_days=7,
        **coupons,
    )
    await _template(
        session,
        name="新人礼包 满 99 减 20",
        kind="amount",
        amount_off=2_000,
        min_spend_amount=9_900,
        valid_days=14,
        total_quantity=100_000,
        claimable=False,
        issue_on="registration",
    )
    codes = await _template(
        session,
        name="兑换码 ¥20 券",
        kind="amount",
        amount_off=2_000,
        min_spend_amount=10_000,
        valid_days=30,
        total_quantity=1_000,
        claimable=False,
    )
    await promotions.start_code_batch(session, template_id=codes.id, count=50, actor=ACTOR)

    upcoming = await _campaign(
        session,
        name="新春年货节",
        slug=PREHEAT_SLUG,
        description="年货提前看，开抢享 85 折",
        preheat_starts_at=now - HOUR,
        starts_at=now + 3 * DAY,
        ends_at=now + 10 * DAY,
        blocks=[{"kind": "products", "title": "年货清单", "product_ids": [c.id for c in cards[4:10]]}],
    )
    await _promotion(
        session,
        name="年货节 85 折",
        rule={"kind": "timed_discount", "items": [{"sku_id": s, "percent_off": 15} for s in timed_skus]},
        campaign_id=upcoming.id,
        starts_at=upcoming.starts_at,
        ends_at=upcoming.ends_at,
    )

    shopper = (await identity.match_customers(session, term=shopper_phone)).customer_ids
    wallet = ""
    if shopper:
        for template in (no_threshold, over_200):
            await promotions.claim_coupon(session, template_id=template.id, customer_id=shopper[0])
        wallet = ", 2 coupons in the demo shopper's wallet (one expiring within a day)"
    return [
        "campaign 双12 年终盛典 running (满减, timed discount, 第二件半价, 满 99 包邮), "
        f"新春年货节 in pre-heat, 5 coupon templates, 50 redeemable codes{wallet}"
    ]
