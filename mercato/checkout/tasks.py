"""Private: checkout's jobs, registered in mercato/worker.py."""

from __future__ import annotations

from mercato.checkout.service import cancel_unpaid_orders
from mercato.core.jobs import broker


@broker.task(
    task_name="orders.cancel_unpaid",
    schedule=[{"interval": 60, "schedule_id": "orders-cancel-unpaid"}],
)
async def cancel_unpaid() -> int:
    """Cancel unpaid orders past their deadline: free their stock and close their payments in the
    same transaction (idempotent). The task keeps the orders name operators know; it lives here
    because only checkout sees both orders and payments."""
    return await cancel_unpaid_orders(limit=200)
