"""Private: order jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.orders.service.actions import cancel_unpaid_orders, complete_delivered_orders


@broker.task(
    task_name="orders.cancel_unpaid",
    schedule=[{"interval": 60, "schedule_id": "orders-cancel-unpaid"}],
)
async def cancel_unpaid() -> int:
    """Cancel unpaid orders past their deadline and free their stock (idempotent)."""
    async with uow() as session:
        return await cancel_unpaid_orders(session)


@broker.task(
    task_name="orders.complete_delivered",
    schedule=[{"interval": 3600, "schedule_id": "orders-complete-delivered"}],
)
async def complete_delivered() -> int:
    """Complete orders delivered ``order_auto_complete_days`` ago (idempotent)."""
    async with uow() as session:
        return await complete_delivered_orders(session)
