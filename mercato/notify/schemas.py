"""Notification schemas: message kinds, channels, delivery statuses and the read models."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from mercato.core.schemas import IdInt, InputModel, MultilineText, ReadModel


class MessageKind(StrEnum):
    """What a message tells the shopper; each kind has a template per language."""

    order_paid = "order_paid"  # the order's payment was captured
    order_shipped = "order_shipped"  # a sub-order (parcel) left its warehouse; ``fully`` when the last
    order_delivered = "order_delivered"  # every parcel arrived
    pickup_ready = "pickup_ready"  # a store-pickup order can be collected with its pickup code
    refund_succeeded = "refund_succeeded"  # a refund went back through the original payment
    aftersales_decided = "aftersales_decided"  # the shop (or the platform) decided an after-sales request
    coupon_expiring = "coupon_expiring"  # a coupon in the wallet expires within 24 hours (promotions)
    flash_sale_starting = "flash_sale_starting"  # a flash sale the shopper asked about starts (social)
    group_complete = "group_complete"  # the shopper's group (拼团) is complete: the order will ship (social)
    group_failed = "group_failed"  # the shopper's group ran out of time: refunded in full (social)


class AccountEmailKind(StrEnum):
    """An email about the account itself, sent for identity and kept out of the in-app inbox."""

    register_code = "register_code"  # the code that proves an address before signing up with it
    reset_code = "reset_code"  # the code that sets a new password
    account_exists = "account_exists"  # a sign-up was tried with an address that has an account


class Channel(StrEnum):
    """Where a message goes besides the in-app inbox (the inbox row itself is the message)."""

    email = "email"  # SMTP, or the log with the console transport


class DeliveryStatus(StrEnum):
    """Where one outgoing email is (see states.py)."""

    pending = "pending"  # waiting to be sent (first time, or again after a transient failure)
    sending = "sending"  # claimed by one worker until ``claimed_until``; nobody else sends it
    sent = "sent"  # the server accepted it: never sent again
    failed = "failed"  # given up: refused for good, or out of attempts (staff may retry it)


class MessageRead(ReadModel):
    """One in-app message, as its customer sees it."""

    id: int
    kind: MessageKind
    title: str
    body: str
    link: str | None  # what it is about, e.g. "order:42" or "aftersales:7"
    locale: str  # the language it was written in
    created_at: dt.datetime
    read_at: dt.datetime | None


class UnreadCount(ReadModel):
    unread: int


class MarkAllRead(InputModel):
    """Mark every unread message read, or only those up to ``up_to_id`` (the newest one shown)."""

    up_to_id: IdInt | None = None


class MarkedRead(ReadModel):
    marked: int  # how many messages this call marked read


class DeliveryRead(ReadModel):
    """One outgoing email, for staff: the recipient is masked (personal data)."""

    id: int
    message_id: int | None  # None for an account email (a code), which has no in-app message
    customer_id: int | None  # None for a sign-up code: the address has no account yet
    channel: Channel
    recipient: str  # masked, e.g. a***@example.com
    subject: str
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime
    sent_at: dt.datetime | None
    last_error: str
    created_at: dt.datetime


class DeliveryStatusChangeRead(ReadModel):
    from_status: DeliveryStatus | None  # None for the row's creation
    to_status: DeliveryStatus
    actor: str
    reason: str
    created_at: dt.datetime


class RetryDelivery(InputModel):
    reason: Annotated[MultilineText, Field(min_length=1, max_length=300)]


class TemplatePreview(ReadModel):
    """A notification template rendered with sample data (the console's settings preview)."""

    kind: str  # a MessageKind or an AccountEmailKind
    locale: str
    in_app: bool  # also an in-app message (account emails are email only)
    title: str
    body: str
    subject: str  # the email's subject
    text: str  # the email's plain-text part
