"""Private: payments' jobs and schedules, registered in mercato/worker.py."""

from __future__ import annotations

import asyncio

from mercato.core.jobs import broker
from mercato.payments.providers import sandbox
from mercato.payments.service.payments import close_expired_payments
from mercato.payments.service.refunds import resume_pending_refunds


@broker.task(
    task_name="payments.close_expired",
    schedule=[{"interval": 60, "schedule_id": "payments-close-expired"}],
)
async def close_expired() -> int:
    """Close pending payments past their expiry, at the provider first (idempotent)."""
    return await close_expired_payments(limit=200)


@broker.task(
    task_name="payments.resume_refunds",
    schedule=[{"interval": 300, "schedule_id": "payments-resume-refunds"}],
)
async def resume_refunds() -> int:
    """Send refunds a crash or an unreachable provider left pending (idempotent per refund)."""
    return await resume_pending_refunds(limit=100)


@broker.task(task_name="payments.send_sandbox_notifications")
async def send_sandbox_notifications(
    trade_id: str, delay_seconds: int = 0, duplicate: bool = False, out_of_order: bool = False
) -> list[int]:
    """The sandbox gateway notifying the shop of a trade's outcome (re-reads the trade)."""
    if delay_seconds > 0:
        await asyncio.sleep(min(delay_seconds, 60))
    return await sandbox.send_notifications(trade_id, duplicate=duplicate, out_of_order=out_of_order)
