"""Private: promotions' jobs and schedules, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.promotions.campaigns.jobs import enforce_budgets
from mercato.promotions.coupons import runs


@broker.task(task_name="promotions.run_issue")
async def run_issue(run_id: int) -> bool:
    """Issue a bulk run's coupons or generate a batch's codes (kicked when queued; idempotent by
    the run's progress and issue keys)."""
    return await runs.run_issue(run_id)


@broker.task(
    task_name="promotions.resume_issue_runs",
    schedule=[{"interval": 300, "schedule_id": "promotions-resume-issue-runs"}],
)
async def resume_issue_runs() -> int:
    """Run the issue runs whose kick was lost or whose worker died."""
    return await runs.resume_issue_runs()


@broker.task(
    task_name="promotions.expire_coupons",
    schedule=[{"interval": 600, "schedule_id": "promotions-expire-coupons"}],
)
async def expire_coupons() -> int:
    """Unused coupons past their end become expired."""
    return await runs.expire_coupons()


@broker.task(
    task_name="promotions.remind_expiring",
    schedule=[{"interval": 900, "schedule_id": "promotions-remind-expiring"}],
)
async def remind_expiring() -> int:
    """Record a reminder event for each coupon ending within 24 hours (once per coupon)."""
    return await runs.remind_expiring()


@broker.task(
    task_name="promotions.win_back",
    schedule=[{"interval": 86400, "schedule_id": "promotions-win-back"}],
)
async def win_back() -> int:
    """回归券: win-back coupons for customers silent for 30 days (once per silent spell)."""
    return await runs.win_back()


# -- campaigns --


@broker.task(
    task_name="promotions.enforce_campaign_budgets",
    schedule=[{"interval": 300, "schedule_id": "promotions-enforce-campaign-budgets"}],
)
async def enforce_campaign_budgets() -> int:
    """Pause the promotions and coupon templates of campaigns that have spent their budget
    (within one run of this job of the spending: see campaigns/jobs.py)."""
    async with uow() as session:
        return len(await enforce_budgets(session))
