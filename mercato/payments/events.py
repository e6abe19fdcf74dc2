"""Public payments events (written to the outbox in the transaction of the change)."""

from __future__ import annotations

from dataclasses import dataclass

from mercato.core.events import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PaymentCaptured(DomainEvent):
    """The provider confirmed the full amount: the payable (``reference``) is paid."""

    name = "payments.payment_captured.v1"
    payment_id: int
    reference: str
    amount: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class PaymentFailed(DomainEvent):
    """The provider reported the payment failed; the payable may be paid again."""

    name = "payments.payment_failed.v1"
    payment_id: int
    reference: str


@dataclass(frozen=True, kw_only=True)
class PaymentClosed(DomainEvent):
    """A pending payment was closed (timed out, or closed by the provider)."""

    name = "payments.payment_closed.v1"
    payment_id: int
    reference: str
    reason: str


@dataclass(frozen=True, kw_only=True)
class PaymentRefunded(DomainEvent):
    """The provider confirmed a refund; ``refunded_total`` is every succeeded refund so far."""

    name = "payments.payment_refunded.v1"
    payment_id: int
    refund_id: int
    reference: str
    amount: int
    currency: str
    refunded_total: int
    is_full: bool


@dataclass(frozen=True, kw_only=True)
class PaymentNeedsReview(DomainEvent):
    """Something about a payment needs a person (money for a closed payment, wrong amount)."""

    name = "payments.payment_needs_review.v1"
    payment_id: int
    reference: str
    reason: str
