"""After-sales request statuses and the transition table; only the named actions in service/ move them.

::

    requested ─┬─► approved ─┬─► refunding (refund only) ─┬─► refunded ─► completed
               │      ▲      │        ▲                    └─► refund_failed ─► refunding (staff retry)
               │      │      └─► shipped_back ─► received ─┬─► refunding (return and refund)
               │      │          (return, exchange)        └─► replacement_shipped ─► completed (exchange)
               ├─► rejected ─► disputed ─┬─► approved (for the shopper, or the shop gives in)
               │      │                  └─► closed (for the shop)
               └──────┴─► cancelled (withdrawn by the shopper)

A request with nothing to refund (a free line) goes from approved or received straight to completed.
"""

from __future__ import annotations

from enum import StrEnum

from mercato.core.statemachine import TransitionTable


class AftersalesStatus(StrEnum):
    requested = "requested"  # the shopper asked; waiting for the shop's decision
    approved = "approved"  # the shop (or the platform, on a dispute) agreed
    rejected = "rejected"  # the shop refused, with a reason; the shopper may escalate or withdraw
    disputed = "disputed"  # escalated to the platform; waiting for an arbiter
    shipped_back = "shipped_back"  # the shopper sent the goods back (carrier + tracking number)
    received = "received"  # the warehouse received and graded the returned units
    refunding = "refunding"  # the refund was issued to the original payment; the provider has not confirmed
    refund_failed = "refund_failed"  # the provider refused the refund; staff may issue it again
    refunded = "refunded"  # the provider confirmed the refund
    replacement_shipped = "replacement_shipped"  # exchange: the replacement left the warehouse
    completed = "completed"  # done: refunded, or the replacement is on its way
    cancelled = "cancelled"  # withdrawn by the shopper before approval
    closed = "closed"  # a dispute decided for the shop


S = AftersalesStatus

REQUEST: TransitionTable[AftersalesStatus] = TransitionTable(
    "aftersales",
    {
        S.requested: frozenset({S.approved, S.rejected, S.cancelled}),
        S.rejected: frozenset({S.disputed, S.cancelled}),
        S.disputed: frozenset({S.approved, S.closed}),
        S.approved: frozenset({S.shipped_back, S.refunding, S.completed}),
        S.shipped_back: frozenset({S.received}),
        S.received: frozenset({S.refunding, S.replacement_shipped, S.completed}),
        S.refunding: frozenset({S.refunded, S.refund_failed}),
        S.refund_failed: frozenset({S.refunding}),
        S.refunded: frozenset({S.completed}),
        S.replacement_shipped: frozenset({S.completed}),
    },
)

#: Statuses in which the shop (or the platform) owes the shopper an answer to their last action;
#: the time from that action to the answer is the response time of the resolution report.
WAITING_ON_SHOP = frozenset({S.requested, S.shipped_back, S.disputed})

#: Statuses that no longer hold the line's units (a new request may claim them again).
RELEASED = frozenset({S.cancelled, S.closed})

#: Terminal statuses (``closed_at`` is set when a request reaches one).
FINAL = frozenset({S.completed, S.cancelled, S.closed})
