"""Payments errors (stable codes ``payments.*``).

Hierarchy (see ``mercato.core.errors``)::

    DomainError (400)
    ├── InvalidSignature              payments.invalid_signature     a notification failed its check
    ├── NotificationForUnknownPayment payments.unknown_payment       no payment for that trade id
    ├── InvalidNotification           payments.invalid_notification  malformed notification body
    ├── NotFound (404)
    │   ├── PaymentNotFound           payments.payment_not_found
    │   ├── RefundNotFound            payments.refund_not_found
    │   └── SandboxTradeNotFound      payments.sandbox_trade_not_found
    ├── InvalidInput (422)
    │   └── UnknownProvider           payments.unknown_provider
    ├── Conflict (409)
    │   ├── IllegalTransition         payments.illegal_transition
    │   ├── ReferenceAlreadyPaid      payments.reference_already_paid
    │   ├── PendingPaymentDiffers     payments.pending_payment_differs
    │   ├── PaymentRace               payments.payment_in_progress
    │   ├── NotRefundable             payments.not_refundable
    │   ├── RefundExceedsPayment      payments.refund_exceeds_payment
    │   └── SandboxTradeNotPayable    payments.sandbox_trade_not_payable
    └── Unavailable (503)
        └── ProviderUnavailable       payments.provider_unavailable
"""

from __future__ import annotations

from mercato.core.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable


class InvalidSignature(DomainError):
    """A notification whose signature, timestamp or headers do not check out (400; no change)."""

    code = "payments.invalid_signature"
    message = "The notification signature is not valid."


class InvalidNotification(DomainError):
    code = "payments.invalid_notification"
    message = "The notification is not valid."


class NotificationForUnknownPayment(DomainError):
    code = "payments.unknown_payment"
    message = "The notification is for an unknown payment."


class PaymentNotFound(NotFound):
    code = "payments.payment_not_found"
    message = "Payment not found."


class RefundNotFound(NotFound):
    code = "payments.refund_not_found"
    message = "Refund not found."


class SandboxTradeNotFound(NotFound):
    code = "payments.sandbox_trade_not_found"
    message = "This sandbox payment does not exist."


class UnknownProvider(InvalidInput):
    code = "payments.unknown_provider"
    message = "The payment provider {provider} is not enabled."


class ReferenceAlreadyPaid(Conflict):
    code = "payments.reference_already_paid"
    message = "This has already been paid."


class PendingPaymentDiffers(Conflict):
    """A pending payment for the reference exists with another amount or currency, or paid
    another way (WeChat Pay: the QR code, or JSAPI as another payer)."""

    code = "payments.pending_payment_differs"
    message = "A pending payment for this reference has a different amount."


class PaymentRace(Conflict):
    """The pending payment of a reference changed while another request created one; retry."""

    code = "payments.payment_in_progress"
    message = "A payment for this is being created by another request; try again."


class NotRefundable(Conflict):
    code = "payments.not_refundable"
    message = "Only a paid payment can be refunded."


class RefundExceedsPayment(Conflict):
    code = "payments.refund_exceeds_payment"
    message = "The refund exceeds the amount still refundable ({refundable})."


class SandboxTradeNotPayable(Conflict):
    code = "payments.sandbox_trade_not_payable"
    message = "This sandbox payment can no longer be paid."


class ProviderUnavailable(Unavailable):
    code = "payments.provider_unavailable"
    message = "The payment provider is not answering. Try again shortly."
