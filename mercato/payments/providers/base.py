"""The payment provider interface every gateway client implements.

Every method except ``parse_notification`` may talk to the gateway over the network, so the
services call them only outside a database transaction (after the commit that prepared the
step, before the short transaction that records the answer).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from mercato.payments.errors import InvalidSignature, ProviderUnavailable

__all__ = [
    "CloseResult",
    "InvalidSignature",
    "Notification",
    "PaymentToCreate",
    "Provider",
    "ProviderCreated",
    "ProviderUnavailable",
    "RefundResult",
]


@dataclass(frozen=True)
class PaymentToCreate:
    """What a provider needs to open a payment (our payment id is the merchant's trade number)."""

    payment_id: int
    reference: str
    amount: int
    currency: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class ProviderCreated:
    provider_payment_id: str  # the gateway's trade id
    pay_url: str  # where the customer pays (a page, or the content of a QR code)
    client_data: dict[str, Any] = field(default_factory=dict)  # e.g. parameters for an app SDK


@dataclass(frozen=True)
class Notification:
    """One verified message from the gateway about a trade (a notification or a query answer).

    ``provider_txn_id`` identifies the notification *event*: the same on a resend or a replay,
    different for a later status of the same trade. ``status`` is ``paid``, ``pending``,
    ``failed`` or ``closed``. ``merchant_payment_id`` is our payment id as the gateway echoes it
    (Alipay's and WeChat's ``out_trade_no``); when given it must name the payment the trade
    belongs to, or the message is refused.
    """

    provider_txn_id: str
    provider_payment_id: str
    status: str
    amount: int
    currency: str
    raw: dict[str, Any]
    merchant_payment_id: str | None = None


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    provider_refund_id: str | None = None
    failure_reason: str = ""


@dataclass(frozen=True)
class CloseResult:
    """``closed`` is False when the gateway refused because the trade was already paid."""

    closed: bool
    already_paid: bool = False


class Provider(Protocol):
    """A payment gateway client.

    Raises (every method that reaches the gateway):
        ProviderUnavailable: the gateway could not be reached or answered with an error.
    """

    name: str

    async def create(self, payment: PaymentToCreate) -> ProviderCreated:
        """Open the trade at the gateway (idempotent per ``payment.payment_id``)."""
        ...

    def parse_notification(self, headers: Mapping[str, str], body: bytes) -> Notification:
        """Verify and read one notification; raises ``InvalidSignature`` (no network)."""
        ...

    async def query(self, provider_payment_id: str) -> Notification:
        """Ask the gateway for the trade's current status."""
        ...

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        """Give ``amount`` back (idempotent per ``refund_id``, the merchant's refund number)."""
        ...

    async def close(self, provider_payment_id: str) -> CloseResult:
        """Close an unpaid trade so it can no longer be paid."""
        ...
