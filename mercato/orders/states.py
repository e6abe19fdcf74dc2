"""Order statuses and the transition table; only the named actions in service/ move them."""

from __future__ import annotations

from enum import StrEnum

from mercato.core.statemachine import TransitionTable


class OrderStatus(StrEnum):
    pending_payment = "pending_payment"  # placed, stock reserved, waiting for the money
    paid = "paid"  # paid in full; to be shipped
    partially_shipped = "partially_shipped"  # some sub-orders left the warehouse
    shipped = "shipped"  # every sub-order left
    delivered = "delivered"  # the carrier delivered it
    completed = "completed"  # closed after delivery (after-sales window)
    cancelled = "cancelled"  # not paid in time, or cancelled by the shopper or staff before payment
    closed = "closed"  # paid, then refunded in full before shipping


ORDER: TransitionTable[OrderStatus] = TransitionTable(
    "orders",
    {
        OrderStatus.pending_payment: frozenset({OrderStatus.paid, OrderStatus.cancelled}),
        OrderStatus.paid: frozenset({OrderStatus.partially_shipped, OrderStatus.shipped, OrderStatus.closed}),
        OrderStatus.partially_shipped: frozenset({OrderStatus.shipped}),
        OrderStatus.shipped: frozenset({OrderStatus.delivered}),
        OrderStatus.delivered: frozenset({OrderStatus.completed}),
    },
)


# A sub-order (one warehouse's part) follows the order until it ships; then it moves on its own
# and the order follows the slowest sub-order (partly shipped, shipped, delivered).
SUB_ORDER: TransitionTable[OrderStatus] = TransitionTable(
    "orders.sub_order",
    {
        OrderStatus.pending_payment: frozenset({OrderStatus.paid, OrderStatus.cancelled}),
        OrderStatus.paid: frozenset({OrderStatus.shipped, OrderStatus.closed}),
        OrderStatus.shipped: frozenset({OrderStatus.delivered}),
        OrderStatus.delivered: frozenset({OrderStatus.completed}),
    },
)


def sources(target: OrderStatus, table: TransitionTable[OrderStatus] = ORDER) -> list[str]:
    """The statuses an order (or sub-order) may move to ``target`` from (for conditional UPDATEs)."""
    return table.sources(target)
