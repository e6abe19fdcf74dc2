"""The payment provider interface every gateway client implements.

Every method except ``parse_notification`` may talk to the gateway over the network, so the
services call them only outside a database transaction (after the commit that prepared the
step, before the short transaction that records the answer).

Refunds may finish later than the call that asked for them (WeChat Pay answers
``PROCESSING``, Stripe ``pending``): ``refund`` then returns ``RefundResult.pending_refund(id)``; the
refund keeps its claim on the payment, and it is completed exactly once by whichever comes
first: a refund notification (``parse_notification`` returning a ``RefundNotification``) or the
``payments-resume-refunds`` job asking again (``RefundQuerying.query_refund`` when the provider
has it, else ``refund`` once more, which is idempotent per refund id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from mercato.payments.errors import InvalidSignature, ProviderUnavailable

__all__ = [
    "CloseResult",
    "InvalidSignature",
    "Notification",
    "PaymentToCreate",
    "Provider",
    "ProviderCreated",
    "ProviderUnavailable",
    "RefundNotification",
    "RefundQuerying",
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
    #: How the customer pays, for gateways with several ways (WeChat Pay: ``native`` QR code,
    #: ``jsapi`` inside WeChat, ``h5`` in a mobile browser); empty: the provider's default.
    channel: str = ""
    payer_openid: str = ""  # WeChat JSAPI: the payer's openid under our appid
    client_ip: str = ""  # WeChat H5: the customer's IP address
    description: str = ""  # shown to the customer by the gateway; empty: derived from ``reference``


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
    """What the gateway said about a refund: succeeded, failed, or accepted and still ``pending``.

    ``pending`` refunds keep their claim on the payment until a refund notification or a later
    query settles them. Build them with ``RefundResult.pending_refund(provider_refund_id)``.
    """

    succeeded: bool
    provider_refund_id: str | None = None
    failure_reason: str = ""
    pending: bool = False  # accepted by the gateway, not finished yet (never with ``succeeded``)

    def __post_init__(self) -> None:
        if self.succeeded and self.pending:
            raise ValueError("a refund result is either succeeded or pending, not both")

    @classmethod
    def pending_refund(cls, provider_refund_id: str | None) -> RefundResult:
        return cls(succeeded=False, provider_refund_id=provider_refund_id, pending=True)


@dataclass(frozen=True)
class RefundNotification:
    """One verified message from the gateway about a refund (WeChat ``REFUND.*``, Stripe).

    ``refund_id`` is our refund id as the gateway echoes it (the merchant refund number);
    ``result`` is what happened to it (succeeded, failed, or still pending, e.g. abnormal);
    ``amount`` is the refunded amount the gateway reports, checked against ours.
    ``provider_txn_id`` identifies the notification event, as for ``Notification``.
    ``merchant_payment_id`` is our payment id as the gateway echoes it, when it does; it must
    name the refund's payment. A non-empty ``review_reason`` flags the payment for a person (a
    refund the gateway could not finish on its own, e.g. the card it goes back to was closed).
    """

    provider_txn_id: str
    refund_id: int
    result: RefundResult
    amount: int
    currency: str
    raw: dict[str, Any]
    merchant_payment_id: str | None = None
    review_reason: str = ""


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

    def parse_notification(
        self, headers: Mapping[str, str], body: bytes
    ) -> Notification | RefundNotification:
        """Verify and read one notification; raises ``InvalidSignature`` (no network)."""
        ...

    async def query(self, provider_payment_id: str) -> Notification:
        """Ask the gateway for the trade's current status."""
        ...

    async def refund(self, provider_payment_id: str, refund_id: int, amount: int) -> RefundResult:
        """Give ``amount`` back (idempotent per ``refund_id``, the merchant's refund number).

        Asked again for the same ``refund_id``, it reports how that refund stands.
        """
        ...

    async def close(self, provider_payment_id: str) -> CloseResult:
        """Close an unpaid trade so it can no longer be paid."""
        ...


@runtime_checkable
class RefundQuerying(Protocol):
    """Optional: a provider that can look up a refund it accepted without asking for it again.

    The ``payments-resume-refunds`` job uses it for refunds left ``pending`` by the gateway.
    """

    async def query_refund(self, provider_payment_id: str, refund_id: int) -> RefundResult:
        """How the refund ``refund_id`` of the trade stands now (pending, succeeded or failed)."""
        ...
