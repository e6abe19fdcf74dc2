"""Private: inventory's scheduled jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.inventory.service.reservations import expire_reservations


@broker.task(
    task_name="inventory.expire_reservations",
    schedule=[{"interval": 60, "schedule_id": "inventory-expire-reservations"}],
)
async def expire_due_reservations() -> int:
    """Give back holds past their expiry, in batches of 500 (idempotent: re-reads state)."""
    async with uow() as session:
        return await expire_reservations(session, limit=500)
