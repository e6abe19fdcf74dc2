"""Shipment tracking statuses and pickup-code statuses, with their transition tables; only the
named actions in service/ move them (one conditional UPDATE each, plus a history row)."""

from __future__ import annotations

from enum import StrEnum

from mercato.core.statemachine import TransitionTable


class TrackingStatus(StrEnum):
    """Where a parcel is, as the carrier reports it (Kuaidi100's main states in brackets)."""

    shipped = "shipped"  # handed to the carrier; no tracking yet
    collected = "collected"  # 揽收 (1): the courier picked it up
    in_transit = "in_transit"  # 在途 (0), 转投 (7), 清关 (8, 10-12): on its way
    out_for_delivery = "out_for_delivery"  # 派件 (5): with the courier for delivery
    exception = "exception"  # 疑难 (2), 清关异常 (13): stuck, needs attention
    refused = "refused"  # 拒签 (14): the recipient refused it
    returning = "returning"  # 退回 (6): on its way back to the shop
    returned = "returned"  # 退签 (4): signed for by the sender after a return (final)
    delivered = "delivered"  # 签收 (3): signed for (final); the sub-order is delivered


FINAL = frozenset({TrackingStatus.delivered, TrackingStatus.returned})
_ACTIVE = [s for s in TrackingStatus if s not in FINAL]

# A carrier may report any status after any other while the parcel travels (a problem resolves,
# a delivery attempt fails); a signed-for or returned parcel moves no more.
SHIPMENT: TransitionTable[TrackingStatus] = TransitionTable(
    "fulfillment.shipment",
    {status: frozenset(s for s in TrackingStatus if s is not status) for status in _ACTIVE},
)


class PickupStatus(StrEnum):
    open = "open"  # issued to the shopper, waiting at the store
    verified = "verified"  # checked at the store; the order is completed (final)
    cancelled = "cancelled"  # the order was closed before pickup (final)


PICKUP: TransitionTable[PickupStatus] = TransitionTable(
    "fulfillment.pickup",
    {PickupStatus.open: frozenset({PickupStatus.verified, PickupStatus.cancelled})},
)


class ExportStatus(StrEnum):
    """Where an order export is (a job claims a queued one with one conditional UPDATE)."""

    queued = "queued"  # waiting for the job
    running = "running"  # the job is writing it; rows_done of rows_total
    done = "done"  # the file is stored until expires_at (final)
    failed = "failed"  # the job gave up; error says why (final)
