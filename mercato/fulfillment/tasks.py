"""Private: fulfilment's jobs and schedules, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.jobs import broker
from mercato.fulfillment.service.tracking import subscribe_due_shipments


@broker.task(
    task_name="fulfillment.subscribe_tracking",
    schedule=[{"interval": 300, "schedule_id": "fulfillment-subscribe-tracking"}],
)
async def subscribe_tracking() -> int:
    """Subscribe parcels the tracker does not follow yet: new ones whose subscription after the
    commit failed, and ones the provider gave up on (idempotent: re-reads every shipment)."""
    return await subscribe_due_shipments(limit=100)
