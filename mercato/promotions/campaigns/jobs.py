"""Private: the campaign budget job — a campaign that has spent its budget has its promotions
paused and its coupon templates paused (no new coupons), each recorded with the reason.

The budget is enforced within one run of the job, not at the moment of payment: orders paid
between two runs may take a campaign past its budget by what they were given (see
docs/operations.md). Coupons already in wallets stay usable.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mercato import identity
from mercato.core import clock
from mercato.promotions.campaigns.reports import spent_amounts
from mercato.promotions.campaigns.service import move_members
from mercato.promotions.models import Campaign, CouponTemplate, Promotion
from mercato.promotions.rules.live import invalidate
from mercato.promotions.schemas import CampaignStatus, CouponTemplateStatus, PromotionStatus

#: Who the job's status changes name.
SYSTEM = identity.Actor(staff_id=None, label="system")
#: Why a campaign's promotions and templates were paused.
BUDGET_REACHED = "campaign budget reached"


async def enforce_budgets(session: AsyncSession) -> list[int]:
    """Pause the live promotions and active coupon templates of every published, unended
    campaign whose spent amount has reached its budget; return those campaigns' ids (idempotent:
    what is paused already is left alone)."""
    now = clock.now()
    budgets = dict(
        (
            await session.execute(
                select(Campaign.id, Campaign.budget_amount).where(
                    Campaign.status == str(CampaignStatus.published),
                    Campaign.budget_amount.is_not(None),
                    Campaign.ends_at > now,
                )
            )
        ).all()
    )
    spent = await spent_amounts(session, campaign_ids=list(budgets))
    over = sorted(
        cid for cid, budget in budgets.items() if budget is not None and spent.get(cid, 0) >= budget
    )
    if not over:
        return []
    paused = await move_members(
        session,
        model=Promotion,
        subject="promotion",
        sources=[str(PromotionStatus.active)],
        target=str(PromotionStatus.paused),
        where=Promotion.campaign_id.in_(over),
        actor=SYSTEM,
        reason=BUDGET_REACHED,
    )
    await move_members(
        session,
        model=CouponTemplate,
        subject="coupon_template",
        sources=[str(CouponTemplateStatus.active)],
        target=str(CouponTemplateStatus.paused),
        where=CouponTemplate.campaign_id.in_(over),
        actor=SYSTEM,
        reason=BUDGET_REACHED,
    )
    if paused:
        await invalidate(session)
    return over
