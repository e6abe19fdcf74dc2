"""Private: order jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.core.db import uow
from mercato.core.jobs import broker
from mercato.orders.service.actions import complete_delivered_orders

# The ``orders-cancel-unpaid`` job lives in checkout/tasks.py: cancelling an unpaid order also
# closes its payment in the same transaction, and only checkout sees both domains.


@broker.task(
    task_name="orders.complete_delivered",
    schedule=[{"interval": 3600, "schedule_id": "orders-complete-delivered"}],
)
async def complete_delivered() -> int:
    """Complete orders delivered ``order_auto_complete_days`` ago (idempotent)."""
    async with uow() as session:
        return await complete_delivered_orders(session)
