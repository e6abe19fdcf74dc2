"""Public payments DTOs and inputs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field

from mercato.core.schemas import InputModel, MultilineText, ReadModel

Reference = Annotated[str, Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:\-]+$")]
Amount = Annotated[int, Field(ge=1, le=10**12)]  # minor units
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]


class PaymentStatus(StrEnum):
    pending = "pending"  # created; waiting for the customer to pay at the provider
    paid = "paid"  # the provider confirmed the money with the expected amount and currency
    failed = "failed"  # the provider reported the payment failed
    # not paid in time, or given up (its order cancelled): closed at the provider first, or right
    # after the commit that closed it here; money that still arrives is captured and refunded
    closed = "closed"
    partially_refunded = "partially_refunded"  # paid, and some of it given back
    refunded = "refunded"  # paid, and all of it given back


class RefundStatus(StrEnum):
    pending = "pending"  # claimed in our database; the provider has not confirmed yet
    succeeded = "succeeded"  # the provider confirmed the refund
    failed = "failed"  # the provider refused; the amount is refundable again


class NotificationOutcome(StrEnum):
    """What one provider notification (or query answer) did."""

    duplicate = "duplicate"  # the same notification event was applied before: nothing done
    captured = "captured"  # the payment became paid
    failed = "failed"  # the payment became failed
    closed = "closed"  # the payment became closed (the provider closed the trade)
    ignored = "ignored"  # nothing to do: a late "pending" or a state we already hold
    amount_mismatch = "amount_mismatch"  # amount or currency differ: flagged, not paid
    # money for a closed payment: captured and refunded at once; for a failed one: flagged
    paid_after_close = "paid_after_close"
    refund_succeeded = "refund_succeeded"  # a pending refund was completed by the gateway
    refund_failed = "refund_failed"  # a pending refund failed at the gateway: its claim given back
    refund_pending = "refund_pending"  # the gateway reports the refund is still not finished


class PaymentRead(ReadModel):
    id: int
    reference: str
    customer_id: int | None
    provider: str
    provider_payment_id: str | None
    amount: int
    currency: str
    status: PaymentStatus
    pay_url: str | None  # where to send the customer; set once the provider created the payment
    client_data: dict[str, Any]
    refunded_amount: int  # every refund claimed, pending or succeeded
    needs_review: bool
    review_reason: str
    expires_at: dt.datetime
    created_at: dt.datetime
    updated_at: dt.datetime
    captured_at: dt.datetime | None
    closed_at: dt.datetime | None


class PaymentStatusChangeRead(ReadModel):
    from_status: PaymentStatus
    to_status: PaymentStatus
    actor: str
    reason: str
    at: dt.datetime


class RefundCreate(InputModel):
    amount: Amount
    reason: Annotated[MultilineText, Field(min_length=1, max_length=200)]


class RefundRead(ReadModel):
    id: int
    payment_id: int
    provider: str
    amount: int
    currency: str
    reason: str
    status: RefundStatus
    provider_refund_id: str | None
    failure_reason: str
    actor: str
    created_at: dt.datetime
    completed_at: dt.datetime | None


class NotificationResult(ReadModel):
    """What ``handle_notification`` did with one provider notification."""

    payment_id: int
    provider_txn_id: str
    outcome: NotificationOutcome


class NotificationRead(ReadModel):
    provider: str
    provider_txn_id: str
    payment_id: int
    source: str
    status: str
    amount: int
    currency: str
    outcome: NotificationOutcome
    received_at: dt.datetime


class SandboxOutcome(StrEnum):
    pay = "pay"  # the customer pays
    fail = "fail"  # the payment fails at the gateway


class SandboxPay(InputModel):
    """The buttons and test options of the sandbox gateway's pay page."""

    outcome: SandboxOutcome
    delay_seconds: Annotated[int, Field(ge=0, le=60)] = 0  # wait before notifying
    duplicate: bool = False  # send the notification twice
    out_of_order: bool = False  # then send an older "pending" notification
    amount: Annotated[int | None, Field(ge=1, le=10**12)] = None  # pay a different amount


class SandboxCheckout(ReadModel):
    """The sandbox gateway's view of one trade (its pay page)."""

    trade_id: str
    reference: str
    amount: int
    currency: str
    status: str  # awaiting, paid, failed, closed
    expires_at: dt.datetime
    is_payable: bool
