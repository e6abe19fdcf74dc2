"""Private: notification jobs and schedules, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.jobs import broker
from mercato.notify.service.emails import send_due_emails


@broker.task(
    task_name="notify.send_emails",
    schedule=[{"interval": 30, "schedule_id": "notify-send-emails"}],
)
async def send_emails() -> int:
    """Send due emails: new ones (kicked after each commit that queued one) and retries."""
    return await send_due_emails(limit=100)
