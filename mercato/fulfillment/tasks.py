"""Private: fulfilment's jobs and schedules, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.jobs import broker
from mercato.fulfillment.service import exports
from mercato.fulfillment.service.tracking import subscribe_due_shipments


@broker.task(
    task_name="fulfillment.subscribe_tracking",
    schedule=[{"interval": 300, "schedule_id": "fulfillment-subscribe-tracking"}],
)
async def subscribe_tracking() -> int:
    """Subscribe parcels the tracker does not follow yet: new ones whose subscription after the
    commit failed, and ones the provider gave up on (idempotent: re-reads every shipment)."""
    return await subscribe_due_shipments(limit=100)


@broker.task(task_name="fulfillment.run_order_export")
async def run_order_export(export_id: int) -> bool:
    """Write a large order export (kicked when it is queued; idempotent by the export id)."""
    return await exports.run_order_export(export_id)


@broker.task(
    task_name="fulfillment.sweep_order_exports",
    schedule=[{"interval": 300, "schedule_id": "fulfillment-sweep-order-exports"}],
)
async def sweep_order_exports() -> int:
    """Delete expired export files; run exports whose kick was lost or whose worker died."""
    return await exports.sweep_order_exports(limit=100)
