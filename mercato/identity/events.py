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


@dataclass(frozen=True, kw_only=True)
class EmailCodeIssued(DomainEvent):
    """A verification code was made for an email address; notify emails it.

    The event carries the code itself (the database keeps only its HMAC) because identity cannot
    send email: the code is single-use and dies ``expires_minutes`` after the event, long before
    the outbox row is of use to anyone reading the database.
    """

    name = "identity.email_code_issued.v1"
    email: str
    purpose: str  # register | reset_password
    code: str
    expires_minutes: int
    locale: str  # the language of the request that asked for it
    customer_id: int | None  # the account a reset code is for; None for a sign-up


@dataclass(frozen=True, kw_only=True)
class ExistingAccountSignUpAttempted(DomainEvent):
    """Someone asked for a sign-up code for an email address that already has an account: no code
    is sent; notify emails the owner "you already have an account — sign in or reset your
    password" instead, so the caller learns nothing and the owner learns everything."""

    name = "identity.existing_account_sign_up_attempted.v1"
    customer_id: int
    email: str
    locale: str
