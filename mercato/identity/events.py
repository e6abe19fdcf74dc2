"""Public identity events."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class CustomerRegistered(DomainEvent):
    """A shopper created an account (consent to the privacy policy is recorded)."""

    name = "identity.customer_registered.v1"
    customer_id: int
    channel: str  # phone | email


@dataclass(frozen=True, kw_only=True)
class CustomerDeleted(DomainEvent):
    """A shopper's personal data was erased; every domain erases what it holds about them."""

    name = "identity.customer_deleted.v1"
    customer_id: int
