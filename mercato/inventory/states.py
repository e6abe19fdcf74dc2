"""Reservation statuses: a hold ends exactly once, by release, expiry or shipment."""

from __future__ import annotations

from mercato.core.statemachine import TransitionTable
from mercato.inventory.schemas import ReservationStatus as S

RESERVATION = TransitionTable(
    "inventory",
    {S.active: frozenset({S.released, S.expired, S.consumed})},
)


def sources(target: S) -> list[str]:
    """The statuses a reservation may move to ``target`` from (for conditional UPDATEs)."""
    return [str(state) for state, targets in RESERVATION.edges.items() if target in targets]
