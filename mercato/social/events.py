"""Public social events (written to the outbox in the transaction of the change)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class FlashSaleStarting(DomainEvent):
    """A flash-sale session a customer asked to be reminded of starts within a minute: notify
    tells them (once per customer and session)."""

    name = "social.flash_sale_starting.v1"
    customer_id: int
    session_id: int
    session_name: str
    starts_at: str  # ISO 8601, UTC (event payloads are JSON)


@dataclass(frozen=True, kw_only=True)
class GroupCompleted(DomainEvent):
    """A group (拼团) is complete: its members' orders ship together (notify tells them)."""

    name = "social.group_completed.v1"
    group_id: int
    offer_id: int
    customer_ids: list[int]


@dataclass(frozen=True, kw_only=True)
class GroupFailed(DomainEvent):
    """A group's time ran out before it was full: every paying member was refunded in full
    (notify tells them; the refund itself is told by ``payments.payment_refunded``)."""

    name = "social.group_failed.v1"
    group_id: int
    offer_id: int
    customer_ids: list[int]
