"""Private: after-sales jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.aftersales.service.refunds import check_refunds as check_refunds_now
from mercato.core.db import uow
from mercato.core.jobs import broker


@broker.task(
    task_name="aftersales.check_refunds",
    schedule=[{"interval": 300, "schedule_id": "aftersales-check-refunds"}],
)
async def check_refunds() -> int:
    """Move requests whose refund the provider refused to refund_failed (payments sends no event
    for a refusal), and any confirmed refund not applied yet (idempotent)."""
    async with uow() as session:
        return await check_refunds_now(session)
