"""Private: the social plays' jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.social.plays.bargain_buy import expire_due_bargains
from mercato.social.plays.bargain_offers import end_due_bargain_offers
from mercato.social.plays.flash import end_due_flash_sessions
from mercato.social.plays.flash_buy import reconcile_admission
from mercato.social.plays.group_buy import settle_due_groups
from mercato.social.plays.reminders import send_due_reminders


@broker.task(task_name="social.flash", schedule=[{"interval": 30, "schedule_id": "social-flash"}])
async def flash_upkeep() -> dict[str, int]:
    """Flash sales' upkeep, each step in its own transaction: remind those who asked that a
    session starts, end sessions past their end (unsold quota back to stock), and set admission's
    counts to the database's (so a Redis restart or a lost update heals within 30 seconds)."""
    async with uow() as session:
        reminded = await send_due_reminders(session)
    async with uow() as session:
        ended = await end_due_flash_sessions(session)
    async with uow(write=False) as session:
        synced = await reconcile_admission(session)
    return {"reminded": reminded, "ended": ended, "synced": synced}


@broker.task(task_name="social.groups", schedule=[{"interval": 60, "schedule_id": "social-groups"}])
async def group_upkeep() -> dict[str, int]:
    """Groups whose time ran out fail with every paying member refunded (or complete, with
    模拟成团), and the sweep refunds anyone left paid in a group that is over."""
    return await settle_due_groups()


@broker.task(task_name="social.bargain", schedule=[{"interval": 60, "schedule_id": "social-bargain"}])
async def bargain_upkeep() -> dict[str, int]:
    """Bargaining's upkeep, each step in its own transaction: bargains whose time ran out before
    an order expire, and offers past their end stop taking new bargains."""
    async with uow() as session:
        expired = await expire_due_bargains(session)
    async with uow() as session:
        ended = await end_due_bargain_offers(session)
    return {"expired": expired, "ended": ended}
